// Neighbours: ARP (IPv4) and NDP (IPv6) entries and bridge forwarding-database entries (on bridge
// ports and on VXLAN devices), made with nlkit in fresh namespaces and read back through nlkit and
// through `ip -j neigh show` / `bridge -j fdb show`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addNeighbor,
  createBridge,
  createLink,
  createVethPair,
  deleteNeighbor,
  listNeighbors,
  setLink,
  type Link,
  type NeighborSpec,
  type NeighborState,
  type Neighbor,
  type NetnsHandle,
} from '../lib/index';
import { eventually, expectInvalidArgument, expectNetlinkError } from './helpers/expect';
import { bridgeFdb, ipLinkOrThrow, ipNeighbors, type BridgeFdbEntry, type IpNeigh } from './helpers/ip';
import { probe, type Probe } from './helpers/kernel';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qnb');
const res = new Resources(names);

let vlanFiltering: Probe = { supported: undefined, error: new Error('not probed yet') };
beforeAll(async () => {
  vlanFiltering = await probe('bridge-vlan-filtering');
});
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

type Ns = NetnsHandle & { name: string };

/** A fresh named namespace with a veth pair a0/b0, both ends up (so carrier is stable). */
async function nsWithVeth(tag = 'v'): Promise<{ ns: Ns; a: Link; bIndex: number }> {
  const ns = await res.netns(tag);
  const pair = await createVethPair({ name: 'a0', peer: { name: 'b0' }, netns: ns, up: true });
  await setLink('b0', { up: true }, { netns: ns });
  return { ns, a: pair.link, bIndex: pair.peer.index };
}

/** A namespace with bridge br0 (up) and a veth whose end p0 is a port of it; both ends up. */
async function nsWithBridgePort(opts: { vlanFiltering?: boolean } = {}): Promise<{ ns: Ns; br: Link; port: Link }> {
  const ns = await res.netns('br');
  const br = await createBridge('br0', { netns: ns, up: true, ...(opts.vlanFiltering ? { vlanFiltering: true } : {}) });
  const pair = await createVethPair({ name: 'p0', peer: { name: 'p1' }, netns: ns, up: true, master: 'br0' });
  await setLink('p1', { up: true }, { netns: ns });
  expect(pair.link.master).toBe(br.index);
  return { ns, br, port: pair.link };
}

function ipEntry(ns: string, address: string, dev?: string): IpNeigh | undefined {
  return ipNeighbors(ns, dev !== undefined ? { dev } : {}).find((n) => n.dst === address);
}

function fdbWith(ns: string, mac: string, dev?: string): BridgeFdbEntry[] {
  return bridgeFdb(ns, dev).filter((e) => e.mac === mac);
}

async function nlEntry(ns: Ns, address: string): Promise<Neighbor | undefined> {
  return (await listNeighbors({ netns: ns })).find((n) => n.address === address);
}

async function nlFdb(ns: Ns, mac: string, dev?: string): Promise<Neighbor[]> {
  return (await listNeighbors({ netns: ns, family: 'bridge', ...(dev !== undefined ? { dev } : {}) })).filter((n) => n.mac === mac);
}

