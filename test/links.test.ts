// Creating, reading back, listing and deleting links: bridges and veths, in the default namespace
// and in fresh ones, by name and by ifindex, through every form of NetnsRef.
import { readlinkSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createBridge,
  createLink,
  createVethPair,
  deleteLink,
  getLink,
  listLinks,
  setLink,
  type Link,
  type NetnsRef,
} from '../lib/index';
import { eventually, expectInvalidArgument, expectNetlinkError } from './helpers/expect';
import { toNativeLinkRequest } from '../lib/links';
import { native } from '../lib/native';
import * as check from '../lib/validate';
import { infoData, ipLink, ipLinkOrThrow, ipLinks, ipOperState, type IpLink } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qlk');
const res = new Resources(names);

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** The fields nlkit and ip both report must agree. */
function expectSameLink(l: Link, ipl: IpLink): void {
  expect(l.index).toBe(ipl.ifindex);
  expect(l.name).toBe(ipl.ifname);
  expect(l.mtu).toBe(ipl.mtu);
  if (ipl.link_type === 'loopback' && l.mac === undefined) {
    // lo's all-zero address may be reported as "no MAC".
  } else {
    expect(l.mac).toBe(ipl.address);
  }
  expect(l.kind).toBe(ipl.linkinfo?.info_kind);
  expect(l.txQueueLen).toBe(ipl.txqlen);
  expect(l.alias).toBe(ipl.ifalias);
  expect(l.up).toBe(ipl.flags.includes('UP'));
  if (ipl.min_mtu !== undefined) expect(l.minMtu).toBe(ipl.min_mtu);
  if (ipl.max_mtu !== undefined) expect(l.maxMtu).toBe(ipl.max_mtu);
  // Flags that do not change behind our back (operstate and LOWER_UP settle asynchronously and are
  // checked with eventually()) must agree both ways.
  for (const f of ['UP', 'BROADCAST', 'MULTICAST', 'LOOPBACK', 'NOARP']) {
    expect(l.flags.includes(f)).toBe(ipl.flags.includes(f));
  }
}

describe('bridges in the default namespace', () => {
  it('createBridge with common options reads back through nlkit and ip -j; deleteLink removes it', async () => {
    const name = res.link('br');
    const br = await createBridge(name, {
      mtu: 1400,
      mac: '02:00:5e:10:00:01',
      up: true,
      txQueueLen: 321,
      alias: 'nlkit test bridge',
    });
    expect(br.name).toBe(name);
    expect(br.kind).toBe('bridge');
    expect(br.mtu).toBe(1400);
    expect(br.mac).toBe('02:00:5e:10:00:01');
    expect(br.up).toBe(true);
    expect(br.flags).toContain('UP');
    expect(br.txQueueLen).toBe(321);
    expect(br.alias).toBe('nlkit test bridge');
    expect(br.bridge).toBeDefined();
    expect(br.master).toBeUndefined();

    const ipl = ipLinkOrThrow(name);
    expectSameLink(br, ipl);
    expect(ipl.mtu).toBe(1400);
    expect(ipl.address).toBe('02:00:5e:10:00:01');
    expect(ipl.txqlen).toBe(321);
    expect(ipl.ifalias).toBe('nlkit test bridge');
    expect(ipl.flags).toContain('UP');

    expect(await getLink(name)).toEqual(await getLink(br.index));
    expectSameLink(await getLink(name), ipLinkOrThrow(name));
    expect((await listLinks()).map((l) => l.name)).toContain(name);

    await deleteLink(name);
    expect(ipLink(name)).toBeUndefined();
    await expectNetlinkError(() => getLink(name), 'ENODEV');
    expect((await listLinks()).map((l) => l.name)).not.toContain(name);
  });

  it('a bridge created without options is down, has a kernel MAC and default MTU', async () => {
    const name = res.link('br');
    const br = await createBridge(name);
    expect(br.up).toBe(false);
    expect(br.flags).not.toContain('UP');
    expect(br.operState).toBe('down');
    expectSameLink(br, ipLinkOrThrow(name));
    expect(br.mtu).toBe(1500);
  });

  it('bridge options stp, forwardDelay, ageingTime reach the kernel', async () => {
    const name = res.link('br');
    const br = await createBridge(name, { stp: true, forwardDelay: 400, ageingTime: 12000 });
    expect(br.bridge).toMatchObject({ stp: true, forwardDelay: 400, ageingTime: 12000 });
    expect(br.bridge?.vlanFiltering).toBe(false);
    const d = infoData(ipLinkOrThrow(name));
    expect(d.stp_state).toBe(1);
    expect(d.forward_delay).toBe(400);
    expect(d.ageing_time).toBe(12000);
    expect(d.vlan_filtering).toBe(0);

    const plain = await createBridge(res.link('br'), { stp: false });
    expect(plain.bridge?.stp).toBe(false);
    expect(infoData(ipLinkOrThrow(plain.name)).stp_state).toBe(0);
  });

  it('a 15-byte name is accepted (the limit is IFNAMSIZ - 1)', async () => {
    const base = res.link('x');
    const name = (base + 'zzzzzzzzzzzzzzz').slice(0, 15);
    res.trackLink(name);
    expect(Buffer.byteLength(name)).toBe(15);
    const br = await createBridge(name);
    expect(br.name).toBe(name);
    expect(ipLinkOrThrow(name).ifindex).toBe(br.index);
  });

  it('createLink kind bridge is the same as createBridge', async () => {
    const name = res.link('br');
    const br = await createLink({ kind: 'bridge', name, mtu: 1300, stp: false });
    expect(br.kind).toBe('bridge');
    expect(br.mtu).toBe(1300);
    const ipl = ipLinkOrThrow(name);
    expect(ipl.linkinfo?.info_kind).toBe('bridge');
    expectSameLink(br, ipl);
  });
});

