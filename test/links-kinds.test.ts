// Link kinds beyond bridge/veth: macvlan and vxlan (built into this kernel), and dummy, vlan,
// ipvlan and bridge VLAN filtering, which some kernels (this machine's 6.18 among them) lack.
// For the optional ones, one test always runs and shows the request reached the kernel with
// that kind (created, or rejected with EOPNOTSUPP "Unknown device type"); the live create/read
// back test runs only where the kernel has the kind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createBridge,
  createLink,
  createVethPair,
  getLink,
  setLink,
  type Link,
  type MacvlanMode,
  type NetnsHandle,
} from '../lib/index';
import { expectInvalidArgument, expectNetlinkShape } from './helpers/expect';
import { infoData, ipLink, ipLinkOrThrow } from './helpers/ip';
import { probe, specFor, type OptionalFeature, type Probe } from './helpers/kernel';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qkd');
const res = new Resources(names);

const FEATURES: OptionalFeature[] = ['dummy', 'vlan', 'ipvlan', 'bridge-vlan-filtering'];
const unprobed: Probe = { supported: undefined, error: new Error('not probed yet') };
const probes: Record<OptionalFeature, Probe> = {
  dummy: unprobed,
  vlan: unprobed,
  ipvlan: unprobed,
  'bridge-vlan-filtering': unprobed,
};

// Probed once, through nlkit, in a throw-away namespace. The live tests skip themselves (at run
// time, with ctx.skip) where the kernel lacks the feature.
beforeAll(async () => {
  for (const f of FEATURES) probes[f] = await probe(f);
});

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** A fresh named namespace with a veth pair `p0`/`p1` to use as a parent. */
async function nsWithParent(): Promise<{ ns: NetnsHandle & { name: string }; parent: Link }> {
  const ns = await res.netns();
  const pair = await createVethPair({ name: 'p0', peer: { name: 'p1' }, netns: ns });
  return { ns, parent: pair.link };
}

describe('optional kinds: the request reaches the kernel either way', () => {
  const expectedInfoKind: Record<OptionalFeature, string> = {
    dummy: 'dummy',
    vlan: 'vlan',
    ipvlan: 'ipvlan',
    'bridge-vlan-filtering': 'bridge',
  };
  for (const feature of FEATURES) {
    it(`${feature}: created when the kernel has it, else NetlinkError EOPNOTSUPP`, async () => {
      const p = probes[feature];
      // The probe must have got a clear answer from the kernel (created, or EOPNOTSUPP).
      expect(p.supported, `probe of ${feature} failed: ${String(p.error)}`).toBeTypeOf('boolean');
      const { ns } = await nsWithParent();
      let created: Link | undefined;
      let error: unknown;
      try {
        created = await createLink(specFor(feature, 'opt0', 'p0', ns));
      } catch (e) {
        error = e;
      }
      const seen = ipLink('opt0', ns.name);
      if (p.supported === true) {
        expect(error).toBeUndefined();
        expect(created?.kind).toBe(expectedInfoKind[feature]);
        expect(seen?.linkinfo?.info_kind).toBe(expectedInfoKind[feature]);
        expect(seen?.ifindex).toBe(created?.index);
      } else {
        // On this kernel: the kind (or, for the bridge, VLAN filtering) is missing.
        expectNetlinkShape(error);
        expect(error.code).toBe('EOPNOTSUPP');
        expect(created).toBeUndefined();
        expect(seen).toBeUndefined();
        if (feature !== 'bridge-vlan-filtering' && error.extack !== undefined) {
          // rtnl_newlink's own text when no rtnl_link_ops of that kind is registered.
          expect(error.extack).toMatch(/unknown device type/i);
        }
      }
    });
  }

  it('without dummy in the kernel, its extack text "Unknown device type" reaches the error', async (ctx) => {
    ctx.skip(probes.dummy.supported !== false, 'this kernel has dummy');
    const { ns } = await nsWithParent();
    let error: unknown;
    try {
      await createLink({ kind: 'dummy', name: 'd0', netns: ns });
    } catch (e) {
      error = e;
    }
    expectNetlinkShape(error);
    expect(error.code).toBe('EOPNOTSUPP');
    expect(error.extack).toMatch(/unknown device type/i);
    expect(error.message).toMatch(/unknown device type/i);
  });
});

