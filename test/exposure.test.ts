// Exposure: nothing nlkit configures lets traffic in where the caller did not ask. Proven with
// real TCP between namespaces the test makes: isolated bridge ports, and the localnet guard that
// makes route_localnet safe (CVE-2020-8558), shown first to be needed (the attack works without it).
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addAddress,
  addLocalnetGuard,
  addMasquerade,
  addNetworkIsolation,
  addPortMapping,
  addRoute,
  attachContainer,
  createVethPair,
  ensureBridge,
  flushNat,
  listNat,
  listPortMappings,
  removeNetworkIsolation,
  setLink,
  setSysctl,
} from '../lib/index';
import { ipLinkOrThrow, slaveData } from './helpers/ip';
import { native } from '../lib/native';
import { toNative } from '../lib/netns';
import { namer } from './helpers/names';
import type { Ns } from './helpers/nat-topology';
import { expectNoLeftovers, Resources } from './helpers/resources';
import { ask, Servers } from './helpers/traffic';

const names = namer('qex');
const res = new Resources(names);
const servers = new Servers();
afterEach(async () => {
  await servers.closeAll();
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

const server = (netns: Ns, address: string, tag: string, port = 0): Promise<number> => servers.start(netns, address, tag, port);

/** A connection that got no answer: the SYN (or the ARP before it) went unanswered. */
const UNREACHED = ['timeout', 'EHOSTUNREACH'];

describe('attachContainer({ isolated: true })', () => {
  it('two isolated containers cannot reach each other; the gateway and a non-isolated one reach both', async () => {
    const host = await res.netns('h');
    const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host });
    const [c1, c2, c3] = [await res.netns('c1'), await res.netns('c2'), await res.netns('c3')];
    const attach = (netns: Ns, address: string, isolated: boolean) =>
      attachContainer({ netns, hostNetns: host, bridge: link.index, addresses: [`${address}/16`], gateway: '10.88.0.1', isolated });
    const a1 = await attach(c1, '10.88.0.2', true);
    await attach(c2, '10.88.0.3', true);
    const a3 = await attach(c3, '10.88.0.4', false);
    // What the kernel holds, as ip shows the bridge ports.
    expect(slaveData(ipLinkOrThrow(a1.host.name, host.name)).isolated).toBe(true);
    expect(slaveData(ipLinkOrThrow(a3.host.name, host.name)).isolated).toBe(false);

    const p1 = await server(c1, '10.88.0.2', 'c1');
    const p2 = await server(c2, '10.88.0.3', 'c2');
    const gw = await server(host, '10.88.0.1', 'gw');
    expect(UNREACHED).toContain(await ask(c1, '10.88.0.3', p2));
    expect(UNREACHED).toContain(await ask(c2, '10.88.0.2', p1));
    expect(await ask(c1, '10.88.0.1', gw)).toBe('gw');
    expect(await ask(c3, '10.88.0.2', p1)).toBe('c1');
    expect(await ask(c3, '10.88.0.3', p2)).toBe('c2');
    expect(await ask(host, '10.88.0.3', p2)).toBe('c2');
  });
});

