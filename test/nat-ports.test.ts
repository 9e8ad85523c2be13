// Published ports, proven with real TCP: an "outside" namespace reaches a container's server
// through the host's uplink address, the host reaches it through its own address, traffic to
// other machines is never captured, and each path fails again after removal.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addAddress,
  addMasquerade,
  addPortMapping,
  attachContainer,
  ensureBridge,
  findPeer,
  inspectNat,
  listPortMappings,
  NetlinkError,
  removePortMapping,
  setLink,
  setSysctl,
} from '../lib/index';
import { expectInvalidArgument, rejectionOf } from './helpers/expect';
import { native } from '../lib/native';
import { toNative } from '../lib/netns';
import { namer } from './helpers/names';
import { natTopology, type Ns } from './helpers/nat-topology';
import { ask, Servers } from './helpers/traffic';
import { udpExchange } from './helpers/udp';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qnp');
const res = new Resources(names);
const servers = new Servers();
afterEach(async () => {
  await servers.closeAll();
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** A TCP server in `netns` answering `<tag>` to every connection, closed after the test. */
async function server(netns: Ns, address: string, port: number, tag: string): Promise<void> {
  await servers.start(netns, address, tag, port);
}

/** The comments of the rules of nlkit's `chain`, in the order the kernel evaluates them. */
function nftRuleComments(ns: string, chain: string): string[] {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'chain', 'inet', 'nlkit', chain], { encoding: 'utf8' });
  const json = JSON.parse(out) as { nftables: { rule?: { comment?: string } }[] };
  return json.nftables.flatMap((e) => (e.rule ? [e.rule.comment ?? ''] : []));
}

function nftList(ns: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
}