describe('ARP and NDP entries', () => {
  it('IPv4: a permanent ARP entry is added, read back through nlkit and ip, and deleted', async () => {
    const { ns, a } = await nsWithVeth();
    await addNeighbor({ netns: ns, dev: 'a0', address: '10.61.0.2', mac: '02:AB:CD:EF:00:02' });

    const mine = (await listNeighbors({ netns: ns, family: 4 })).filter((n) => n.address === '10.61.0.2');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ family: 4, dev: a.index, address: '10.61.0.2', mac: '02:ab:cd:ef:00:02', state: ['permanent'] });
    expect(mine[0]!.dst).toBeUndefined();
    expect(mine[0]!.flags).toEqual([]);

    const seen = ipEntry(ns.name, '10.61.0.2');
    expect(seen).toMatchObject({ dev: 'a0', lladdr: '02:ab:cd:ef:00:02', state: ['PERMANENT'] });

    await deleteNeighbor({ netns: ns, dev: 'a0', address: '10.61.0.2' });
    expect(ipEntry(ns.name, '10.61.0.2')).toBeUndefined();
    expect(await nlEntry(ns, '10.61.0.2')).toBeUndefined();
  });

  it('IPv6: an NDP entry on a veth, by ifindex, reads back as family 6 and is deleted', async () => {
    const { ns, a } = await nsWithVeth();
    await addNeighbor({ netns: ns, dev: a.index, address: 'fd61::2', mac: '02:00:00:61:00:02' });
    await addNeighbor({ netns: ns, dev: 'a0', address: 'fe80::61:2', mac: '02:00:00:61:00:03', state: 'stale' });

    const v6 = await listNeighbors({ netns: ns, family: 6 });
    expect(v6.find((n) => n.address === 'fd61::2')).toMatchObject({ family: 6, dev: a.index, mac: '02:00:00:61:00:02', state: ['permanent'] });
    expect(v6.find((n) => n.address === 'fe80::61:2')).toMatchObject({ family: 6, dev: a.index, mac: '02:00:00:61:00:03', state: ['stale'] });
    // Not in the IPv4 table.
    expect((await listNeighbors({ netns: ns, family: 4 })).some((n) => n.address === 'fd61::2')).toBe(false);

    const seen = ipNeighbors(ns.name, { family: 6 });
    expect(seen.find((n) => n.dst === 'fd61::2')).toMatchObject({ dev: 'a0', lladdr: '02:00:00:61:00:02', state: ['PERMANENT'] });
    expect(seen.find((n) => n.dst === 'fe80::61:2')).toMatchObject({ dev: 'a0', lladdr: '02:00:00:61:00:03', state: ['STALE'] });
    expect(ipNeighbors(ns.name, { family: 4 }).some((n) => n.dst === 'fd61::2')).toBe(false);

    await deleteNeighbor({ netns: ns, dev: 'a0', address: 'fd61::2' });
    expect(ipEntry(ns.name, 'fd61::2')).toBeUndefined();
    expect(await nlEntry(ns, 'fd61::2')).toBeUndefined();
    // The other entry is untouched.
    expect(ipEntry(ns.name, 'fe80::61:2')).toBeDefined();
  });

  it('states permanent, noarp, reachable, stale (and a combination) reach the kernel', async () => {
    const { ns, a } = await nsWithVeth();
    const cases: { address: string; state: NeighborState | NeighborState[]; want: NeighborState[] }[] = [
      { address: '10.62.0.1', state: 'permanent', want: ['permanent'] },
      { address: '10.62.0.2', state: 'noarp', want: ['noarp'] },
      { address: '10.62.0.3', state: 'reachable', want: ['reachable'] },
      { address: '10.62.0.4', state: 'stale', want: ['stale'] },
      { address: '10.62.0.5', state: ['noarp', 'permanent'], want: ['noarp', 'permanent'] },
      { address: 'fd62::3', state: ['reachable'], want: ['reachable'] },
      { address: 'fd62::4', state: 'stale', want: ['stale'] },
    ];
    for (const [i, c] of cases.entries()) {
      await addNeighbor({ netns: ns, dev: 'a0', address: c.address, mac: `02:00:00:62:00:0${i}`, state: c.state });
    }
    const listed = await listNeighbors({ netns: ns, dev: 'a0' });
    const seen = ipNeighbors(ns.name, { dev: 'a0' });
    for (const [i, c] of cases.entries()) {
      const n = listed.find((x) => x.address === c.address);
      expect(n, c.address).toMatchObject({ dev: a.index, mac: `02:00:00:62:00:0${i}` });
      expect([...n!.state].sort(), c.address).toEqual([...c.want].sort());
      const s = seen.find((x) => x.dst === c.address);
      expect(s?.lladdr, c.address).toBe(`02:00:00:62:00:0${i}`);
      expect([...(s?.state ?? [])].sort(), c.address).toEqual(c.want.map((w) => w.toUpperCase()).sort());
    }
  });

  it('a second create of the same entry is EEXIST and changes nothing; replace: true changes it', async () => {
    const { ns } = await nsWithVeth();
    await addNeighbor({ netns: ns, dev: 'a0', address: '10.63.0.2', mac: '02:00:00:63:00:01' });
    const err = await expectNetlinkError(
      () => addNeighbor({ netns: ns, dev: 'a0', address: '10.63.0.2', mac: '02:00:00:63:00:02' }),
      'EEXIST',
    );
    expect(err.operation).toBe('addNeighbor');
    expect(ipEntry(ns.name, '10.63.0.2')?.lladdr).toBe('02:00:00:63:00:01');
    expect((await nlEntry(ns, '10.63.0.2'))?.mac).toBe('02:00:00:63:00:01');

    await addNeighbor({ netns: ns, dev: 'a0', address: '10.63.0.2', mac: '02:00:00:63:00:02', state: 'stale', replace: true });
    expect(ipEntry(ns.name, '10.63.0.2')).toMatchObject({ lladdr: '02:00:00:63:00:02', state: ['STALE'] });
    expect(await nlEntry(ns, '10.63.0.2')).toMatchObject({ mac: '02:00:00:63:00:02', state: ['stale'] });
    expect(ipNeighbors(ns.name).filter((n) => n.dst === '10.63.0.2')).toHaveLength(1);

    // replace creates an entry that is missing (NLM_F_CREATE | NLM_F_REPLACE).
    await addNeighbor({ netns: ns, dev: 'a0', address: 'fd63::2', mac: '02:00:00:63:00:06', replace: true });
    expect(ipEntry(ns.name, 'fd63::2')).toMatchObject({ lladdr: '02:00:00:63:00:06', state: ['PERMANENT'] });
    // And IPv6 duplicates are refused the same way.
    await expectNetlinkError(() => addNeighbor({ netns: ns, dev: 'a0', address: 'fd63::2', mac: '02:00:00:63:00:07' }), 'EEXIST');
    expect(ipEntry(ns.name, 'fd63::2')?.lladdr).toBe('02:00:00:63:00:06');
  });

  it('deleting a missing entry is ENOENT; a deleted entry cannot be deleted twice', async () => {
    const { ns } = await nsWithVeth();
    const err = await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'a0', address: '10.64.0.9' }), 'ENOENT');
    expect(err.operation).toBe('deleteNeighbor');
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'a0', address: 'fd64::9' }), 'ENOENT');

    await addNeighbor({ netns: ns, dev: 'a0', address: '10.64.0.2', mac: '02:00:00:64:00:02' });
    // The entry lives on a0, not on b0.
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'b0', address: '10.64.0.2' }), 'ENOENT');
    expect(ipEntry(ns.name, '10.64.0.2', 'a0')).toBeDefined();
    await deleteNeighbor({ netns: ns, dev: 'a0', address: '10.64.0.2' });
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'a0', address: '10.64.0.2' }), 'ENOENT');
    expect(ipEntry(ns.name, '10.64.0.2')).toBeUndefined();
  });

  it('entries live in their own namespace only', async () => {
    const one = await nsWithVeth('x');
    const two = await nsWithVeth('y');
    await addNeighbor({ netns: one.ns, dev: 'a0', address: '10.65.0.2', mac: '02:00:00:65:00:02' });
    expect(ipEntry(one.ns.name, '10.65.0.2')).toBeDefined();
    expect(ipEntry(two.ns.name, '10.65.0.2')).toBeUndefined();
    expect(await nlEntry(one.ns, '10.65.0.2')).toBeDefined();
    expect(await nlEntry(two.ns, '10.65.0.2')).toBeUndefined();
    // The same-named device in the other namespace has no such entry to delete.
    await expectNetlinkError(() => deleteNeighbor({ netns: two.ns, dev: 'a0', address: '10.65.0.2' }), 'ENOENT');
    expect(ipEntry(one.ns.name, '10.65.0.2')).toBeDefined();
  });
});