describe('addNetworkIsolation: network-to-network isolation in the forward chain', () => {
  it('two isolated bridges cannot route to each other; each still reaches the host, until isolation ends', async () => {
    const host = await res.netns('h');
    const brA = (await ensureBridge({ name: 'brA', addresses: ['10.10.0.1/24'], netns: host })).link;
    const brB = (await ensureBridge({ name: 'brB', addresses: ['10.20.0.1/24'], netns: host })).link;
    const a = await res.netns('a');
    const b = await res.netns('b');
    await attachContainer({ netns: a, hostNetns: host, bridge: brA.index, addresses: ['10.10.0.2/24'], gateway: '10.10.0.1' });
    await attachContainer({ netns: b, hostNetns: host, bridge: brB.index, addresses: ['10.20.0.2/24'], gateway: '10.20.0.1' });
    const pa = await server(a, '10.10.0.2', 'a');
    const pb = await server(b, '10.20.0.2', 'b');
    const gwB = await server(host, '10.20.0.1', 'host');
    expect(await ask(a, '10.20.0.2', pb)).toBe('b'); // routed through the host

    expect(await addNetworkIsolation({ bridge: 'brA', netns: host })).toEqual({ added: true });
    expect(await ask(a, '10.20.0.2', pb)).toBe('b'); // one isolated network alone cuts nothing
    expect(await addNetworkIsolation({ bridge: 'brB', netns: host })).toEqual({ added: true });
    expect(await addNetworkIsolation({ bridge: 'brB', netns: host })).toEqual({ added: false });
    expect(UNREACHED).toContain(await ask(a, '10.20.0.2', pb));
    expect(UNREACHED).toContain(await ask(b, '10.10.0.2', pa));
    expect(await ask(a, '10.20.0.1', gwB)).toBe('host'); // the host's own addresses are not forwarded
    expect(await ask(host, '10.20.0.2', pb)).toBe('b');

    // What nft sees: the set of isolated bridges and one rule per bridge in nlkit's forward chain.
    const out = execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'chain', 'inet', 'nlkit', 'forward'], { encoding: 'utf8' });
    expect(out).toContain('iifname "brA" oifname != "brA" oifname @isolated_nets drop comment "nlkit isolate brA"');
    expect(out).toContain('iifname "brB" oifname != "brB" oifname @isolated_nets drop comment "nlkit isolate brB"');
    const set = execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'set', 'inet', 'nlkit', 'isolated_nets'], { encoding: 'utf8' });
    expect(set).toMatch(/elements = \{ "brA",\s*"brB" \}/u);

    expect(await removeNetworkIsolation({ bridge: 'brB', netns: host })).toEqual({ removed: true });
    expect(await removeNetworkIsolation({ bridge: 'brB', netns: host })).toEqual({ removed: false });
    expect(await ask(a, '10.20.0.2', pb)).toBe('b');
    expect(await ask(b, '10.10.0.2', pa)).toBe('a');
  });

  it("a rule and its bridge's set element that drifted apart (one deleted by hand) are put right by add and remove", async () => {
    const host = await res.netns('dr');
    const set = () => execFileSync('ip', ['netns', 'exec', host.name, 'nft', '-j', 'list', 'set', 'inet', 'nlkit', 'isolated_nets'], { encoding: 'utf8' });
    const elements = () => (JSON.parse(set()) as { nftables: { set?: { elem?: string[] } }[] }).nftables.flatMap((e) => e.set?.elem ?? []).sort();
    await addNetworkIsolation({ bridge: 'brA', netns: host });
    await addNetworkIsolation({ bridge: 'brB', netns: host });
    // brB's rule gone, its element left: removal takes the element (brA's rule would go on
    // dropping what is routed to brB).
    await native.nftDeleteRulesByComment({ netns: toNative(host), table: 'nlkit', comment: 'nlkit isolate brB' });
    expect(await removeNetworkIsolation({ bridge: 'brB', netns: host })).toEqual({ removed: true });
    expect(elements()).toEqual(['brA']);
    expect(await removeNetworkIsolation({ bridge: 'brB', netns: host })).toEqual({ removed: false });
    // brA's element gone, its rule left: add puts the element back (brB's rule would not drop
    // what is routed to brA).
    await native.nftDeleteIfnameElement({ netns: toNative(host), table: 'nlkit', set: 'isolated_nets', name: 'brA' });
    expect(elements()).toEqual([]);
    expect(await addNetworkIsolation({ bridge: 'brA', netns: host })).toEqual({ added: true });
    expect(elements()).toEqual(['brA']);
    expect(await addNetworkIsolation({ bridge: 'brA', netns: host })).toEqual({ added: false });
  });

  it('rejects a bad bridge name before anything is sent', async () => {
    const host = await res.netns('bad');
    await expect(addNetworkIsolation({ bridge: 'x'.repeat(16), netns: host })).rejects.toMatchObject({ code: 'ERR_NLKIT_INVALID_ARGUMENT', argument: 'bridge' });
    await expect(addNetworkIsolation({ bridge: 'br0', netns: host, extra: 1 } as never)).rejects.toMatchObject({ argument: 'extra' });
    expect(execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }).trim()).toBe('');
  });
});

