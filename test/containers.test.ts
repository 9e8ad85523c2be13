// The seed topology of container-networking.md built with ensureBridge and attachContainer in
// namespaces the test makes, proven with real TCP traffic over IPv4 and IPv6, and taken apart.
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  attachContainer,
  createBridge,
  createVethPair,
  detachContainer,
  ensureBridge,
  findPeer,
  getLink,
  getSysctl,
  setSysctl,
  listAddresses,
  listLinks,
  listRoutes,
  NetlinkError,
  NlkitError,
  setLink,
  type NetnsHandle,
} from '../lib/index';
import { expectInvalidArgument, rejectionOf } from './helpers/expect';
import { ipLinkOrThrow, ipLinks } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';
import { ask, serve } from './helpers/traffic';

const names = namer('qct');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

interface IpAddrEntry {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; broadcast?: string }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
}

/** `ip -j [-6] -n ns <object> show ...`: the read-only witness of addresses and routes. */
function ipShow(ns: string, object: 'addr' | 'route', rest: string[] = [], family?: '-6'): unknown[] {
  const args = ['-j', ...(family ? [family] : []), '-n', ns, object, 'show', ...rest];
  const out = execFileSync('ip', args, { encoding: 'utf8' }).trim();
  return out === '' ? [] : (JSON.parse(out) as unknown[]);
}

/** A host namespace with the bridge network of the seed: br0 with 10.88.0.1/16 and fd00::1/64. */
async function hostWithBridge(): Promise<{ host: NetnsHandle & { name: string }; bridgeIndex: number }> {
  const host = await res.netns('h');
  const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', 'fd00::1/64'], netns: host });
  return { host, bridgeIndex: link.index };
}