describe('bridge FDB entries on a bridge port', () => {
  it("master: true puts a static entry in the bridge's table; self: true in the port's own", async () => {
    const { ns, br, port } = await nsWithBridgePort();
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:71:00:01', master: true });
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:71:00:02', self: true });

    const m = await nlFdb(ns, '02:00:00:71:00:01');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ family: 'bridge', dev: port.index, master: br.index, state: ['permanent'] });
    expect(m[0]!.flags).not.toContain('self');
    expect(m[0]!.address).toBeUndefined();
    const s = await nlFdb(ns, '02:00:00:71:00:02');
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ family: 'bridge', dev: port.index, state: ['permanent'] });
    expect(s[0]!.flags).toContain('self');
    expect(s[0]!.master).toBeUndefined();

    const mSeen = fdbWith(ns.name, '02:00:00:71:00:01');
    expect(mSeen).toHaveLength(1);
    expect(mSeen[0]).toMatchObject({ ifname: 'p0', master: 'br0', state: 'permanent' });
    expect(mSeen[0]!.flags).not.toContain('self');
    const sSeen = fdbWith(ns.name, '02:00:00:71:00:02');
    expect(sSeen).toHaveLength(1);
    expect(sSeen[0]).toMatchObject({ ifname: 'p0', state: 'permanent' });
    expect(sSeen[0]!.flags).toContain('self');
    expect(sSeen[0]!.master).toBeUndefined();

    // A delete without `master` means the port's own table, where the master entry is not.
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:71:00:01' }), 'ENOENT');
    expect(fdbWith(ns.name, '02:00:00:71:00:01')).toHaveLength(1);
    await deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:71:00:01', master: true });
    expect(fdbWith(ns.name, '02:00:00:71:00:01')).toEqual([]);
    expect(await nlFdb(ns, '02:00:00:71:00:01')).toEqual([]);
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:71:00:01', master: true }), 'ENOENT');

    await deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:71:00:02', self: true });
    expect(fdbWith(ns.name, '02:00:00:71:00:02')).toEqual([]);
    expect(await nlFdb(ns, '02:00:00:71:00:02')).toEqual([]);
  });

  it('without address or flags an entry is an FDB self entry (bridge fdb add default); bridge: true likewise', async () => {
    const { ns, port } = await nsWithBridgePort();
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:72:00:01' });
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:72:00:02', bridge: true });
    for (const mac of ['02:00:00:72:00:01', '02:00:00:72:00:02']) {
      const nl = await nlFdb(ns, mac);
      expect(nl, mac).toHaveLength(1);
      expect(nl[0]).toMatchObject({ family: 'bridge', dev: port.index });
      expect(nl[0]!.flags).toContain('self');
      const seen = fdbWith(ns.name, mac, 'p0');
      expect(seen, mac).toHaveLength(1);
      expect(seen[0]!.flags).toContain('self');
      // Not an ARP entry.
      expect(ipNeighbors(ns.name).some((n) => n.lladdr === mac)).toBe(false);
    }
    // A duplicate create is EEXIST here too.
    await expectNetlinkError(() => addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:72:00:01' }), 'EEXIST');
  });

  it('replace: true moves a master entry to another port; without it the move is EEXIST', async () => {
    const { ns, br, port } = await nsWithBridgePort();
    const other = await createVethPair({ name: 'q0', peer: { name: 'q1' }, netns: ns, up: true, master: 'br0' });
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:77:00:01', master: true });
    await expectNetlinkError(() => addNeighbor({ netns: ns, dev: 'q0', mac: '02:00:00:77:00:01', master: true }), 'EEXIST');
    expect(fdbWith(ns.name, '02:00:00:77:00:01')).toMatchObject([{ ifname: 'p0', master: 'br0' }]);
    await addNeighbor({ netns: ns, dev: 'q0', mac: '02:00:00:77:00:01', master: true, replace: true });
    expect(fdbWith(ns.name, '02:00:00:77:00:01')).toMatchObject([{ ifname: 'q0', master: 'br0' }]);
    expect(await nlFdb(ns, '02:00:00:77:00:01')).toMatchObject([{ dev: other.link.index, master: br.index }]);
    expect(await nlFdb(ns, '02:00:00:77:00:01', 'p0')).toEqual([]);
    expect(port.index).not.toBe(other.link.index);
  });

  it('master and self together add the entry to both tables', async () => {
    const { ns, br } = await nsWithBridgePort();
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:78:00:01', master: true, self: true });
    const nl = await nlFdb(ns, '02:00:00:78:00:01', 'p0');
    expect(nl).toHaveLength(2);
    expect(nl.filter((n) => n.master === br.index && !n.flags.includes('self'))).toHaveLength(1);
    expect(nl.filter((n) => n.master === undefined && n.flags.includes('self'))).toHaveLength(1);
    const seen = fdbWith(ns.name, '02:00:00:78:00:01', 'p0');
    expect(seen).toHaveLength(2);
    expect(seen.filter((e) => e.master === 'br0')).toHaveLength(1);
    expect(seen.filter((e) => e.flags.includes('self'))).toHaveLength(1);
  });

  it('master entries: noarp is static, reachable is a dynamic (learned-like) entry', async () => {
    const { ns, br, port } = await nsWithBridgePort();
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:73:00:01', master: true, state: 'noarp' });
    // A dynamic entry needs the port to be learning or forwarding; the carrier change that gets it
    // there is processed asynchronously (EPERM until then).
    await eventually(() => addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:73:00:02', master: true, state: 'reachable' }));

    expect(await nlFdb(ns, '02:00:00:73:00:01')).toMatchObject([{ dev: port.index, master: br.index, state: ['noarp'] }]);
    expect(fdbWith(ns.name, '02:00:00:73:00:01')).toMatchObject([{ ifname: 'p0', master: 'br0', state: 'static' }]);
    const dyn = await nlFdb(ns, '02:00:00:73:00:02');
    expect(dyn).toHaveLength(1);
    expect(dyn[0]!.state).not.toContain('permanent');
    expect(dyn[0]!.state).not.toContain('noarp');
    expect(dyn[0]).toMatchObject({ dev: port.index, master: br.index });
    const dynSeen = fdbWith(ns.name, '02:00:00:73:00:02');
    expect(dynSeen).toHaveLength(1);
    expect(dynSeen[0]!.master).toBe('br0');
    expect(['permanent', 'static']).not.toContain(dynSeen[0]!.state);
  });

  it('vlan on an FDB entry (bridge with VLAN filtering): read back with its vlan, deleted by vlan', async (ctx) => {
    ctx.skip(vlanFiltering.supported !== true, 'this kernel lacks bridge VLAN filtering');
    const { ns, port } = await nsWithBridgePort({ vlanFiltering: true });
    // VLAN 1 is the default PVID every new port is a member of.
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:74:00:01', master: true, vlan: 1 });
    expect(await nlFdb(ns, '02:00:00:74:00:01')).toMatchObject([{ dev: port.index, vlan: 1 }]);
    expect(fdbWith(ns.name, '02:00:00:74:00:01')).toMatchObject([{ ifname: 'p0', vlan: 1, master: 'br0' }]);
    // A VLAN the port is not a member of.
    await expectNetlinkError(() => addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:74:00:02', master: true, vlan: 7 }), 'EINVAL');
    // The entry is keyed by (mac, vlan): without the vlan there is nothing to delete.
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:74:00:01', master: true }), 'ENOENT');
    await deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:74:00:01', master: true, vlan: 1 });
    expect(fdbWith(ns.name, '02:00:00:74:00:01')).toEqual([]);
  });

  it('vlan on an FDB entry (bridge without VLAN filtering): the kernel refuses the vlan, not the entry', async (ctx) => {
    ctx.skip(vlanFiltering.supported !== false, 'this kernel has bridge VLAN filtering');
    const { ns, port } = await nsWithBridgePort();
    // The bridge knows no VLANs, so NDA_VLAN reaching it makes the request invalid...
    await expectNetlinkError(() => addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:74:00:01', master: true, vlan: 1 }), 'EINVAL');
    expect(fdbWith(ns.name, '02:00:00:74:00:01')).toEqual([]);
    expect(await nlFdb(ns, '02:00:00:74:00:01')).toEqual([]);
    // ...while the same entry without it is fine and carries no vlan.
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:74:00:01', master: true });
    const nl = await nlFdb(ns, '02:00:00:74:00:01');
    expect(nl).toMatchObject([{ dev: port.index }]);
    expect(nl[0]!.vlan).toBeUndefined();
    const seen = fdbWith(ns.name, '02:00:00:74:00:01');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.vlan).toBeUndefined();
  });
});

describe('FDB entries on a VXLAN device', () => {
  async function nsWithVxlan(): Promise<{ ns: Ns; vx: Link }> {
    const ns = await res.netns('vx');
    const vx = await createLink({ kind: 'vxlan', name: 'vx0', vni: 4242, local: '10.66.0.1', port: 4789, learning: false, netns: ns });
    expect(vx.vxlan).toMatchObject({ vni: 4242, local: '10.66.0.1', port: 4789, learning: false });
    const d = ipLinkOrThrow('vx0', ns.name).linkinfo?.info_data ?? {};
    expect(d.id).toBe(4242);
    expect(d.learning).toBe(false);
    return { ns, vx };
  }
  const ZERO = '00:00:00:00:00:00';

  it('all-zero MAC default entries with append: true for two remotes; each remote deleted on its own', async () => {
    const { ns, vx } = await nsWithVxlan();
    await addNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.1.1', append: true });
    await addNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.1.2', append: true });

    const nl = await nlFdb(ns, ZERO, 'vx0');
    expect(nl.map((n) => n.dst).sort()).toEqual(['10.66.1.1', '10.66.1.2']);
    for (const n of nl) {
      expect(n).toMatchObject({ family: 'bridge', dev: vx.index, state: ['permanent'] });
      expect(n.flags).toContain('self');
      expect(n.address).toBeUndefined();
    }
    const seen = fdbWith(ns.name, ZERO, 'vx0');
    expect(seen.map((e) => e.dst).sort()).toEqual(['10.66.1.1', '10.66.1.2']);
    for (const e of seen) expect(e.flags).toContain('self');

    await deleteNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.1.1' });
    expect(fdbWith(ns.name, ZERO, 'vx0').map((e) => e.dst)).toEqual(['10.66.1.2']);
    expect((await nlFdb(ns, ZERO, 'vx0')).map((n) => n.dst)).toEqual(['10.66.1.2']);
    await deleteNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.1.2' });
    expect(fdbWith(ns.name, ZERO, 'vx0')).toEqual([]);
    expect(await nlFdb(ns, ZERO, 'vx0')).toEqual([]);
    // With its last remote gone the MAC has no entry left to delete.
    await expectNetlinkError(() => deleteNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.1.2' }), 'ENOENT');
  });

  it('without append a second remote for the same MAC is EEXIST; replace moves a unicast entry; vni per entry', async () => {
    const { ns, vx } = await nsWithVxlan();
    await addNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.2.1' });
    const dup = await expectNetlinkError(() => addNeighbor({ netns: ns, dev: 'vx0', mac: ZERO, dst: '10.66.2.2' }), 'EEXIST');
    // Named by its MAC and remote: a vxlan holds many entries.
    expect(dup.object).toBe('fdb entry 00:00:00:00:00:00 dst 10.66.2.2 on link vx0');
    expect(fdbWith(ns.name, ZERO, 'vx0').map((e) => e.dst)).toEqual(['10.66.2.1']);

    await addNeighbor({ netns: ns, dev: 'vx0', mac: '02:00:00:75:00:01', dst: '10.66.2.3' });
    await addNeighbor({ netns: ns, dev: 'vx0', mac: '02:00:00:75:00:01', dst: '10.66.2.4', replace: true });
    expect(fdbWith(ns.name, '02:00:00:75:00:01', 'vx0').map((e) => e.dst)).toEqual(['10.66.2.4']);
    expect((await nlFdb(ns, '02:00:00:75:00:01', 'vx0')).map((n) => n.dst)).toEqual(['10.66.2.4']);

    await addNeighbor({ netns: ns, dev: 'vx0', mac: '02:00:00:75:00:02', dst: '10.66.2.5', vni: 777 });
    expect(await nlFdb(ns, '02:00:00:75:00:02', 'vx0')).toMatchObject([{ dev: vx.index, dst: '10.66.2.5', vni: 777 }]);
    expect(fdbWith(ns.name, '02:00:00:75:00:02', 'vx0')).toMatchObject([{ dst: '10.66.2.5', vni: 777 }]);
    // An entry without vni uses the device's own and is printed without one.
    expect((await nlFdb(ns, '02:00:00:75:00:01', 'vx0'))[0]?.vni).toBeUndefined();
    expect(fdbWith(ns.name, '02:00:00:75:00:01', 'vx0')[0]?.vni).toBeUndefined();
  });
});

describe('FDB entries on an IPv6 VXLAN device', () => {
  it('default entries to two IPv6 remotes read back with their IPv6 dst', async () => {
    const ns = await res.netns('v6');
    const vx = await createLink({ kind: 'vxlan', name: 'vx6', vni: 600, local: 'fd66::1', port: 4789, learning: false, netns: ns });
    expect(vx.vxlan?.local).toBe('fd66::1');
    await addNeighbor({ netns: ns, dev: 'vx6', mac: '00:00:00:00:00:00', dst: 'fd66::2', append: true });
    await addNeighbor({ netns: ns, dev: 'vx6', mac: '00:00:00:00:00:00', dst: 'fd66:0:0:0:0:0:0:3', append: true });
    await addNeighbor({ netns: ns, dev: 'vx6', mac: '02:00:00:76:00:01', dst: 'fd66::abcd:4', vni: 601 });
    const nl = await listNeighbors({ netns: ns, dev: vx.index, family: 'bridge' });
    expect(nl.filter((n) => n.mac === '00:00:00:00:00:00').map((n) => n.dst).sort()).toEqual(['fd66::2', 'fd66::3']);
    expect(nl.find((n) => n.mac === '02:00:00:76:00:01')).toMatchObject({ dst: 'fd66::abcd:4', vni: 601, dev: vx.index });
    const seen = bridgeFdb(ns.name, 'vx6');
    expect(seen.filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst).sort()).toEqual(['fd66::2', 'fd66::3']);
    expect(seen.find((e) => e.mac === '02:00:00:76:00:01')).toMatchObject({ dst: 'fd66::abcd:4', vni: 601 });
    await deleteNeighbor({ netns: ns, dev: 'vx6', mac: '00:00:00:00:00:00', dst: 'fd66::3' });
    expect(bridgeFdb(ns.name, 'vx6').filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst)).toEqual(['fd66::2']);
  });
});