describe('the localnet guard (CVE-2020-8558)', () => {
  /**
   * A host with br0 and a service bound to 127.0.0.1 only, and a "neighbour" on br0 set up as an
   * attacker on the same LAN would be: lo down (so 127/8 is not local to it), route_localnet on its
   * interface, and a route to 127.0.0.0/8 via the host.
   */
  async function hostAndNeighbour(bridge: { routeLocalnet?: boolean }) {
    const host = await res.netns('h');
    await setLink('lo', { up: true }, { netns: host });
    const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host, ...bridge });
    const secret = await server(host, '127.0.0.1', 'secret');
    const n = await res.netns('n');
    await createVethPair({ name: names.link('nb'), master: link.index, up: true, netns: host, peer: { name: 'eth0', netns: n } });
    await setLink('eth0', { up: true }, { netns: n });
    await addAddress('eth0', '10.88.0.9/16', { netns: n });
    await setSysctl(['net', 'ipv4', 'conf', 'eth0', 'route_localnet'], 1, { netns: n });
    await addRoute({ to: '127.0.0.0/8', via: '10.88.0.1', dev: 'eth0', netns: n });
    return { host, n, secret, bridgeIndex: link.index };
  }

  function guardRules(ns: string): { chain: string; comment?: string }[] {
    const out = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' });
    const json = JSON.parse(out) as { nftables: { rule?: { chain: string; comment?: string } }[] };
    return json.nftables.flatMap((e) => (e.rule && e.rule.comment?.includes('localnet guard') ? [e.rule] : []));
  }

  it('is needed: with route_localnet on the bridge, a neighbour reaches 127.0.0.1 services until the guard is added', async () => {
    const { host, n, secret } = await hostAndNeighbour({});
    expect(UNREACHED).toContain(await ask(n, '127.0.0.1', secret)); // the kernel's martian check
    await setSysctl(['net', 'ipv4', 'conf', 'br0', 'route_localnet'], 1, { netns: host });
    expect(await ask(n, '127.0.0.1', secret)).toBe('secret'); // the exposure, without nlkit's guard
    expect(await addLocalnetGuard({ netns: host })).toEqual({ added: true });
    expect(UNREACHED).toContain(await ask(n, '127.0.0.1', secret));
    expect(await addLocalnetGuard({ netns: host })).toEqual({ added: false });
    expect(guardRules(host.name)).toEqual([expect.objectContaining({ chain: 'guard' })]);
    // The host's own loopback traffic is untouched.
    expect(await ask(host, '127.0.0.1', secret)).toBe('secret');
  });

  it('ensureBridge({ routeLocalnet: true }) guards first: the 127.0.0.1 mapping serves the host, never the neighbour', async () => {
    const { host, n, secret, bridgeIndex } = await hostAndNeighbour({ routeLocalnet: true });
    // Before any port mapping (the first one would bring the guard itself): ensureBridge's own.
    expect(guardRules(host.name)).toHaveLength(1);
    expect(UNREACHED).toContain(await ask(n, '127.0.0.1', secret));
    const c = await res.netns('c');
    await attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.88.0.2/16'], gateway: '10.88.0.1' });
    await server(c, '10.88.0.2', 'container', 80);
    await addPortMapping({ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host });
    expect(await ask(host, '127.0.0.1', 8080)).toBe('container');
    expect(UNREACHED).toContain(await ask(n, '127.0.0.1', secret));
    expect(await ask(n, '127.0.0.1', 8080)).not.toBe('container');
    expect(guardRules(host.name)).toHaveLength(1); // ensureBridge's; the mapping found it there
  });

  it('flushNat keeps the guard (route_localnet stays on): the neighbour still cannot reach 127.0.0.1', async () => {
    const { host, n, secret } = await hostAndNeighbour({ routeLocalnet: true });
    await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host });
    await addMasquerade({ source: '10.88.0.0/16', netns: host });
    await flushNat({ netns: host });
    // Everything else went; the guard was made again in the same batch.
    expect(await listPortMappings({ netns: host })).toEqual([]);
    expect((await listNat({ netns: host })).map((r) => r.comment)).toEqual([expect.stringContaining('localnet guard')]);
    expect(guardRules(host.name)).toEqual([expect.objectContaining({ chain: 'guard' })]);
    expect(UNREACHED).toContain(await ask(n, '127.0.0.1', secret));
    // A table without the guard is simply removed, and a second flush of nothing is fine.
    const bare = await res.netns('fb');
    await addMasquerade({ source: '10.89.0.0/16', netns: bare });
    await flushNat({ netns: bare });
    await flushNat({ netns: bare });
    expect(JSON.parse(execFileSync('ip', ['netns', 'exec', bare.name, 'nft', '-j', 'list', 'tables'], { encoding: 'utf8' })).nftables.filter((e: { table?: unknown }) => e.table)).toEqual([]);
  });

  it('the first port mapping brings the guard with it', async () => {
    const host = await res.netns('pm');
    await addPortMapping({ protocol: 'udp', hostPort: 5353, containerIp: '10.88.0.2', containerPort: 53, netns: host });
    expect(guardRules(host.name)).toEqual([expect.objectContaining({ chain: 'guard' })]);
    expect(await addLocalnetGuard({ netns: host })).toEqual({ added: false });
  });
});