describe('ensureBridge', () => {
  it('creates the bridge, its addresses and forwarding, and a second call changes nothing', async () => {
    const host = await res.netns('eb');
    const first = await ensureBridge({ name: 'br0', addresses: ['172.17.0.1/16', 'fd01::1/64'], mtu: 1450, netns: host });
    expect(first.created).toBe(true);
    expect(first.addedAddresses).toEqual(['172.17.0.1/16', 'fd01::1/64']);
    expect(first.link).toMatchObject({ name: 'br0', kind: 'bridge', up: true, mtu: 1450 });
    expect(await getSysctl('net.ipv4.ip_forward', { netns: host })).toBe('1');
    expect(await getSysctl('net.ipv6.conf.all.forwarding', { netns: host })).toBe('1');
    // No DAD on the bridge: its link-local address is usable (for forwarding) the moment it is up.
    expect(await getSysctl('net.ipv6.conf.br0.accept_dad', { netns: host })).toBe('0');
    const again = await ensureBridge({ name: 'br0', addresses: ['172.17.0.1/16', 'fd01::1/64'], mtu: 1450, netns: host });
    expect(again).toMatchObject({ created: false, addedAddresses: [] });
    const seen = ipShow(host.name, 'addr', ['dev', 'br0']) as IpAddrEntry[];
    const locals = seen[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
    expect(locals).toEqual(expect.arrayContaining(['172.17.0.1/16', 'fd01::1/64']));
    expect(locals?.filter((l) => l === '172.17.0.1/16')).toHaveLength(1);
  });

  it("on an existing bridge already at the asked MTU, the MTU is made the bridge's own: a smaller port does not lower it", async () => {
    // createBridge without an MTU: 1500, as the kernel chose, so the kernel will follow its ports.
    const host = await res.netns('ebm');
    await createBridge('br0', { netns: host });
    const r = await ensureBridge({ name: 'br0', mtu: 1500, netns: host });
    expect(r).toMatchObject({ created: false, link: { mtu: 1500 } });
    await createVethPair({ name: 'p0', netns: host, master: 'br0', mtu: 1400, peer: { name: 'p1', mtu: 1400 } });
    expect(ipLinkOrThrow('br0', host.name).mtu).toBe(1500);
    // What ensureBridge leaves alone without an MTU asked: a second bridge follows its port.
    await createBridge('br1', { netns: host });
    await ensureBridge({ name: 'br1', netns: host });
    await createVethPair({ name: 'q0', netns: host, master: 'br1', mtu: 1400, peer: { name: 'q1', mtu: 1400 } });
    expect(ipLinkOrThrow('br1', host.name).mtu).toBe(1400);
  });

  it("keeps the bridge's MAC as containers come and go, on a bridge it made and on one made elsewhere", async () => {
    // Without a MAC of its own a bridge takes its ports' lowest: every attach or detach could move
    // the gateway's MAC under the containers' ARP entries.
    const host = await res.netns('ebmac');
    await createBridge('br1', { netns: host }); // made elsewhere, MAC not chosen
    for (const name of ['br0', 'br1']) {
      const { link } = await ensureBridge({ name, addresses: [name === 'br0' ? '10.90.0.1/16' : '10.91.0.1/16'], netns: host });
      const mac = ipLinkOrThrow(name, host.name).address;
      expect(link.mac).toBe(mac);
      const attached: NetnsHandle[] = [];
      for (let i = 0; i < 6; i++) {
        // Host-end MACs from 02:00:... (below any random locally administered one but 02:00:00:...)
        // and from fe:ff:...: the lowest port changes with every join and every leave.
        const c = await res.netns(`${name}m${i}`);
        const hostMac = i % 2 === 0 ? `02:00:00:00:00:0${i}` : `fe:ff:ff:ff:ff:f${i}`;
        const r = await attachContainer({ netns: c, hostNetns: host, bridge: link.index });
        await setLink(r.host.index, { mac: hostMac }, { netns: host });
        attached.push(c);
        expect(ipLinkOrThrow(name, host.name).address, `${name} after attach ${i}`).toBe(mac);
      }
      for (const c of attached) {
        await detachContainer({ netns: c });
        expect(ipLinkOrThrow(name, host.name).address, `${name} after a detach`).toBe(mac);
      }
    }
  });

  it('concurrent calls for one bridge all succeed, and the bridge and each address are made once', async () => {
    const host = await res.netns('ebc');
    const spec = { name: 'br0', addresses: ['10.77.0.1/16', 'fd77::1/64'], netns: host };
    const results = await Promise.all([ensureBridge(spec), ensureBridge(spec), ensureBridge(spec), ensureBridge(spec)]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.flatMap((r) => r.addedAddresses).sort()).toEqual(['10.77.0.1/16', 'fd77::1/64']);
    const addrs = await listAddresses({ netns: host, link: 'br0' });
    expect(addrs.filter((a) => a.scope !== 'link').map((a) => a.cidr).sort()).toEqual(['10.77.0.1/16', 'fd77::1/64']);
  });

  it('an IPv6 address in any spelling is the one the bridge has; IPv4 ones get their broadcast address', async () => {
    const host = await res.netns('ebs');
    const first = await ensureBridge({ name: 'br0', addresses: ['FD00:0::1/64', '10.66.0.1/16'], netns: host });
    expect(first.addedAddresses).toEqual(['fd00::1/64', '10.66.0.1/16']);
    const again = await ensureBridge({ name: 'br0', addresses: ['fd00:0:0::1/64', '10.66.0.1/16'], netns: host });
    expect(again.addedAddresses).toEqual([]);
    const v4 = (ipShow(host.name, 'addr', ['dev', 'br0']) as IpAddrEntry[])[0]?.addr_info.find((a) => a.local === '10.66.0.1');
    expect(v4?.broadcast).toBe('10.66.255.255');
    await expectInvalidArgument(() => ensureBridge({ name: 'br0', addresses: ['fd00::1/64', 'FD00::1/64'], netns: host }), /^addresses\[1\]$/u);
  });

  it('adds a missing address to an existing bridge and leaves its others alone', async () => {
    const host = await res.netns('eb2');
    await ensureBridge({ name: 'br0', addresses: ['172.18.0.1/16'], netns: host });
    const r = await ensureBridge({ name: 'br0', addresses: ['172.18.0.1/16', '172.19.0.1/16'], netns: host, forwarding: false });
    expect(r.addedAddresses).toEqual(['172.19.0.1/16']);
    const addrs = await listAddresses({ netns: host, link: 'br0', family: 4 });
    expect(addrs.map((a) => a.cidr).sort()).toEqual(['172.18.0.1/16', '172.19.0.1/16']);
  });

  it('refuses a name that is not a bridge, and removes what it created when a later step fails', async () => {
    const host = await res.netns('eb3');
    await attachContainer({ netns: await res.netns('eb3c'), hostNetns: host, bridge: (await ensureBridge({ name: 'br9', netns: host })).link.index, hostIfname: 'notbr' }).catch(() => undefined);
    const err = await rejectionOf(() => ensureBridge({ name: 'notbr', netns: host }));
    expect(err).toBeInstanceOf(NlkitError);
    expect((err as NlkitError).code).toBe('ERR_NLKIT_NOT_A_BRIDGE');
    // The kernel refuses the second address (a multicast one): the bridge made by this call goes.
    const failing = await rejectionOf(() => ensureBridge({ name: 'br1', addresses: ['10.1.0.1/16', 'ff02::1/64'], netns: host }));
    expect(failing).toBeInstanceOf(NetlinkError);
    expect((failing as NetlinkError).code).toBe('EADDRNOTAVAIL');
    expect((await listLinks({ netns: host })).map((l) => l.name)).not.toContain('br1');
  });
});

describe('attachContainer: the seed topology', () => {
  it('two containers on br0 reach the gateway and each other over IPv4 and IPv6, with real TCP', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c1 = await res.netns('c1');
    const c2 = await res.netns('c2');
    const a1 = await attachContainer({
      netns: c1, hostNetns: host, bridge: bridgeIndex,
      addresses: ['10.88.0.2/16', 'fd00::2/64'], gateways: ['10.88.0.1', 'fd00::1'], mac: '02:42:0a:58:00:02',
    });
    const a2 = await attachContainer({
      netns: c2, hostNetns: host, bridge: 'br0',
      addresses: ['10.88.0.3/16', 'fd00::3/64'], gateways: ['10.88.0.1', 'fd00::1'],
    });

    // What attachContainer says it made...
    expect(a1.container).toEqual({ index: expect.any(Number), name: 'eth0', mac: '02:42:0a:58:00:02', mtu: 1500 });
    expect(a1.host.name).toMatch(/^veth[0-9a-f]{7}$/u);
    expect(a1.addresses).toEqual(['10.88.0.2/16', 'fd00::2/64']);
    expect(a1.routes.map((r) => `${r.to} via ${r.via} dev ${r.dev}`)).toEqual([`default via 10.88.0.1 dev ${a1.container.index}`, `default via fd00::1 dev ${a1.container.index}`]);
    // ...is what ip sees in each namespace.
    const hostEnd = ipLinkOrThrow(a1.host.name, host.name);
    expect(hostEnd.master).toBe('br0');
    expect(hostEnd.flags).toContain('UP');
    expect({ index: hostEnd.ifindex, mac: hostEnd.address, mtu: hostEnd.mtu }).toEqual({ index: a1.host.index, mac: a1.host.mac, mtu: a1.host.mtu });
    const eth0 = ipLinkOrThrow('eth0', c1.name);
    expect(eth0.link_index).toBe(a1.host.index);
    expect({ index: eth0.ifindex, mac: eth0.address, mtu: eth0.mtu }).toEqual({ index: a1.container.index, mac: a1.container.mac, mtu: 1500 });
    expect(eth0.flags).toContain('UP');
    const eth0In2 = ipLinkOrThrow('eth0', c2.name);
    expect({ index: eth0In2.ifindex, mac: eth0In2.address, mtu: eth0In2.mtu }).toEqual({ index: a2.container.index, mac: a2.container.mac, mtu: a2.container.mtu });
    expect(ipLinkOrThrow('lo', c1.name).flags).toContain('UP');
    const addrs = (ipShow(c1.name, 'addr', ['dev', 'eth0']) as IpAddrEntry[])[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
    expect(addrs).toEqual(expect.arrayContaining(['10.88.0.2/16', 'fd00::2/64']));
    // With the subnet's broadcast address, as Docker's and CNI's containers have it.
    const v4 = (ipShow(c1.name, 'addr', ['dev', 'eth0']) as IpAddrEntry[])[0]?.addr_info.find((a) => a.local === '10.88.0.2');
    expect(v4?.broadcast).toBe('10.88.255.255');
    const routes4 = ipShow(c1.name, 'route') as IpRoute[];
    expect(routes4).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.88.0.1', dev: 'eth0' }));
    const routes6 = ipShow(c1.name, 'route', [], '-6') as IpRoute[];
    expect(routes6).toContainEqual(expect.objectContaining({ dst: 'default', gateway: 'fd00::1', dev: 'eth0' }));

    // Real packets: container -> gateway (host namespace) and container -> container, both families.
    const servers = await Promise.all([
      serve(host, '10.88.0.1', 'gw4'), serve(host, 'fd00::1', 'gw6'),
      serve(c2, '10.88.0.3', 'c2-4'), serve(c2, 'fd00::3', 'c2-6'),
      serve(c1, '10.88.0.2', 'c1-4'),
    ]);
    try {
      const [gw4, gw6, c24, c26, c14] = servers as [typeof servers[0], typeof servers[0], typeof servers[0], typeof servers[0], typeof servers[0]];
      expect(await ask(c1, '10.88.0.1', gw4.port)).toBe('gw4');
      expect(await ask(c1, 'fd00::1', gw6.port)).toBe('gw6');
      expect(await ask(c1, '10.88.0.3', c24.port)).toBe('c2-4');
      expect(await ask(c1, 'fd00::3', c26.port)).toBe('c2-6');
      expect(await ask(c2, '10.88.0.2', c14.port)).toBe('c1-4');
      expect(await ask(host, '10.88.0.2', c14.port)).toBe('c1-4');
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }

    // findPeer: which host veth is c1's eth0?
    const peer = await findPeer('eth0', { netns: c1 });
    expect(peer.link.name).toBe(a1.host.name);
    expect(peer.netnsName).toBe(host.name);

    // detach from either side leaves no link behind, and is idempotent.
    await detachContainer({ netns: c1 });
    await detachContainer({ hostIfname: a2.host.name, hostNetns: host });
    await detachContainer({ netns: c1 });
    await detachContainer({ hostIfname: a2.host.name, hostNetns: host });
    expect((await listLinks({ netns: host })).map((l) => l.name)).toEqual(['lo', 'br0']);
    expect((await listLinks({ netns: c1 })).map((l) => l.name)).toEqual(['lo']);
    expect((await listLinks({ netns: c2 })).map((l) => l.name)).toEqual(['lo']);
  });

  it('takes extra routes, an MTU, a given host name and hairpin mode', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('c3');
    const r = await attachContainer({
      netns: c, hostNetns: host, bridge: bridgeIndex, ifname: 'net0', hostIfname: names.link('hv'),
      addresses: ['10.88.0.4/16'], gateway: '10.88.0.1', mtu: 1400, hairpin: true,
      routes: [{ to: '192.168.50.0/24', via: '10.88.0.254', metric: 20 }, { to: '10.200.0.0/16', via: '10.88.0.1', mtu: 1300 }],
    });
    expect(r.container).toMatchObject({ name: 'net0', mtu: 1400 });
    expect(r.host.mtu).toBe(1400);
    expect(ipLinkOrThrow('net0', c.name).mtu).toBe(1400);
    expect((await getLink(r.host.name, { netns: host })).bridgePort?.hairpin).toBe(true);
    const routes = await listRoutes({ netns: c, family: 4 });
    expect(routes).toContainEqual(expect.objectContaining({ to: '192.168.50.0/24', via: '10.88.0.254', metric: 20 }));
    expect(routes).toContainEqual(expect.objectContaining({ to: '10.200.0.0/16', mtu: 1300 }));
    expect(routes).toContainEqual(expect.objectContaining({ to: 'default', via: '10.88.0.1' }));
  });
});