describe('many entries', () => {
  it('600 entries added concurrently all come back in one (multi-part) dump, as ip lists them', async () => {
    const { ns, a } = await nsWithVeth();
    const want: string[] = [];
    for (let i = 0; i < 300; i++) want.push(`10.69.${i >> 8}.${i & 255}`, `fd69::1:${i.toString(16)}`);
    const mac = (i: number) => `02:00:00:69:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    await Promise.all(want.map((address, i) => addNeighbor({ netns: ns, dev: 'a0', address, mac: mac(i) })));
    const listed = (await listNeighbors({ netns: ns, dev: 'a0' })).filter((n) => n.state.includes('permanent'));
    expect(listed).toHaveLength(600);
    expect(new Set(listed.map((n) => n.address)).size).toBe(600);
    const byAddress = new Map(listed.map((n) => [n.address, n]));
    want.forEach((address, i) => {
      expect(byAddress.get(address)?.mac, address).toBe(mac(i));
      expect(byAddress.get(address)?.dev).toBe(a.index);
    });
    const seen = ipNeighbors(ns.name, { dev: 'a0' }).filter((n) => n.state.includes('PERMANENT'));
    expect(seen.map((n) => `${n.dst}=${n.lladdr}`).sort()).toEqual(listed.map((n) => `${n.address}=${n.mac}`).sort());
    expect((await listNeighbors({ netns: ns, family: 6, dev: 'a0' })).filter((n) => n.state.includes('permanent'))).toHaveLength(300);
  });
});

describe('listNeighbors filters', () => {
  it('family 4, 6 and bridge, and dev by name or ifindex, select what ip shows', async () => {
    const ns = await res.netns('f');
    const x = await createVethPair({ name: 'x0', peer: { name: 'x1' }, netns: ns, up: true });
    const y = await createVethPair({ name: 'y0', peer: { name: 'y1' }, netns: ns, up: true });
    await setLink('x1', { up: true }, { netns: ns });
    await setLink('y1', { up: true }, { netns: ns });
    await addNeighbor({ netns: ns, dev: 'x0', address: '10.67.0.1', mac: '02:00:00:67:00:01' });
    await addNeighbor({ netns: ns, dev: 'x0', address: 'fd67::1', mac: '02:00:00:67:00:02' });
    await addNeighbor({ netns: ns, dev: 'y0', address: '10.67.0.2', mac: '02:00:00:67:00:03' });
    await addNeighbor({ netns: ns, dev: 'y0', address: 'fd67::2', mac: '02:00:00:67:00:04' });
    await addNeighbor({ netns: ns, dev: 'x0', mac: '02:00:00:67:00:05', self: true });
    const ours = ['10.67.0.1', 'fd67::1', '10.67.0.2', 'fd67::2'];
    const key = (address: string | undefined, dev: number) => `${address}@${dev}`;
    const ipKey = (n: IpNeigh) => `${n.dst}@${ipLinkOrThrow(n.dev, ns.name).ifindex}`;

    const all = await listNeighbors({ netns: ns });
    expect(all.filter((n) => ours.includes(n.address!)).map((n) => key(n.address, n.dev)).sort()).toEqual(
      ipNeighbors(ns.name).filter((n) => ours.includes(n.dst)).map(ipKey).sort(),
    );
    expect(all.filter((n) => ours.includes(n.address!))).toHaveLength(4);

    const v4 = await listNeighbors({ netns: ns, family: 4 });
    expect(v4.every((n) => n.family === 4 && n.address !== undefined && !n.address.includes(':'))).toBe(true);
    expect(v4.filter((n) => ours.includes(n.address!)).map((n) => n.address).sort()).toEqual(['10.67.0.1', '10.67.0.2']);
    const v6 = await listNeighbors({ netns: ns, family: 6 });
    expect(v6.every((n) => n.family === 6 && n.address !== undefined && n.address.includes(':'))).toBe(true);
    expect(v6.filter((n) => ours.includes(n.address!)).map((n) => n.address).sort()).toEqual(['fd67::1', 'fd67::2']);

    const onX = await listNeighbors({ netns: ns, dev: 'x0' });
    expect(onX.length).toBeGreaterThan(0);
    expect(onX.every((n) => n.dev === x.link.index)).toBe(true);
    expect(onX.filter((n) => ours.includes(n.address!)).map((n) => n.address).sort()).toEqual(['10.67.0.1', 'fd67::1']);
    expect(ipNeighbors(ns.name, { dev: 'x0' }).filter((n) => ours.includes(n.dst)).map((n) => n.dst).sort()).toEqual(['10.67.0.1', 'fd67::1']);
    const byIndex = await listNeighbors({ netns: ns, dev: y.link.index, family: 6 });
    expect(byIndex.every((n) => n.dev === y.link.index && n.family === 6)).toBe(true);
    expect(byIndex.filter((n) => ours.includes(n.address!)).map((n) => n.address)).toEqual(['fd67::2']);

    const fdb = await listNeighbors({ netns: ns, family: 'bridge' });
    expect(fdb.length).toBeGreaterThan(0);
    expect(fdb.every((n) => n.family === 'bridge' && n.address === undefined && n.mac !== undefined)).toBe(true);
    expect(fdb.some((n) => n.mac === '02:00:00:67:00:05' && n.dev === x.link.index)).toBe(true);
    expect(bridgeFdb(ns.name, 'x0').some((e) => e.mac === '02:00:00:67:00:05')).toBe(true);
    const fdbY = await listNeighbors({ netns: ns, family: 'bridge', dev: 'y0' });
    expect(fdbY.every((n) => n.dev === y.link.index)).toBe(true);
    expect(fdbY.map((n) => n.mac).sort()).toEqual(bridgeFdb(ns.name, 'y0').map((e) => e.mac).sort());
    expect(fdbY.some((n) => n.mac === '02:00:00:67:00:05')).toBe(false);
  });

  it('a missing device is ENODEV; a bad family or option is refused', async () => {
    const { ns } = await nsWithVeth();
    await expectNetlinkError(() => listNeighbors({ netns: ns, dev: 'nosuch0' }), 'ENODEV');
    await expectInvalidArgument(() => listNeighbors({ netns: ns, family: 5 as unknown as 4 }), /^opts\.family$/);
    await expectInvalidArgument(() => listNeighbors({ netns: ns, dev: 'a/b' }), /^opts\.dev$/);
    await expectInvalidArgument(() => listNeighbors({ netns: ns, state: 'stale' } as never), /^opts\.state$/);
  });
});

describe('invalid input is refused before anything reaches the kernel', () => {
  it('bad MACs, dst or vni on an ARP entry, replace with append, bad states, a missing mac', async () => {
    const { ns } = await nsWithVeth();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ address: '10.68.0.1', mac: '02:00:00:00:01' }, /^mac$/],
      [{ address: '10.68.0.1', mac: '02-00-00-00-00-01' }, /^mac$/],
      [{ address: '10.68.0.1', mac: 'zz:00:00:00:00:01' }, /^mac$/],
      [{ address: '10.68.0.1', mac: 0x020000000001 }, /^mac$/],
      [{ mac: '02:00:00:00:00:0' }, /^mac$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', dst: '10.68.1.1' }, /^dst$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', vni: 5 }, /^(dst|vni)$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', replace: true, append: true }, /^(replace|append)$/],
      [{ mac: '02:00:00:68:00:01', replace: true, append: true }, /^(replace|append)$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', state: 'static' }, /^state/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', state: ['permanent', 'bogus'] }, /^state/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', state: 128 }, /^state/],
      [{ address: '10.68.0.1' }, /^mac$/],
      [{ address: 'fd68::1' }, /^mac$/],
      [{ bridge: true }, /^mac$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', bridge: true }, /^address$/],
      [{ address: '10.68.0.300', mac: '02:00:00:68:00:01' }, /^address$/],
      [{ address: '10.68.0.1/24', mac: '02:00:00:68:00:01' }, /^address$/],
      [{ mac: '02:00:00:68:00:01', dst: 'not-an-ip' }, /^dst$/],
      [{ mac: '02:00:00:68:00:01', vlan: 0 }, /^vlan$/],
      [{ mac: '02:00:00:68:00:01', vlan: 4095 }, /^vlan$/],
      [{ mac: '02:00:00:68:00:01', vni: 0x1000000 }, /^vni$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', lladdr: '02:00:00:68:00:01' }, /^lladdr$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', replace: 'yes' }, /^replace$/],
      // An ARP/NDP entry needs its address, and the kernel would drop FDB-only fields silently.
      [{ mac: '02:00:00:68:00:01', bridge: false }, /^address$/],
      [{ bridge: false }, /^address$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', vlan: 5 }, /^vlan$/],
      [{ address: '10.68.0.1', mac: '02:00:00:68:00:01', master: true }, /^master$/],
      [{ address: 'fd68::1', mac: '02:00:00:68:00:01', self: true }, /^self$/],
    ];
    for (const [extra, argument] of cases) {
      const spec = { netns: ns, dev: 'a0', ...extra } as NeighborSpec;
      await expectInvalidArgument(() => addNeighbor(spec), argument);
    }
    await expectInvalidArgument(() => addNeighbor({ netns: ns, address: '10.68.0.1', mac: '02:00:00:68:00:01' } as unknown as NeighborSpec), /^dev$/);
    await expectInvalidArgument(() => addNeighbor({ netns: ns, dev: 'a0 b', address: '10.68.0.1', mac: '02:00:00:68:00:01' }), /^dev$/);
    await expectInvalidArgument(() => addNeighbor(null as unknown as NeighborSpec), /^spec$/);
    await expectInvalidArgument(() => deleteNeighbor({ netns: ns, dev: 'a0', address: '10.68.0.1', dst: '10.68.1.1' }), /^dst$/);
    await expectInvalidArgument(() => deleteNeighbor({ netns: ns, dev: 'a0', mac: 'nope' }), /^mac$/);
    // Nothing reached the kernel.
    expect(ipNeighbors(ns.name).some((n) => n.dst.startsWith('10.68.') || n.dst.startsWith('fd68:'))).toBe(false);
    expect(bridgeFdb(ns.name).some((e) => e.mac.startsWith('02:00:00:68:'))).toBe(false);
  });
});