describe('optional kinds: live create and read back', () => {
  it('dummy with mtu, mac, up', async (ctx) => {
    ctx.skip(probes.dummy.supported !== true, 'this kernel lacks it');
    const ns = await res.netns();
    const l = await createLink({ kind: 'dummy', name: 'd0', netns: ns, mtu: 9000, mac: '02:00:00:00:d0:01', up: true });
    expect(l).toMatchObject({ kind: 'dummy', mtu: 9000, mac: '02:00:00:00:d0:01', up: true });
    const ipl = ipLinkOrThrow('d0', ns.name);
    expect(ipl.linkinfo?.info_kind).toBe('dummy');
    expect(ipl.mtu).toBe(9000);
    expect(ipl.address).toBe('02:00:00:00:d0:01');
    expect(ipl.flags).toContain('UP');
  });

  it('vlan 802.1Q on a parent by name, 802.1ad by ifindex', async (ctx) => {
    ctx.skip(probes.vlan.supported !== true, 'this kernel lacks it');
    const { ns, parent } = await nsWithParent();
    const q = await createLink({ kind: 'vlan', name: 'p0.100', parent: 'p0', id: 100, netns: ns });
    expect(q.kind).toBe('vlan');
    expect(q.vlan).toEqual({ id: 100, protocol: '802.1Q' });
    expect(q.link).toBe(parent.index);
    const ipq = ipLinkOrThrow('p0.100', ns.name);
    expect(infoData(ipq).id).toBe(100);
    expect(infoData(ipq).protocol).toBe('802.1Q');
    expect(ipq.link).toBe('p0');

    const ad = await createLink({ kind: 'vlan', name: 'p0.200', parent: parent.index, id: 200, protocol: '802.1ad', netns: ns });
    expect(ad.vlan).toEqual({ id: 200, protocol: '802.1ad' });
    const ipad = ipLinkOrThrow('p0.200', ns.name);
    expect(infoData(ipad).id).toBe(200);
    expect(infoData(ipad).protocol).toBe('802.1ad');
    expect(await getLink('p0.200', { netns: ns })).toMatchObject({ vlan: { id: 200, protocol: '802.1ad' } });
  });

  it('ipvlan mode and flag', async (ctx) => {
    ctx.skip(probes.ipvlan.supported !== true, 'this kernel lacks it');
    const { ns, parent } = await nsWithParent();
    const l = await createLink({ kind: 'ipvlan', name: 'ipv0', parent: 'p0', mode: 'l3', flag: 'private', netns: ns });
    expect(l.kind).toBe('ipvlan');
    expect(l.link).toBe(parent.index);
    expect(l.ipvlan?.mode).toBe('l3');
    expect(l.ipvlan?.flags).toContain('private');
    const ipl = ipLinkOrThrow('ipv0', ns.name);
    expect(ipl.linkinfo?.info_kind).toBe('ipvlan');
    expect(infoData(ipl).mode).toBe('l3');
    const l2 = await createLink({ kind: 'ipvlan', name: 'ipv1', parent: 'p0', mode: 'l2', netns: ns });
    expect(l2.ipvlan?.mode).toBe('l2');
    expect(infoData(ipLinkOrThrow('ipv1', ns.name)).mode).toBe('l2');
  });

  it('bridge with vlanFiltering', async (ctx) => {
    ctx.skip(probes['bridge-vlan-filtering'].supported !== true, 'this kernel lacks it');
    const ns = await res.netns();
    const br = await createBridge('br0', { netns: ns, vlanFiltering: true });
    expect(br.bridge?.vlanFiltering).toBe(true);
    expect(infoData(ipLinkOrThrow('br0', ns.name)).vlan_filtering).toBe(1);
  });
});