describe('attachContainer: rollback', () => {
  async function linksOf(ns: NetnsHandle): Promise<string[]> {
    return (await listLinks({ netns: ns })).map((l) => l.name).sort();
  }

  it('a route whose gateway the kernel cannot reach: nothing remains, and the error names the step', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('rb1');
    const before = { host: await linksOf(host), c: await linksOf(c) };
    const err = await rejectionOf(() =>
      attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.88.0.5/16'], routes: [{ to: '10.99.0.0/16', via: '10.77.0.1' }] }),
    );
    expect(err).toBeInstanceOf(NetlinkError);
    const e = err as NetlinkError;
    expect(e.code).toBe('ENETUNREACH');
    expect(e.operation).toBe('attachContainer: add route 10.99.0.0/16 via 10.77.0.1');
    expect(e.extack).toMatch(/gateway/u);
    expect({ host: await linksOf(host), c: await linksOf(c) }).toEqual(before);
  });

  it('an address the kernel refuses (IPv6 disabled in the container): nothing remains', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('rb2');
    // New devices in this container get IPv6 disabled, so the IPv6 address step fails in the kernel.
    await setSysctl('net.ipv6.conf.default.disable_ipv6', 1, { netns: c });
    const err = await rejectionOf(() =>
      attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.88.0.7/16', 'fd00::7/64'], gateway: '10.88.0.1' }),
    );
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).operation).toBe('attachContainer: add address fd00::7/64');
    expect(await linksOf(host)).toEqual(['br0', 'lo']);
    expect(await linksOf(c)).toEqual(['lo']);
  });

  it('an interface name taken in the container, or a host name taken on the host: EEXIST, nothing made', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('rb3');
    await attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, hostIfname: names.link('ht'), addresses: ['10.88.0.8/16'] });
    const hostsBefore = await linksOf(host);
    const taken = await rejectionOf(() => attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.88.0.9/16'] }));
    expect((taken as NetlinkError).code).toBe('EEXIST');
    expect((taken as NetlinkError).operation).toBe('attachContainer: create veth');
    const c2 = await res.netns('rb4');
    const hostTaken = await rejectionOf(() =>
      attachContainer({ netns: c2, hostNetns: host, bridge: bridgeIndex, hostIfname: hostsBefore.find((n) => n.startsWith(names.prefix))! }),
    );
    expect((hostTaken as NetlinkError).code).toBe('EEXIST');
    expect(await linksOf(host)).toEqual(hostsBefore);
    expect(await linksOf(c2)).toEqual(['lo']);
  });

  it('a bridge that does not exist: ENODEV before anything is made', async () => {
    const { host } = await hostWithBridge();
    const c = await res.netns('rb5');
    const err = await rejectionOf(() => attachContainer({ netns: c, hostNetns: host, bridge: 'nobridge', addresses: ['10.88.0.10/16'] }));
    expect((err as NetlinkError).code).toBe('ENODEV');
    expect(await linksOf(c)).toEqual(['lo']);
  });
});

