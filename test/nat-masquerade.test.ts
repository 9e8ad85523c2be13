// Masquerade in nlkit's nftables table, proven with real traffic: a container behind a bridge in
// a "host" namespace connects to a server in an "outside" namespace that has no route back to the
// container subnet. Without the rule the connection cannot complete; with it the server sees the
// host's uplink address; after removal it fails again.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addMasquerade,
  configure,
  flushNat,
  listNat,
  removeMasquerade,
} from '../lib/index';
import { expectInvalidArgument } from './helpers/expect';
import { native } from '../lib/native';
import { toNative } from '../lib/netns';
import { namer } from './helpers/names';
import { natTopology } from './helpers/nat-topology';
import { ask, serve } from './helpers/traffic';
import { udpExchange } from './helpers/udp';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qnm');
const res = new Resources(names);
afterEach(async () => {
  configure({ natTable: 'nlkit' });
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

interface NftRuleset {
  nftables: Record<string, { family?: string; name?: string; table?: string; chain?: string; comment?: string; handle?: number; expr?: unknown[] }>[];
}
/** `nft -j list ruleset` inside a named namespace: the independent witness of what the kernel holds. */
function nftRuleset(ns: string): NftRuleset {
  return JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' })) as NftRuleset;
}
function nftRules(ns: string, table = 'nlkit'): { chain: string; comment?: string; handle: number; expr: unknown[] }[] {
  return nftRuleset(ns)
    .nftables.filter((e) => e.rule?.table === table)
    .map((e) => e.rule as { chain: string; comment?: string; handle: number; expr: unknown[] });
}

describe('addMasquerade', () => {
  it('IPv4: the outside sees the host uplink address only while the rule exists', async () => {
    const t = await natTopology(res);
    const server = await serve(t.outside, '192.0.2.1', (remote) => remote);
    try {
      expect(await ask(t.container, '192.0.2.1', server.port)).toBe('timeout');
      const r = await addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', netns: t.host });
      expect(r.added).toBe(true);
      expect(await ask(t.container, '192.0.2.1', server.port)).toBe('192.0.2.2');
      // The masquerade rule and its hairpin companion.
      expect(await removeMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', netns: t.host })).toEqual({ removed: 2 });
      expect(await ask(t.container, '192.0.2.1', server.port)).toBe('timeout');
    } finally {
      await server.close();
    }
  });

  it('UDP: the outside sees the host uplink address, and the answer finds its way back', async () => {
    const t = await natTopology(res);
    // Without the rule the datagram arrives from the container's private address, and the answer
    // has no route back.
    expect(await udpExchange(t.outside, '192.0.2.1', 9999, t.container, '192.0.2.1', 9999)).toEqual({
      serverSawFrom: '10.88.0.2',
      clientGot: '',
    });
    await addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', netns: t.host });
    expect(await udpExchange(t.outside, '192.0.2.1', 9998, t.container, '192.0.2.1', 9998)).toEqual({
      serverSawFrom: '192.0.2.2',
      clientGot: 'probe from 192.0.2.2',
    });
    await addMasquerade({ source: 'fd00::/64', excludeInterface: 'br0', netns: t.host });
    expect((await udpExchange(t.outside, '2001:db8::1', 9997, t.container, '2001:db8::1', 9997)).serverSawFrom).toBe('2001:db8::2');
  });

  it('IPv6: the same with fd00::/64 behind 2001:db8::2', async () => {
    const t = await natTopology(res);
    const server = await serve(t.outside, '2001:db8::1', (remote) => remote);
    try {
      expect(await ask(t.container, '2001:db8::1', server.port)).toBe('timeout');
      await addMasquerade({ source: 'fd00::/64', excludeInterface: 'br0', netns: t.host });
      expect(await ask(t.container, '2001:db8::1', server.port)).toBe('2001:db8::2');
      await removeMasquerade({ source: 'fd00::/64', excludeInterface: 'br0', netns: t.host });
      expect(await ask(t.container, '2001:db8::1', server.port)).toBe('timeout');
    } finally {
      await server.close();
    }
  });

  it('outInterface restricts the rule to one exit, and traffic through it is masqueraded', async () => {
    const t = await natTopology(res);
    const server = await serve(t.outside, '192.0.2.1', (remote) => remote);
    try {
      await addMasquerade({ source: '10.88.0.0/16', outInterface: 'br0', netns: t.host });
      expect(await ask(t.container, '192.0.2.1', server.port)).toBe('timeout');
      await addMasquerade({ source: '10.88.0.0/16', outInterface: 'up0', netns: t.host });
      expect(await ask(t.container, '192.0.2.1', server.port)).toBe('192.0.2.2');
    } finally {
      await server.close();
    }
  });

  it('is idempotent, also under concurrent adds; removing a missing rule succeeds', async () => {
    const host = await res.netns('idem');
    const spec = { source: '172.17.0.0/16', excludeInterface: 'docker0', netns: host };
    const results = await Promise.all(Array.from({ length: 8 }, () => addMasquerade(spec)));
    expect(results.filter((r) => r.added)).toHaveLength(1);
    // Every call names the same rule: the handle the kernel echoed for the new one.
    const masqRule = (await listNat({ netns: host })).find((r) => r.kind === 'masquerade');
    expect(new Set(results.map((r) => r.handle))).toEqual(new Set([masqRule?.handle]));
    expect(masqRule?.handle).toBeGreaterThan(0);
    // One masquerade rule and its hairpin companion, however often it was asked for.
    expect((await listNat({ netns: host })).map((r) => r.kind).sort()).toEqual(['hairpin', 'masquerade']);
    expect(nftRules(host.name)).toHaveLength(2);
    // Different specs added at once all land (generation-guarded batches retried on ERESTART).
    await Promise.all(Array.from({ length: 12 }, (_, i) => addMasquerade({ source: `10.${i}.0.0/16`, hairpin: false, netns: host })));
    expect((await listNat({ netns: host })).filter((r) => r.kind === 'masquerade')).toHaveLength(13);
    expect(await removeMasquerade(spec)).toEqual({ removed: 2 });
    expect(await removeMasquerade(spec)).toEqual({ removed: 0 });
    expect(nftRules(host.name)).toHaveLength(12);
  });

  it('a /0 source gets no hairpin rule (it would masquerade every published-port connection); asking for one is refused', async () => {
    const host = await res.netns('all');
    await expectInvalidArgument(() => addMasquerade({ source: '0.0.0.0/0', hairpin: true, netns: host }), /^hairpin$/u);
    await addMasquerade({ source: '0.0.0.0/0', outInterface: 'eth0', netns: host });
    await addMasquerade({ source: '::/0', outInterface: 'eth0', netns: host });
    expect((await listNat({ netns: host })).map((r) => r.kind)).toEqual(['masquerade', 'masquerade']);
    expect(await removeMasquerade({ source: '0.0.0.0/0', outInterface: 'eth0', netns: host })).toEqual({ removed: 1 });
  });

  it('masquerades of one subnet share its hairpin rule: it goes with the last of them', async () => {
    const host = await res.netns('share');
    const viaEth0 = { source: '172.18.0.0/16', outInterface: 'eth0', netns: host };
    const notBr1 = { source: '172.18.0.0/16', excludeInterface: 'br1', netns: host };
    const other = { source: '172.19.0.0/16', netns: host };
    await addMasquerade(viaEth0);
    await addMasquerade(notBr1);
    await addMasquerade(other);
    const hairpins = async () => (await listNat({ netns: host })).filter((r) => r.kind === 'hairpin').map((r) => r.source).sort();
    expect(await hairpins()).toEqual(['172.18.0.0/16', '172.19.0.0/16']);
    // The first removed leaves the hairpin the second still needs.
    expect(await removeMasquerade(viaEth0)).toEqual({ removed: 1 });
    expect(await hairpins()).toEqual(['172.18.0.0/16', '172.19.0.0/16']);
    expect(await removeMasquerade(notBr1)).toEqual({ removed: 2 });
    expect(await hairpins()).toEqual(['172.19.0.0/16']);
    expect(nftRules(host.name).map((r) => r.comment).sort()).toEqual([
      'nlkit hairpin saddr 172.19.0.0/16 daddr 172.19.0.0/16',
      'nlkit masquerade saddr 172.19.0.0/16',
    ]);
  });

  it('nft lists the table, its base chains and readable rules with comments', async () => {
    const host = await res.netns('nft');
    await addMasquerade({ source: '172.17.0.0/16', excludeInterface: 'docker0', netns: host });
    await addMasquerade({ source: '10.90.0.0/20', outInterface: 'eth0', hairpin: false, netns: host });
    const ruleset = nftRuleset(host.name).nftables;
    expect(ruleset).toContainEqual({ table: expect.objectContaining({ family: 'inet', name: 'nlkit' }) });
    const chains = ruleset.filter((e) => e.chain?.table === 'nlkit').map((e) => e.chain);
    expect(chains).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100 }),
        expect.objectContaining({ name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100 }),
        expect.objectContaining({ name: 'output', type: 'nat', hook: 'output', prio: -100 }),
        expect.objectContaining({ name: 'forward', type: 'filter', hook: 'forward', prio: 0 }),
      ]),
    );
    const rules = nftRules(host.name);
    expect(rules.map((r) => r.comment)).toEqual([
      'nlkit masquerade saddr 172.17.0.0/16 oifname != docker0',
      'nlkit hairpin saddr 172.17.0.0/16 daddr 172.17.0.0/16',
      'nlkit masquerade saddr 10.90.0.0/20 oifname eth0',
    ]);
    // nft decodes every expression back into its own syntax: ip saddr PREFIX, oifname, masquerade.
    const text = JSON.stringify(rules.map((r) => r.expr));
    expect(text).toContain('{"prefix":{"addr":"172.17.0.0","len":16}}');
    expect(text).toContain('{"prefix":{"addr":"10.90.0.0","len":20}}');
    expect(text).toContain('"op":"!="');
    expect(text).toContain('"masquerade"');
    expect(text).toContain('{"ct":{"key":"status"}}'); // the hairpin rule: ct status dnat ...
    const listed = await listNat({ netns: host });
    expect(listed.map((r) => r.handle).sort()).toEqual(rules.map((r) => r.handle).sort());
    expect(listed[0]).toMatchObject({ kind: 'masquerade', source: '172.17.0.0/16', excludeInterface: 'docker0' });
    expect(listed[1]).toMatchObject({ kind: 'hairpin', source: '172.17.0.0/16' });
    expect(listed[2]).toMatchObject({ kind: 'masquerade', source: '10.90.0.0/20', outInterface: 'eth0' });
  });
});