describe('addPortMapping', () => {
  it('hostPort:containerPort reaches the container from outside and from the host itself, until removed (IPv4)', async () => {
    const t = await natTopology(res);
    await server(t.container, '10.88.0.2', 80, 'container');
    expect(await ask(t.outside, '192.0.2.2', 8080)).toBe('ECONNREFUSED');
    const m = await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: t.host });
    expect(m).toEqual({ protocol: 'tcp', family: 4, hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80 });
    expect(await ask(t.outside, '192.0.2.2', 8080)).toBe('container');
    expect(await ask(t.host, '192.0.2.2', 8080)).toBe('container'); // output chain: the host's own address
    expect(await removePortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: t.host })).toEqual({ removed: true });
    expect(await ask(t.outside, '192.0.2.2', 8080)).toBe('ECONNREFUSED');
    expect(await ask(t.host, '192.0.2.2', 8080)).toBe('ECONNREFUSED');
  });

  it('IPv6 mappings, and ip:hostPort:containerPort only on that host address', async () => {
    const t = await natTopology(res);
    await server(t.container, 'fd00::2', 80, 'container6');
    await server(t.container, '10.88.0.2', 81, 'container4');
    await addPortMapping({ protocol: 'tcp', hostPort: 8086, containerIp: 'fd00::2', containerPort: 80, netns: t.host });
    expect(await ask(t.outside, '2001:db8::2', 8086)).toBe('container6');
    await addAddress('up0', '192.0.2.3/24', { netns: t.host });
    await addPortMapping({ protocol: 'tcp', hostIp: '192.0.2.3', hostPort: 9090, containerIp: '10.88.0.2', containerPort: 81, netns: t.host });
    expect(await ask(t.outside, '192.0.2.3', 9090)).toBe('container4');
    expect(await ask(t.outside, '192.0.2.2', 9090)).toBe('ECONNREFUSED');
  });

  it("the host's own [::1]:port stays its own under an any-address IPv6 mapping (::1 cannot be DNATed)", async () => {
    const t = await natTopology(res);
    await server(t.host, '::1', 8087, 'host-local');
    await server(t.container, 'fd00::2', 80, 'container6');
    await addPortMapping({ protocol: 'tcp', hostPort: 8087, containerIp: 'fd00::2', containerPort: 80, netns: t.host });
    expect(await ask(t.host, '::1', 8087)).toBe('host-local');
    expect(await ask(t.outside, '2001:db8::2', 8087)).toBe('container6');
    expect(await ask(t.host, '2001:db8::2', 8087)).toBe('container6'); // the host, through its own address
  });

  it('a table made by an earlier version gets the [::1]-skipping rule in place of its old one', async () => {
    const t = await natTopology(res);
    await server(t.host, '::1', 8088, 'host-local');
    await server(t.container, 'fd00::2', 80, 'container6');
    // The table as an earlier version left it: its tcp6_any output rule DNATed [::1] too.
    await addPortMapping({ protocol: 'tcp', hostPort: 9999, containerIp: 'fd00::2', containerPort: 80, netns: t.host });
    await native.nftDeleteRulesByComment({ netns: toNative(t.host), table: 'nlkit', comment: 'nlkit portmap tcp6_any output (not ::1)' });
    await native.nftPlantForeign({ netns: toNative(t.host), table: 'nlkit', kind: 'legacy-v6-output', name: '' });
    expect(nftRuleComments(t.host.name, 'output')).toContain('nlkit portmap tcp6_any output');
    // The next mapping replaces it, in the same batch.
    await addPortMapping({ protocol: 'tcp', hostPort: 8088, containerIp: 'fd00::2', containerPort: 80, netns: t.host });
    const output = nftRuleComments(t.host.name, 'output');
    expect(output).not.toContain('nlkit portmap tcp6_any output');
    expect(output.filter((c) => c === 'nlkit portmap tcp6_any output (not ::1)')).toHaveLength(1);
    expect(await ask(t.host, '::1', 8088)).toBe('host-local');
    expect(await ask(t.outside, '2001:db8::2', 8088)).toBe('container6');
  });

  it('hairpin: another container on the bridge reaches the published port through the host address', async () => {
    const t = await natTopology(res);
    const other = await res.netns('c2');
    const bridge = await ensureBridge({ name: 'br0', netns: t.host });
    await attachContainer({ netns: other, hostNetns: t.host, bridge: bridge.link.index, addresses: ['10.88.0.3/16'], gateway: '10.88.0.1' });
    await server(t.container, '10.88.0.2', 80, 'container');
    await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: t.host });
    // Hosts where bridged frames skip netfilter (no br_netfilter, or bridge-nf-call-iptables=0):
    // there, without the hairpin masquerade, the answer goes straight from 10.88.0.2 to the other
    // container over the bridge, which drops it (it talked to 192.0.2.2). With br_netfilter on,
    // conntrack would un-NAT the bridged answer and hide the difference.
    await setSysctl('net.bridge.bridge-nf-call-iptables', 0, { netns: t.host }).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENOENT') throw e; // no br_netfilter: already the case
    });
    await addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', hairpin: false, netns: t.host });
    expect(await ask(other, '192.0.2.2', 8080)).toBe('timeout');
    await addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', netns: t.host });
    expect(await ask(other, '192.0.2.2', 8080)).toBe('container');
    // A container reaching its own published port, with hairpin mode on its bridge port (needed
    // where br_netfilter DNATs bridged frames, which then leave by the port they came in on; here
    // the host routes them back out of the bridge device, and the masquerade does the rest).
    const port = await findPeer('eth0', { netns: t.container });
    await setLink(port.link.name, { hairpin: true }, { netns: t.host });
    expect(await ask(t.container, '192.0.2.2', 8080)).toBe('container');
  });

  it('udp, IPv4 and IPv6: the outside reaches a container\'s UDP server through the host, until removed', async () => {
    const t = await natTopology(res);
    expect(await udpExchange(t.container, '10.88.0.2', 53, t.outside, '192.0.2.2', 5353)).toEqual({ serverSawFrom: '', clientGot: '' });
    const spec = { protocol: 'udp' as const, hostPort: 5353, containerIp: '10.88.0.2', containerPort: 53, netns: t.host };
    await addPortMapping(spec);
    expect(await udpExchange(t.container, '10.88.0.2', 53, t.outside, '192.0.2.2', 5353)).toEqual({
      serverSawFrom: '192.0.2.1',
      clientGot: 'probe from 192.0.2.1',
    });
    await addPortMapping({ protocol: 'udp', hostPort: 5353, containerIp: 'fd00::2', containerPort: 53, netns: t.host });
    expect((await udpExchange(t.container, 'fd00::2', 53, t.outside, '2001:db8::2', 5353)).clientGot).toBe('probe from 2001:db8::1');
    await removePortMapping(spec);
    expect((await udpExchange(t.container, '10.88.0.2', 53, t.outside, '192.0.2.2', 5353)).serverSawFrom).toBe('');
  });

  it('udp: a flow that keeps its source port follows the mapping as it changes (its conntrack entries are cleared)', async () => {
    // A DNS forwarder or syslog client sends from one port for ever: to conntrack that is one
    // flow, whose NAT was decided by its first packet.
    const t = await natTopology(res);
    const other = await res.netns('c2');
    const bridge = await ensureBridge({ name: 'br0', netns: t.host });
    await attachContainer({ netns: other, hostNetns: t.host, bridge: bridge.link.index, addresses: ['10.88.0.3/16'], gateway: '10.88.0.1' });
    const CLIENT = 40000;
    // Before the mapping the flow reaches a server on the host itself, which answers; nlkit's
    // nat chains exist already (another mapping), so the flow's NAT is decided: none.
    await addPortMapping({ protocol: 'udp', hostPort: 5000, containerIp: '10.88.0.2', containerPort: 53, netns: t.host });
    expect((await udpExchange(t.host, '192.0.2.2', 5353, t.outside, '192.0.2.2', 5353, CLIENT)).clientGot).toBe('probe from 192.0.2.1');
    // Mapped: the same flow now reaches the container (its entry to the host was cleared).
    const first = { protocol: 'udp' as const, hostPort: 5353, containerIp: '10.88.0.2', containerPort: 53, netns: t.host };
    await addPortMapping(first);
    expect((await udpExchange(t.container, '10.88.0.2', 53, t.outside, '192.0.2.2', 5353, CLIENT)).clientGot).toBe('probe from 192.0.2.1');
    // Mapped to another container: the same flow follows (the old container's entry was cleared).
    await removePortMapping(first);
    await addPortMapping({ ...first, containerIp: '10.88.0.3' });
    expect(await udpExchange(other, '10.88.0.3', 53, t.outside, '192.0.2.2', 5353, CLIENT)).toEqual({
      serverSawFrom: '192.0.2.1',
      clientGot: 'probe from 192.0.2.1',
    });
    // IPv6 alike.
    const six = { protocol: 'udp' as const, hostPort: 5353, containerIp: 'fd00::2', containerPort: 53, netns: t.host };
    await addPortMapping(six);
    expect((await udpExchange(t.container, 'fd00::2', 53, t.outside, '2001:db8::2', 5353, CLIENT)).clientGot).toBe('probe from 2001:db8::1');
    await removePortMapping(six);
    expect((await udpExchange(t.container, 'fd00::2', 53, t.outside, '2001:db8::2', 5353, CLIENT)).serverSawFrom).toBe('');
  });

  it("udp: a flow that only passes through the host to another machine's port of that number is left alone", async () => {
    // The container talks to an outside server on port 5353, masqueraded; then the host publishes
    // its own port 5353. The container's flow is not to the host: its answers must still arrive.
    const t = await natTopology(res);
    await addMasquerade({ source: '10.88.0.0/16', netns: t.host });
    expect((await udpExchange(t.outside, '192.0.2.1', 5353, t.container, '192.0.2.1', 5353, 40000)).serverSawFrom).toBe('192.0.2.2');
    await addPortMapping({ protocol: 'udp', hostPort: 5353, containerIp: '10.88.0.9', containerPort: 53, netns: t.host });
    // The outside answers again, from 5353 to the masqueraded 40000: the flow's reply direction.
    expect((await udpExchange(t.container, '10.88.0.2', 40000, t.outside, '192.0.2.2', 40000, 5353)).serverSawFrom).toBe('192.0.2.1');
  });

  it('127.0.0.1: the host reaches a published port on loopback when the bridge has routeLocalnet', async () => {
    const t = await natTopology(res);
    await server(t.container, '10.88.0.2', 80, 'container');
    await addPortMapping({ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: t.host });
    expect(await ask(t.host, '127.0.0.1', 8080)).not.toBe('container'); // not routable into br0 yet
    await ensureBridge({ name: 'br0', routeLocalnet: true, netns: t.host });
    expect(await ask(t.host, '127.0.0.1', 8080)).toBe('container');
  });

  it('never captures traffic passing through to another machine (destination not local)', async () => {
    const t = await natTopology(res);
    await server(t.container, '10.88.0.2', 80, 'container');
    await server(t.outside, '192.0.2.1', 8080, 'the real outside server');
    await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: t.host });
    // The host's own connection to the outside crosses the nat output chain...
    expect(await ask(t.host, '192.0.2.1', 8080)).toBe('the real outside server');
    // ...and a container's connection to port 8080 of the outside machine passes through the
    // host's prerouting chain (masqueraded on the uplink, so the outside can answer it). Without
    // the rule's "destination is local" check it would come back to the container itself.
    await addMasquerade({ source: '10.88.0.0/16', netns: t.host });
    expect(await ask(t.container, '192.0.2.1', 8080)).toBe('the real outside server');
  });

  it("an address's mapping wins over the any-address one on the same port, also after nlkit puts back a deleted rule", async () => {
    const t = await natTopology(res);
    await server(t.container, '10.88.0.2', 80, 'for 192.0.2.2 only');
    await server(t.container, '10.88.0.2', 81, 'for any address');
    await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 81, netns: t.host });
    await addPortMapping({ protocol: 'tcp', hostIp: '192.0.2.2', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: t.host });
    expect(await ask(t.outside, '192.0.2.2', 8080)).toBe('for 192.0.2.2 only');
    // Someone deletes the address-keyed rule of prerouting: the any-address mapping takes over...
    const comment = 'nlkit portmap tcp4_ip prerouting';
    expect(await native.nftDeleteRulesByComment({ netns: toNative(t.host), table: 'nlkit', comment })).toBe(1);
    expect(await ask(t.outside, '192.0.2.2', 8080)).toBe('for any address');
    // ...until nlkit's next mapping finds the rule missing and puts it back, ahead of the
    // any-address rules (appended at the end, it would stay shadowed).
    await addPortMapping({ protocol: 'udp', hostPort: 5353, containerIp: '10.88.0.2', containerPort: 53, netns: t.host });
    expect(await ask(t.outside, '192.0.2.2', 8080)).toBe('for 192.0.2.2 only');
    const prerouting = nftRuleComments(t.host.name, 'prerouting');
    expect(prerouting).toHaveLength(8);
    const lastByAddress = Math.max(...prerouting.map((c, i) => (c.includes('_ip ') ? i : -1)));
    const firstAny = prerouting.findIndex((c) => c.includes('_any '));
    expect(lastByAddress).toBeLessThan(firstAny);
  });

  it('ip::containerPort: nlkit picks a free host port and returns it', async () => {
    const t = await natTopology(res);
    await server(t.container, '10.88.0.2', 80, 'picked');
    const m = await addPortMapping({ protocol: 'tcp', containerIp: '10.88.0.2', containerPort: 80, netns: t.host });
    expect(m.hostPort).toBeGreaterThanOrEqual(32768);
    expect(m.hostPort).toBeLessThanOrEqual(60999);
    expect(await ask(t.outside, '192.0.2.2', m.hostPort)).toBe('picked');
  });

  it('the same protocol and host port twice is a clear conflict; another protocol is not', async () => {
    const host = await res.netns('cf');
    await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host });
    const err = await rejectionOf(() => addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.3', containerPort: 81, netns: host }));
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((err as NetlinkError).message).toMatch(/host port 8080\/tcp is already mapped/u);
    await addPortMapping({ protocol: 'udp', hostPort: 8080, containerIp: '10.88.0.3', containerPort: 53, netns: host });
    const listed = await listPortMappings({ netns: host });
    expect(listed).toHaveLength(2);
    expect(listed).toContainEqual({ protocol: 'udp', family: 4, hostPort: 8080, containerIp: '10.88.0.3', containerPort: 53 });
    // Removing what is not there is fine.
    expect(await removePortMapping({ protocol: 'tcp', hostPort: 9999, containerIp: '10.88.0.2', containerPort: 80, netns: host })).toEqual({ removed: false });
  });

  it('a map or chain of the same name but another definition (another tool, another version) is named in the error, and nothing is made', async () => {
    // The kernel accepts nlkit's "create if missing" for an object that exists as nlkit makes it,
    // and refuses one that exists otherwise with a bare EEXIST; the error must say which.
    const host = await res.netns('fm');
    await native.nftPlantForeign({ netns: toNative(host), table: 'nlkit', kind: 'map', name: 'tcp4_any' });
    const before = nftList(host.name);
    const e = await rejectionOf(() => addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect((e as NetlinkError).code).toBe('EEXIST');
    expect((e as NetlinkError).operation).toBe('addPortMapping');
    expect((e as NetlinkError).message).toMatch(/create map tcp4_any, which exists with another definition than nlkit's/u);
    expect((e as NetlinkError).message).not.toMatch(/already mapped/u);
    // The batch was refused whole: no chain, rule or element was left behind.
    expect(nftList(host.name)).toBe(before);
    expect(await inspectNat({ netns: host })).toMatchObject({ exists: true, chains: [], rules: [], portMappings: [] });

    const other = await res.netns('fc');
    await native.nftPlantForeign({ netns: toNative(other), table: 'nlkit', kind: 'chain', name: 'prerouting' });
    const c = await rejectionOf(() => addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: other }));
    // EEXIST, or (a base chain at another priority, kernel 6.18) EOPNOTSUPP.
    expect(['EEXIST', 'EOPNOTSUPP']).toContain((c as NetlinkError).code);
    expect((c as NetlinkError).message).toMatch(/create chain prerouting, which exists with another definition/u);
    // Masquerade makes the same chains, so it is refused the same way.
    const m = await rejectionOf(() => addMasquerade({ source: '10.88.0.0/16', netns: other }));
    expect((m as NetlinkError).message).toMatch(/addMasquerade .*create chain prerouting, which exists/u);
  });

  it("hostIp '0.0.0.0' or '::' is every address, the same mapping as none", async () => {
    const host = await res.netns('any');
    await addPortMapping({ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host });
    await addPortMapping({ protocol: 'tcp', hostIp: '0::0', hostPort: 8080, containerIp: 'fd00::2', containerPort: 80, netns: host });
    expect(await listPortMappings({ netns: host })).toEqual([
      { protocol: 'tcp', family: 4, hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80 },
      { protocol: 'tcp', family: 6, hostPort: 8080, containerIp: 'fd00::2', containerPort: 80 },
    ]);
    const again = await rejectionOf(() => addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.3', containerPort: 80, netns: host }));
    expect((again as NetlinkError).code).toBe('EEXIST');
    expect(await removePortMapping({ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host })).toEqual({ removed: true });
  });

  it('removal takes a host port only from the container (and owner) it was mapped to', async () => {
    // A late cleanup of container A after the port went to container B, or a sweep working
    // through a list it read before B took the port: neither may take B's mapping.
    const host = await res.netns('rm');
    const toB = { protocol: 'tcp' as const, hostPort: 8080, containerIp: '10.88.0.3', containerPort: 80, owner: 'ctr-b', netns: host };
    await addPortMapping(toB);
    const stale = { protocol: 'tcp' as const, hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host };
    expect(await removePortMapping(stale)).toEqual({ removed: false });
    expect(await removePortMapping({ ...toB, containerPort: 81 })).toEqual({ removed: false });
    // The same target (an address given again to a new container) but another owner.
    expect(await removePortMapping({ ...toB, owner: 'ctr-a' })).toEqual({ removed: false });
    expect(await listPortMappings({ netns: host })).toEqual([{ protocol: 'tcp', family: 4, hostPort: 8080, containerIp: '10.88.0.3', containerPort: 80, owner: 'ctr-b' }]);
    // Its own: with the owner, and without one (the target alone).
    expect(await removePortMapping(toB)).toEqual({ removed: true });
    await addPortMapping(toB);
    const { owner: _, ...untagged } = toB;
    expect(await removePortMapping(untagged)).toEqual({ removed: true });
    expect(await listPortMappings({ netns: host })).toEqual([]);
  });

  it('nft lists the maps with one element per mapping and the rules that use them', async () => {
    const host = await res.netns('nf');
    for (let i = 0; i < 20; i++) {
      await addPortMapping({ protocol: 'tcp', hostPort: 10000 + i, containerIp: '10.88.0.2', containerPort: 80, netns: host });
    }
    const text = nftList(host.name);
    expect(text).toMatch(/map tcp4_any \{\s+type inet_service : ipv4_addr \. inet_service/u);
    expect(text).toContain('10019 : 10.88.0.2 . 80');
    expect(text).toContain('fib daddr type local dnat ip to tcp dport map @tcp4_any');
    // Twenty mappings, still sixteen dnat rules: adding a mapping adds no rule.
    expect(text.match(/dnat ip6? to/gu)).toHaveLength(16);
    expect(text).toContain('ip saddr 127.0.0.0/8 ct status dnat oifname != "lo" masquerade comment "nlkit portmap localhost masquerade"');
  });

  it('inspectNat reads back the table, its base chains, maps, rules and mappings, as nft sees them', async () => {
    const host = await res.netns('in');
    expect(await inspectNat({ netns: host })).toMatchObject({ table: 'nlkit', exists: false, chains: [], maps: [], rules: [], portMappings: [] });
    await addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host });
    await addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', netns: host });
    const seen = await inspectNat({ netns: host });
    expect(seen.exists).toBe(true);
    expect(seen.chains).toEqual(
      expect.arrayContaining([
        { name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' },
        { name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' },
        { name: 'output', type: 'nat', hook: 'output', priority: -100, policy: 'accept' },
        { name: 'forward', type: 'filter', hook: 'forward', priority: 0, policy: 'accept' },
      ]),
    );
    expect(seen.maps.map((m) => m.name).sort()).toEqual(['tcp4_any', 'tcp4_ip', 'tcp6_any', 'tcp6_ip', 'udp4_any', 'udp4_ip', 'udp6_any', 'udp6_ip']);
    expect(seen.maps.find((m) => m.name === 'tcp4_ip')).toEqual({ name: 'tcp4_ip', keyLength: 8, dataLength: 8 });
    expect(seen.rules.filter((r) => r.kind === 'masquerade')).toHaveLength(1);
    expect(seen.portMappings).toEqual([{ protocol: 'tcp', family: 4, hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80 }]);
    // The same objects, counted by nft.
    const json = JSON.parse(execFileSync('ip', ['netns', 'exec', host.name, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' })) as {
      nftables: Record<string, { table?: string }>[];
    };
    const count = (kind: string): number => json.nftables.filter((e) => e[kind]?.table === 'nlkit').length;
    expect(count('chain')).toBe(seen.chains.length);
    expect(count('map')).toBe(seen.maps.length);
    expect(count('rule')).toBe(seen.rules.length);
  });

  it('rejects bad input before anything is sent', async () => {
    const host = await res.netns('bad');
    const base = { protocol: 'tcp' as const, hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host };
    await expectInvalidArgument(() => addPortMapping({ ...base, hostPort: 0 }), /^hostPort$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, hostPort: 65536 }), /^hostPort$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, containerPort: 0 }), /^containerPort$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, protocol: 'sctp' as never }), /^protocol$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, containerIp: '10.88.0.2/16' }), /^containerIp$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, hostIp: 'fd00::1' }), /^hostIp$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, containerIp: 'fd00::2', hostIp: '::1' }), /^hostIp$/u);
    await expectInvalidArgument(() => addPortMapping({ ...base, containerIp: 'fd00::2', hostIp: '0:0::1' }), /^hostIp$/u);
    await expectInvalidArgument(() => removePortMapping({ ...base, hostPort: undefined }), /^hostPort$/u);
    expect(nftList(host.name).trim()).toBe('');
  });
});