describe('detachContainer', () => {
  it('deletes only a veth: a bridge or loopback named by mistake is refused and stays', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('dt');
    await attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.88.0.2/16'] });
    const e = await expectInvalidArgument(() => detachContainer({ hostIfname: 'br0', hostNetns: host }), /^hostIfname$/u);
    expect(e.message).toMatch(/br0 is a bridge, not a veth/u);
    await expectInvalidArgument(() => detachContainer({ netns: c, ifname: 'lo' }), /^ifname$/u);
    expect(ipLinkOrThrow('br0', host.name).linkinfo?.info_kind).toBe('bridge');
    expect(ipLinks(host.name, ['master', 'br0'])).toHaveLength(1);
    expect((await listLinks({ netns: c })).map((l) => l.name)).toEqual(['lo', 'eth0']);
    await detachContainer({ netns: c });
    expect((await listLinks({ netns: c })).map((l) => l.name)).toEqual(['lo']);
    expect(ipLinks(host.name, ['master', 'br0'])).toEqual([]);
  });
});

describe('attachContainer: input checked before anything is sent', () => {
  it('rejects bad specs with InvalidArgumentError naming the field', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('bad');
    const base = { netns: c, hostNetns: host, bridge: bridgeIndex };
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/33'] }), /^addresses\[0\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['banana'] }), /^addresses\[0\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16'], gateway: '10.99.0.1' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16'], gateways: ['10.88.0.1', '10.88.0.254'] }), /^gateways\[1\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16'], gateway: 'fd00::1' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['fd00::2/64'], gateway: 'fe80::1%eth0' }), /^gateway$/u);
    // The same IPv6 address spelt twice: refused here, not by the kernel after the veth is made.
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['fd00::2/64', 'fd00:0::2/64'] }), /^addresses\[1\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, hostIfname: 'veth%d' }), /^hostIfname$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, ifname: 'eth%d' }), /^ifname$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, ifname: 'a-name-far-too-long' }), /^ifname$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, hostIfname: 'bad/name' }), /^hostIfname$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, mac: '01:00:5e:00:00:01' }), /^mac$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, routes: [{ to: 'default' }] }), /^routes\[0\]\.to$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16', '10.88.0.2/24'] }), /^addresses\[1\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, netns: 'no/such' as string }), /^netns$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, gatewy: '10.88.0.1' } as never), /^gatewy$/u);
    // The container's own address is no gateway (the route would lead back into it), however spelt.
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16'], gateway: '10.88.0.2' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['fd00::2/64'], gateway: 'fd00:0::2' }), /^gateway$/u);
    // Host bits in a route's destination: the kernel refuses them for IPv4 only after the veth is
    // made, and drops them silently for IPv6 (the result would echo what it does not hold).
    const via = { addresses: ['10.88.0.2/16', 'fd00::2/64'] };
    await expectInvalidArgument(() => attachContainer({ ...base, ...via, routes: [{ to: '10.1.2.3/8', via: '10.88.0.1' }] }), /^routes\[0\]\.to$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, ...via, routes: [{ to: 'fd00:1::5/64', via: 'fd00::1' }] }), /^routes\[0\]\.to$/u);
    // With dad: true the container's IPv6 address is tentative when the route goes in; the kernel
    // would refuse it as a source every time.
    await expectInvalidArgument(
      () => attachContainer({ ...base, ...via, dad: true, routes: [{ to: 'fd01::/64', via: 'fd00::1', src: 'fd00::2' }] }),
      /^routes\[0\]\.src$/u,
    );
    // What the kernel takes but leaves the container unreachable (or claiming every address),
    // and an MTU it refuses for IPv6 only once the veth exists.
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.0/16'] }), /^addresses\[0\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.255.255/16'] }), /^addresses\[0\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/0'] }), /^addresses\[0\]$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16'], gateway: '10.88.0.0' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/16'], gateway: '10.88.255.255' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['fd00::2/64'], mtu: 1279 }), /^mtu$/u);
    expect((await listLinks({ netns: c })).map((l) => l.name)).toEqual(['lo']);
  });

  it('a /31 or /32 has no network or broadcast address to refuse; an IPv4-only container takes a small MTU', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('p2p');
    const r = await attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.89.0.0/31', '10.89.1.255/32'], mtu: 1000 });
    expect(r.addresses).toEqual(['10.89.0.0/31', '10.89.1.255/32']);
    expect(ipLinkOrThrow('eth0', c.name).mtu).toBe(1000);
  });

  it('a bridge that is no link, or no bridge, is named in the error', async () => {
    const { host } = await hostWithBridge();
    const c = await res.netns('nb');
    const missing = await rejectionOf(() => attachContainer({ netns: c, hostNetns: host, bridge: 99999 }));
    expect(missing).toBeInstanceOf(NetlinkError);
    expect((missing as NetlinkError).object).toMatch(/on link #99999$/u);
    const lo = await rejectionOf(() => attachContainer({ netns: c, hostNetns: host, bridge: 'lo' }));
    expect((lo as NetlinkError).object).toMatch(/on link lo$/u);
    expect((await listLinks({ netns: c })).map((l) => l.name)).toEqual(['lo']);
    expect((await listLinks({ netns: host, kind: 'veth' })).map((l) => l.name)).toEqual([]);
  });

  it('what the validation lets through, the kernel takes: a link-local IPv6 gateway, a DAD-free source, an IPv6 metric 0', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('ok');
    const r = await attachContainer({
      netns: c, hostNetns: host, bridge: bridgeIndex, addresses: ['10.88.0.2/16', 'fd00::2/64'], gateways: ['10.88.0.1', 'fe80::1'],
      routes: [{ to: 'fd01::/64', via: 'fd00::1', src: 'fd00::2', metric: 0 }],
    });
    const fdRoute = { family: 6, to: 'fd01::/64', via: 'fd00::1', dev: r.container.index, metric: 1024 };
    expect(r.routes).toContainEqual({ family: 6, to: 'default', via: 'fe80::1', dev: r.container.index });
    expect(r.routes).toContainEqual(fdRoute);
    const held = await listRoutes({ netns: c, family: 6 });
    expect(held).toContainEqual(expect.objectContaining({ to: 'default', via: 'fe80::1', dev: r.container.index }));
    expect(held).toContainEqual(expect.objectContaining({ ...fdRoute, src: 'fd00::2' }));
    await detachContainer({ netns: c });
  });

  it('a gateway is checked against the subnets bit by bit, at the prefix boundary, for both families', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('sub');
    const base = { netns: c, hostNetns: host, bridge: bridgeIndex };
    // Just outside: the first address past a /20 and past a /61; a /31's other half.
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.16.2/20'], gateway: '10.88.32.1' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['10.88.0.2/31'], gateway: '10.88.0.4' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['fd00:0:0:8::2/61'], gateway: 'fd00:0:0:10::1' }), /^gateway$/u);
    await expectInvalidArgument(() => attachContainer({ ...base, addresses: ['fd00::2/128'], gateway: 'fd00::1' }), /^gateway$/u);
    expect((await listLinks({ netns: c })).map((l) => l.name)).toEqual(['lo']);
    // Just inside (the last address of the /20, the /61 written with an embedded IPv4 tail): the
    // check passes and the attach goes through.
    const r = await attachContainer({
      ...base, addresses: ['10.88.16.2/20', 'fd00:0:0:8::2/61'], gateways: ['10.88.31.254', 'fd00:0:0:f:ffff:ffff:255.255.255.254'],
    });
    expect(r.routes.map((x) => x.via)).toEqual(['10.88.31.254', 'fd00::f:ffff:ffff:ffff:fffe']);
    await detachContainer({ netns: c });
  });

  it('an unknown namespace is a SystemError ENOENT, and nothing is made on the host', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const err = await rejectionOf(() => attachContainer({ netns: names.netns('missing'), hostNetns: host, bridge: bridgeIndex }));
    expect((err as NlkitError).code).toBe('ENOENT');
    expect((await listLinks({ netns: host })).map((l) => l.name)).toEqual(['lo', 'br0']);
  });
});

describe('attachContainer: churn', () => {
  it('1,000 attach/detach cycles leave the fd count and the link counts where they started', async () => {
    const { host, bridgeIndex } = await hostWithBridge();
    const c = await res.netns('churn');
    const countFds = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return /^(socket|net):/u.test(readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          return false;
        }
      }).length;
    const cycle = async (i: number): Promise<void> => {
      const r = await attachContainer({ netns: c, hostNetns: host, bridge: bridgeIndex, addresses: [`10.88.${1 + (i >> 8)}.${(i & 255) || 2}/16`], gateway: '10.88.0.1' });
      await detachContainer({ hostIfname: r.host.name, hostNetns: host });
    };
    for (let i = 0; i < 10; i++) await cycle(i); // warm: pooled sockets for both namespaces exist now
    const fdsBefore = countFds();
    const hostLinks = (await listLinks({ netns: host })).length;
    const ctrLinks = (await listLinks({ netns: c })).length;
    for (let i = 10; i < 1010; i++) await cycle(i);
    expect(countFds()).toBe(fdsBefore);
    expect((await listLinks({ netns: host })).length).toBe(hostLinks);
    expect((await listLinks({ netns: c })).length).toBe(ctrLinks);
  }, 120_000);
});