describe('macvlan', () => {
  it('each mode on a veth parent reads back through nlkit and ip -j -d', async () => {
    const { ns, parent } = await nsWithParent();
    const modes: MacvlanMode[] = ['private', 'vepa', 'bridge', 'source'];
    for (const mode of modes) {
      const name = `mv-${mode}`;
      const l = await createLink({ kind: 'macvlan', name, parent: 'p0', mode, netns: ns });
      expect(l.kind).toBe('macvlan');
      expect(l.macvlan).toEqual({ mode });
      expect(l.link).toBe(parent.index);
      const ipl = ipLinkOrThrow(name, ns.name);
      expect(ipl.linkinfo?.info_kind).toBe('macvlan');
      expect(infoData(ipl).mode).toBe(mode);
      expect(ipl.link).toBe('p0');
      expect(ipl.ifindex).toBe(l.index);
      expect((await getLink(name, { netns: ns })).macvlan).toEqual({ mode });
    }
  });

  it('passthru (the only macvlan allowed on its parent), parent by ifindex, with mtu/mac/up', async () => {
    const { ns, parent } = await nsWithParent();
    const l = await createLink({
      kind: 'macvlan',
      name: 'mvpt',
      parent: parent.index,
      mode: 'passthru',
      netns: ns,
      up: true,
      mtu: 1400,
    });
    expect(l.macvlan).toEqual({ mode: 'passthru' });
    expect(l.up).toBe(true);
    expect(l.mtu).toBe(1400);
    const ipl = ipLinkOrThrow('mvpt', ns.name);
    expect(infoData(ipl).mode).toBe('passthru');
    expect(ipl.mtu).toBe(1400);
    expect(ipl.flags).toContain('UP');
  });

  it('without a mode the kernel default (vepa) is reported; explicit mac is used', async () => {
    const { ns } = await nsWithParent();
    const l = await createLink({ kind: 'macvlan', name: 'mv0', parent: 'p0', netns: ns, mac: '02:00:00:00:4d:01' });
    const ipl = ipLinkOrThrow('mv0', ns.name);
    expect(l.macvlan?.mode).toBe(infoData(ipl).mode);
    expect(infoData(ipl).mode).toBe('vepa');
    expect(ipl.address).toBe('02:00:00:00:4d:01');
    expect(l.mac).toBe('02:00:00:00:4d:01');
  });

  it('macvlan in the default namespace on a default-namespace veth', async () => {
    const p = res.link('p');
    const q = res.link('q');
    const mv = res.link('mv');
    const pair = await createVethPair({ name: p, peer: { name: q } });
    const l = await createLink({ kind: 'macvlan', name: mv, parent: p, mode: 'bridge' });
    expect(l.link).toBe(pair.link.index);
    const ipl = ipLinkOrThrow(mv);
    expect(infoData(ipl).mode).toBe('bridge');
    expect(ipl.link).toBe(p);
  });
});