describe('a bridge keeps the MTU it was created with', () => {
  // The kernel lowers a bridge to its smallest port's MTU (and raises it to it) unless the MTU was
  // set by a change: one given on creation does not count. nlkit sets it as a change.
  it.each([
    [9000, 1500],
    [1500, 9000],
    [1280, 1500],
  ])('created at %i, it stays there when a port at %i joins', async (mtu, portMtu) => {
    const ns = await res.netns();
    const br = await createBridge('br0', { netns: ns, mtu, alias: 'jumbo' });
    expect(br).toMatchObject({ mtu, alias: 'jumbo' });
    await createVethPair({ name: 'p0', netns: ns, master: 'br0', mtu: portMtu, peer: { name: 'p1', mtu: portMtu } });
    expect(ipLinkOrThrow('br0', ns.name).mtu).toBe(mtu);
    expect((await getLink('br0', { netns: ns })).mtu).toBe(mtu);
  });

  it('an MTU the kernel refuses for a bridge leaves no bridge behind', async () => {
    const ns = await res.netns();
    const err = await expectNetlinkError(() => createBridge('br0', { netns: ns, mtu: 65536 }), "EINVAL");
    expect(err.object).toMatch(/mtu of link br0/);
    expect(ipLinks(ns.name).map((l) => l.ifname)).toEqual(['lo']);
  });
});

describe('interface names: what nlkit refuses is what the kernel would not make as asked', () => {
  // Each name is sent to the kernel as-is, through the addon, past nlkit's own check: the kernel
  // "makes it as asked" when a link of exactly that name results. nlkit's check must accept
  // exactly those. '%' makes a template ('q%d' becomes 'q0'); 0xa0 is a space to the kernel's
  // Latin-1 isspace(), so 'à' (c3 a0) is refused while U+2003 (e2 80 83) is not.
  const NAMES = ['plain0', 'q%d', 'q%', 'qà', 'q\u00a0', 'q\u2003', 'q\u0085', 'q\x01', 'q\x1c', 'q\t', 'q:0', 'q/0', 'é', '0123456789abcde'];

  it.each(NAMES)('%j', async (name) => {
    const ns = await res.netns();
    const req = toNativeLinkRequest({ kind: 'bridge', name: 'placeholder', netns: ns });
    let made: string | undefined;
    try {
      const { link } = await native.linkCreate({ ...req, name });
      made = link.name;
    } catch (e) {
      // The kernel refused it, or created it under another name and the read-back by the name
      // asked for found nothing.
      expect([22, 19], JSON.stringify(e)).toContain((e as { errno?: number }).errno); // EINVAL, ENODEV
    }
    const asAsked = made === name;
    const accepted = (() => {
      try {
        check.ifname(name, 'name');
        return true;
      } catch {
        return false;
      }
    })();
    expect({ name, accepted }).toEqual({ name, accepted: asAsked });
    if (!accepted) await expectInvalidArgument(() => createBridge(name, { netns: ns }), /^name$/);
  });
});