describe('flushNat and the table nlkit owns', () => {
  it('removes only nlkit\'s table, and is fine when it is already gone', async () => {
    const host = await res.netns('fl');
    configure({ natTable: 'someone_else' });
    await addMasquerade({ source: '10.1.0.0/16', netns: host });
    configure({ natTable: 'nlkit' });
    await addMasquerade({ source: '10.2.0.0/16', netns: host });
    await flushNat({ netns: host });
    await flushNat({ netns: host });
    const tables = nftRuleset(host.name).nftables.filter((e) => e.table).map((e) => e.table?.name);
    expect(tables).toEqual(['someone_else']);
    expect(await listNat({ netns: host })).toEqual([]);
  });
});

describe('a batch the kernel refuses in its commit', () => {
  it('is reported refused, not accepted, and leaves the socket in step for the next call', async () => {
    // The kernel prepares every command, then its commit refuses the batch (an anonymous set no
    // rule uses). It answers with the error under the first command's sequence number and then
    // an ACK 0 for every command: read as "the last answer wins", the refused batch looked
    // accepted.
    const host = await res.netns('cr');
    const answers = await native.nftCommitRefusalProbe({ netns: toNative(host), table: 'probe' });
    // EINVAL, and named as the transaction's failure, not as the command whose number it came with.
    expect(answers[0]).toEqual({ errno: 22, step: 'commit the transaction' });
    // Nothing was applied.
    expect(nftRuleset(host.name).nftables.filter((e) => e.table)).toEqual([]);
    // The pooled socket carries no stale ACK into the next call on this handle.
    await addMasquerade({ source: '10.3.0.0/16', netns: host });
    expect(nftRules(host.name).length).toBeGreaterThan(0);
    expect(await listNat({ netns: host })).toHaveLength(2);
  });
});

describe('input checked before anything is sent', () => {
  it('rejects bad sources, interface names and options', async () => {
    const host = await res.netns('bad');
    await expectInvalidArgument(() => addMasquerade({ source: '10.88.0.0/33', netns: host }), /^source$/u);
    await expectInvalidArgument(() => addMasquerade({ source: '10.88.0.1/16', netns: host }), /^source$/u);
    await expectInvalidArgument(() => addMasquerade({ source: 'banana', netns: host }), /^source$/u);
    await expectInvalidArgument(() => addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'x'.repeat(16), netns: host }), /^excludeInterface$/u);
    await expectInvalidArgument(() => addMasquerade({ source: '10.88.0.0/16', outIface: 'eth0' } as never), /^outIface$/u);
    await expectInvalidArgument(() => removeMasquerade({ source: 'fd00::1/64', netns: host }), /^source$/u);
    expect(() => configure({ natTable: 'bad name' })).toThrow(/natTable/u);
    expect(nftRuleset(host.name).nftables.filter((e) => e.table)).toEqual([]);
  });
});