describe('vxlan', () => {
  it('vni, local, remote, port, device, ttl, learning read back through nlkit and ip -j -d', async () => {
    const { ns, parent } = await nsWithParent();
    const l = await createLink({
      kind: 'vxlan',
      name: 'vx0',
      netns: ns,
      vni: 4242,
      local: '10.1.0.1',
      remote: '10.1.0.2',
      port: 4789,
      device: 'p0',
      ttl: 64,
      learning: false,
    });
    expect(l.kind).toBe('vxlan');
    expect(l.vxlan).toMatchObject({
      vni: 4242,
      local: '10.1.0.1',
      remote: '10.1.0.2',
      port: 4789,
      device: parent.index,
      ttl: 64,
      learning: false,
    });
    const d = infoData(ipLinkOrThrow('vx0', ns.name));
    expect(d.id).toBe(4242);
    expect(d.local).toBe('10.1.0.1');
    expect(d.remote).toBe('10.1.0.2');
    expect(d.port).toBe(4789);
    expect(d.link).toBe('p0');
    expect(d.ttl).toBe(64);
    expect(d.learning).toBe(false);
    expect(await getLink('vx0', { netns: ns })).toMatchObject({ vxlan: l.vxlan });
  });

  it('moved into another namespace: no link (the kernel sends its own ifindex there), its device still named', async () => {
    const { ns, parent } = await nsWithParent();
    await createLink({ kind: 'vxlan', name: 'vxm', netns: ns, vni: 99, local: '10.1.0.1', port: 4790, device: 'p0' });
    const other = await res.netns();
    const moved = await setLink('vxm', { netns: other }, { netns: ns });
    // ip shows what the kernel sent: IFLA_LINK with the vxlan's own ifindex, numbered as if in
    // the namespace the link netns id names, where that ifindex is something else.
    const ipl = ipLinkOrThrow('vxm', other.name);
    expect(ipl.link_index).toBe(moved.index);
    expect(typeof ipl.link_netnsid).toBe('number');
    expect(moved.link).toBeUndefined();
    expect(moved.linkNetnsId).toBe(ipl.link_netnsid);
    expect(moved.vxlan?.device).toBe(parent.index); // VXLAN_LINK, in that other namespace
    expect((await getLink('vxm', { netns: other })).link).toBeUndefined();
    // A veth's link is its peer's ifindex even when it equals its own (two fresh namespaces).
    const a = await res.netns();
    const b = await res.netns();
    const pair = await createVethPair({ name: 'e0', peer: { name: 'e0', netns: b }, netns: a });
    expect(pair.link.index).toBe(pair.peer.index);
    expect(pair.link.link).toBe(pair.peer.index);
  });

  it('vni alone: learning on, the kernel default port, no remote', async () => {
    const ns = await res.netns();
    const l = await createLink({ kind: 'vxlan', name: 'vx1', netns: ns, vni: 7 });
    const d = infoData(ipLinkOrThrow('vx1', ns.name));
    expect(d.id).toBe(7);
    expect(l.vxlan?.vni).toBe(7);
    expect(l.vxlan?.learning).toBe(true);
    expect(d.learning).toBe(true);
    expect(l.vxlan?.port).toBe(d.port);
    expect(l.vxlan?.remote).toBeUndefined();
    expect(d.remote).toBeUndefined();
  });

  it('multicast group on a device, learning on, by device ifindex', async () => {
    const { ns, parent } = await nsWithParent();
    const l = await createLink({
      kind: 'vxlan',
      name: 'vxg',
      netns: ns,
      vni: 16777215,
      group: '239.1.1.1',
      device: parent.index,
      port: 8472,
      learning: true,
    });
    expect(l.vxlan?.vni).toBe(16777215);
    expect(l.vxlan?.group).toBe('239.1.1.1');
    // `remote` is either absent or the same group (VxlanInfo documents both spellings).
    if (l.vxlan?.remote !== undefined) expect(l.vxlan.remote).toBe('239.1.1.1');
    expect(l.vxlan?.device).toBe(parent.index);
    const d = infoData(ipLinkOrThrow('vxg', ns.name));
    expect(d.id).toBe(16777215);
    expect(d.group).toBe('239.1.1.1');
    expect(d.link).toBe('p0');
    expect(d.port).toBe(8472);
    expect(d.learning).toBe(true);
  });

  it('IPv6 local and remote', async () => {
    const ns = await res.netns();
    const l = await createLink({ kind: 'vxlan', name: 'vx6', netns: ns, vni: 9, local: 'fd00::1', remote: 'fd00::2', port: 4789 });
    expect(l.vxlan?.local).toBe('fd00::1');
    expect(l.vxlan?.remote).toBe('fd00::2');
    const d = infoData(ipLinkOrThrow('vx6', ns.name));
    expect(d.local6).toBe('fd00::1');
    expect(d.remote6).toBe('fd00::2');
  });

  it('group must be multicast and remote unicast: one kernel attribute carries both, and would make the other kind', async () => {
    const ns = await res.netns();
    const spec = { kind: 'vxlan' as const, name: 'vxm', netns: ns, vni: 5 };
    await expectInvalidArgument(() => createLink({ ...spec, group: '10.0.0.2' }), /^group$/u);
    await expectInvalidArgument(() => createLink({ ...spec, group: 'fd00::2' }), /^group$/u);
    await expectInvalidArgument(() => createLink({ ...spec, remote: '239.1.1.1' }), /^remote$/u);
    await expectInvalidArgument(() => createLink({ ...spec, remote: 'ff05::1' }), /^remote$/u);
    expect(ipLink('vxm', ns.name)).toBeUndefined();
    // Just below 224.0.0.0/4 is a unicast peer, as the kernel takes it.
    const peer = await createLink({ ...spec, remote: '223.255.255.255' });
    expect(peer.vxlan?.remote).toBe('223.255.255.255');
  });

  it('vxlan in the default namespace, enslaved to a bridge and up at creation', async () => {
    const br = res.link('br');
    const vx = res.link('vx');
    const b = await createBridge(br);
    const l = await createLink({ kind: 'vxlan', name: vx, vni: 100, port: 4789, master: br, up: true, mtu: 1400 });
    expect(l.master).toBe(b.index);
    expect(l.up).toBe(true);
    const ipl = ipLinkOrThrow(vx);
    expect(ipl.master).toBe(br);
    expect(ipl.mtu).toBe(1400);
    expect(ipl.flags).toContain('UP');
    expect(infoData(ipl).id).toBe(100);
  });
});