describe('veth pairs', () => {
  it('both ends in the default namespace: each points at the other', async () => {
    const a = res.link('va');
    const b = res.link('vb');
    const pair = await createVethPair({ name: a, peer: { name: b, mtu: 1280, txQueueLen: 55 }, mtu: 1280 });
    expect(pair.link.name).toBe(a);
    expect(pair.link.kind).toBe('veth');
    expect(pair.peer.name).toBe(b);
    expect(pair.peer.netns).toBeUndefined();
    expect(pair.link.peer?.index).toBe(pair.peer.index);
    expect(pair.link.link).toBe(pair.peer.index);
    expect(pair.link.linkNetnsId).toBeUndefined();

    const ipa = ipLinkOrThrow(a);
    const ipb = ipLinkOrThrow(b);
    expectSameLink(pair.link, ipa);
    expect(ipa.link).toBe(b);
    expect(ipb.link).toBe(a);
    expect(ipb.ifindex).toBe(pair.peer.index);
    expect(ipb.address).toBe(pair.peer.mac);
    expect(ipb.mtu).toBe(1280);
    expect(ipb.txqlen).toBe(55);
    expect(ipa.mtu).toBe(1280);

    const peer = await getLink(b);
    expect(peer.link).toBe(pair.link.index);
    expect(peer.peer?.index).toBe(pair.link.index);
    expectSameLink(peer, ipb);

    // Deleting one end deletes the other.
    await deleteLink(b);
    expect(ipLink(a)).toBeUndefined();
    expect(ipLink(b)).toBeUndefined();
  });

  it('createLink kind veth with the peer inside another namespace', async () => {
    const ns = await res.netns();
    const a = res.link('va');
    const l = await createLink({ kind: 'veth', name: a, peer: { name: 'eth0', netns: ns, mac: '02:11:22:33:44:55' } });
    expect(l.kind).toBe('veth');
    expect(l.linkNetnsId).toBeTypeOf('number');
    const ipe = ipLinkOrThrow('eth0', ns.name);
    expect(ipe.address).toBe('02:11:22:33:44:55');
    expect(l.link).toBe(ipe.ifindex);
    expect(ipLinkOrThrow(a).link_index).toBe(ipe.ifindex);
    expect(ipe.link_index).toBe(l.index);
  });

  it('peer in another namespace with the same ifindex: link and peer still point across', async () => {
    // Two fresh namespaces each hold only lo (ifindex 1), so both ends get ifindex 2: the kernel
    // still sends IFLA_LINK (with IFLA_LINK_NETNSID), and ip prints link_index 2.
    const a = await res.netns('a');
    const b = await res.netns('b');
    const pair = await createVethPair({ name: 'h0', netns: a, peer: { name: 'e0', netns: b } });
    expect(pair.link.index).toBe(pair.peer.index);
    const ipA = ipLinkOrThrow('h0', a.name);
    const ipB = ipLinkOrThrow('e0', b.name);
    expect(ipA.link_index).toBe(ipB.ifindex);
    expect(ipB.link_index).toBe(ipA.ifindex);
    expect(pair.link.link).toBe(pair.peer.index);
    expect(pair.link.peer?.index).toBe(pair.peer.index);
    const e0 = await getLink('e0', { netns: b });
    expect(e0.link).toBe(pair.link.index);
    expect(e0.peer?.index).toBe(pair.link.index);
    expect(e0.linkNetnsId).toBe(ipB.link_netnsid);
  });

  it('host end in one named namespace, peer in another, host end enslaved and up in the same request', async () => {
    const host = await res.netns('h');
    const ctr = await res.netns('c');
    const br = await createBridge('br0', { netns: host, up: true });
    const pair = await createVethPair({
      name: 'vhost0',
      netns: host,
      master: 'br0',
      up: true,
      mac: '02:00:00:aa:00:01',
      alias: 'to container',
      txQueueLen: 900,
      peer: { name: 'eth0', netns: ctr, mac: '02:00:00:aa:00:02' },
    });
    expect(pair.link.master).toBe(br.index);
    expect(pair.link.up).toBe(true);
    expect(pair.link.alias).toBe('to container');
    expect(pair.link.txQueueLen).toBe(900);
    expect(pair.link.bridgePort).toMatchObject({ hairpin: false, isolated: false, learning: true });

    const iph = ipLinkOrThrow('vhost0', host.name);
    expectSameLink(pair.link, iph);
    expect(iph.master).toBe('br0');
    expect(iph.link_index).toBe(pair.peer.index);
    expect(iph.link_netnsid).toBe(pair.peer.netnsId);
    const ipe = ipLinkOrThrow('eth0', ctr.name);
    expect(ipe.address).toBe('02:00:00:aa:00:02');
    expect(ipe.link_index).toBe(pair.link.index);
    // Nothing leaked into the default namespace.
    expect(ipLink('vhost0')).toBeUndefined();
    expect(ipLink('br0')).toBeUndefined();
  });

  it('operState follows the pair: one end up alone is lowerlayerdown, both up is up', async () => {
    const ns = await res.netns();
    await createVethPair({ name: 'a0', peer: { name: 'b0' }, netns: ns, up: true });
    await eventually(async () => {
      const a0 = await getLink('a0', { netns: ns });
      expect(a0.operState).toBe('lowerlayerdown');
      expect(ipOperState(ipLinkOrThrow('a0', ns.name))).toBe('lowerlayerdown');
    });
    await setLink('b0', { up: true }, { netns: ns });
    await eventually(async () => {
      const a0 = await getLink('a0', { netns: ns });
      expect(a0.operState).toBe('up');
      expect(a0.flags).toContain('LOWER_UP');
      expect(ipLinkOrThrow('a0', ns.name).flags).toContain('LOWER_UP');
    });
  });
});

describe('reading links', () => {
  it('loopback in a fresh namespace: no kind, LOOPBACK flag, mtu 65536, same as ip', async () => {
    const ns = await res.netns();
    const lo = await getLink('lo', { netns: ns });
    expect(lo.name).toBe('lo');
    expect(lo.index).toBe(1);
    expect(lo.kind).toBeUndefined();
    expect(lo.flags).toContain('LOOPBACK');
    expect(lo.mtu).toBe(65536);
    expect(lo.up).toBe(false);
    expectSameLink(lo, ipLinkOrThrow('lo', ns.name));
    expect(await getLink(1, { netns: ns })).toEqual(lo);
  });

  it('getLink/setLink/deleteLink by ifindex', async () => {
    const ns = await res.netns();
    const br = await createBridge('br0', { netns: ns });
    const byIndex = await getLink(br.index, { netns: ns });
    expect(byIndex.name).toBe('br0');
    expect(byIndex).toEqual(await getLink('br0', { netns: ns }));
    const changed = await setLink(br.index, { mtu: 1234, up: true }, { netns: ns });
    expect(changed.index).toBe(br.index);
    expect(changed.mtu).toBe(1234);
    expect(ipLinkOrThrow('br0', ns.name).mtu).toBe(1234);
    expect(ipLinkOrThrow('br0', ns.name).flags).toContain('UP');
    await deleteLink(br.index, { netns: ns });
    expect(ipLink('br0', ns.name)).toBeUndefined();
    await expectNetlinkError(() => getLink(br.index, { netns: ns }), 'ENODEV');
  });

  it('listLinks returns exactly what ip -j lists, in a fresh namespace', async () => {
    const ns = await res.netns();
    await createBridge('br0', { netns: ns });
    await createBridge('br1', { netns: ns, mtu: 1400 });
    await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns, master: 'br0' });
    await createVethPair({ name: 'v2', peer: { name: 'v3' }, netns: ns, master: 'br1' });
    const all = await listLinks({ netns: ns });
    const fromIp = ipLinks(ns.name);
    expect(all.map((l) => l.name).sort()).toEqual(fromIp.map((l) => l.ifname).sort());
    expect(all.map((l) => l.name).sort()).toEqual(['br0', 'br1', 'lo', 'v0', 'v1', 'v2', 'v3']);
    for (const l of all) {
      const ipl = fromIp.find((x) => x.ifindex === l.index);
      expect(ipl).toBeDefined();
      if (ipl) expectSameLink(l, ipl);
    }
  });

  it('listLinks filters by kind and by master (name or ifindex), as ip -j does', async () => {
    const ns = await res.netns();
    const br0 = await createBridge('br0', { netns: ns });
    await createBridge('br1', { netns: ns });
    await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns, master: 'br0' });
    await createVethPair({ name: 'v2', peer: { name: 'v3' }, netns: ns, master: 'br0' });
    await createVethPair({ name: 'v4', peer: { name: 'v5' }, netns: ns, master: 'br1' });

    const veths = await listLinks({ netns: ns, kind: 'veth' });
    expect(veths.map((l) => l.name).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    expect(veths.every((l) => l.kind === 'veth')).toBe(true);
    expect(ipLinks(ns.name, ['type', 'veth']).map((l) => l.ifname).sort()).toEqual(veths.map((l) => l.name).sort());

    const bridges = await listLinks({ netns: ns, kind: 'bridge' });
    expect(bridges.map((l) => l.name).sort()).toEqual(['br0', 'br1']);
    expect(ipLinks(ns.name, ['type', 'bridge']).map((l) => l.ifname).sort()).toEqual(['br0', 'br1']);

    const ports0 = await listLinks({ netns: ns, master: 'br0' });
    expect(ports0.map((l) => l.name).sort()).toEqual(['v0', 'v2']);
    expect(ports0.every((l) => l.master === br0.index)).toBe(true);
    expect(ipLinks(ns.name, ['master', 'br0']).map((l) => l.ifname).sort()).toEqual(['v0', 'v2']);
    expect((await listLinks({ netns: ns, master: br0.index })).map((l) => l.name).sort()).toEqual(['v0', 'v2']);

    const ports1 = await listLinks({ netns: ns, master: 'br1', kind: 'veth' });
    expect(ports1.map((l) => l.name)).toEqual(['v4']);

    expect(await listLinks({ netns: ns, kind: 'vxlan' })).toEqual([]);
    // A kind the kernel has no driver for (a typo, a module not loaded): it ignores the filter
    // and dumps everything; nlkit still returns only links of that kind.
    expect(await listLinks({ netns: ns, kind: 'brigde' })).toEqual([]);
  });

  it('listLinks in the default namespace sees this file\'s links and nothing of another namespace', async () => {
    const ns = await res.netns();
    const mine = res.link('br');
    await createBridge(mine);
    await createBridge('qlkhidden', { netns: ns });
    const names0 = (await listLinks()).map((l) => l.name);
    expect(names0).toContain(mine);
    expect(names0).toContain('lo');
    expect(names0).not.toContain('qlkhidden');
    const ipNames = ipLinks().map((l) => l.ifname);
    expect(ipNames).toContain(mine);
    // Every link of this file that ip sees, nlkit sees (other files may add/remove their own meanwhile).
    expect(names0.filter((n) => n.startsWith(names.prefix)).sort()).toEqual(ipNames.filter((n) => n.startsWith(names.prefix)).sort());
  });
});

describe('every form of NetnsRef', () => {
  it('handle, name, absolute path, {path}, {name} all act in the same named namespace', async () => {
    const ns = await res.netns();
    const forms: [string, NetnsRef][] = [
      ['handle', ns],
      ['name', ns.name],
      ['abspath', `/run/netns/${ns.name}`],
      ['objpath', { path: `/run/netns/${ns.name}` }],
      ['objname', { name: ns.name }],
    ];
    for (const [tag, ref] of forms) {
      const brName = `br-${tag}`;
      const br = await createBridge(brName, { netns: ref });
      // ip sees it inside the namespace, not in the default one.
      expect(ipLinkOrThrow(brName, ns.name).ifindex).toBe(br.index);
      expect(ipLink(brName)).toBeUndefined();
      // Every other form reads the same link.
      for (const [, other] of forms) {
        const got = await getLink(brName, { netns: other });
        expect(got.index).toBe(br.index);
      }
      const changed = await setLink(brName, { mtu: 1000 + br.index }, { netns: ref });
      expect(ipLinkOrThrow(brName, ns.name).mtu).toBe(changed.mtu);
      expect((await listLinks({ netns: ref, kind: 'bridge' })).map((l) => l.name)).toContain(brName);
    }
    for (const [tag, ref] of forms) {
      await deleteLink(`br-${tag}`, { netns: ref });
      expect(ipLink(`br-${tag}`, ns.name)).toBeUndefined();
    }
  });

  it('{ pid: process.pid } is the namespace the process runs in (the default one)', async () => {
    const name = res.link('pid');
    const br = await createBridge(name, { netns: { pid: process.pid } });
    expect(ipLinkOrThrow(name).ifindex).toBe(br.index);
    expect((await getLink(name)).index).toBe(br.index);
    expect((await getLink(name, { netns: { pid: process.pid } })).index).toBe(br.index);
    expect((await getLink(name, { netns: '/proc/self/ns/net' })).index).toBe(br.index);
    expect((await getLink(name, { netns: { path: `/proc/${process.pid}/ns/net` } })).index).toBe(br.index);
    // The process has not wandered off: it still is in the namespace it started in.
    expect(readlinkSync('/proc/self/ns/net')).toBe(readlinkSync(`/proc/${process.pid}/ns/net`));
    await deleteLink(name, { netns: { pid: process.pid } });
    expect(ipLink(name)).toBeUndefined();
  });

  it('an anonymous namespace (handle only) is separate from the default one', async () => {
    const ns = await res.anonNetns();
    const name = res.link('an');
    const br = await createBridge(name, { netns: ns });
    expect((await getLink(name, { netns: ns })).index).toBe(br.index);
    expect(ipLink(name)).toBeUndefined();
    await expectNetlinkError(() => getLink(name), 'ENODEV');
    expect((await listLinks({ netns: ns })).map((l) => l.name).sort()).toEqual(['lo', name].sort());
  });
});
