// findPeer: the other end of a veth, read in its own namespace, and which namespace that is (the
// same one, the test process's own, a named one, or an anonymous one). Witness: `ip -j link show`,
// whose link_index / link_netnsid for a veth name the same peer.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  attachContainer,
  createBridge,
  createVethPair,
  deleteNetns,
  ensureBridge,
  findPeer,
  getLink,
  listLinks,
  type Peer,
} from '../lib/index';
import { expectInvalidArgument, expectNetlinkError } from './helpers/expect';
import { native } from '../lib/native';
import { ipLinkOrThrow } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qfp');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** What ip says the peer of `dev` is: its ifindex and, when elsewhere, the namespace id. */
function ipPeerOf(dev: string, ns?: string): { index: number; netnsId?: number } {
  const l = ipLinkOrThrow(dev, ns);
  expect(l.linkinfo?.info_kind).toBe('veth');
  if (l.link_index !== undefined) {
    return { index: l.link_index, ...(l.link_netnsid !== undefined ? { netnsId: l.link_netnsid } : {}) };
  }
  // Same namespace: ip prints the peer by name.
  expect(typeof l.link).toBe('string');
  return { index: ipLinkOrThrow(l.link as string, ns).ifindex };
}

function expectPeerLink(p: Peer, name: string, ns?: string): void {
  const seen = ipLinkOrThrow(name, ns);
  expect(p.link.name).toBe(name);
  expect(p.link.index).toBe(seen.ifindex);
  expect(p.link.kind).toBe('veth');
  expect(p.link.mac).toBe(seen.address);
  expect(p.link.mtu).toBe(seen.mtu);
}

describe('a peer in the same namespace', () => {
  it('in a named namespace: sameNetns, no netnsId, not the initial namespace', async () => {
    const ns = await res.netns('s');
    const pair = await createVethPair({ name: 'a0', peer: { name: 'a1', mtu: 1400 }, netns: ns });
    const p = await findPeer('a0', { netns: ns });
    expect(p.sameNetns).toBe(true);
    expect(p.initialNetns).toBe(false);
    expect(p.netnsId).toBeUndefined();
    expectPeerLink(p, 'a1', ns.name);
    expect(p.link.index).toBe(ipPeerOf('a0', ns.name).index);
    expect(p.link.index).toBe(pair.peer.index);
    expect(p.link.mtu).toBe(1400);
    // The peer's own peer is where we started; by ifindex too.
    expect(p.link.link).toBe(pair.link.index);
    const back = await findPeer(p.link.index, { netns: ns });
    expect(back.link.name).toBe('a0');
    expect(back.link.index).toBe(pair.link.index);
    expect(back.sameNetns).toBe(true);
  });

  it("in the test process's own namespace: sameNetns and initialNetns", async () => {
    const a = res.link('a');
    const b = res.link('b');
    await createVethPair({ name: a, peer: { name: b } });
    const p = await findPeer(a);
    expect(p).toMatchObject({ sameNetns: true, initialNetns: true });
    expect(p.netnsId).toBeUndefined();
    expect(p.netnsName).toBeUndefined();
    expectPeerLink(p, b);
    expect(p.link.index).toBe(ipPeerOf(a).index);
  });
});

describe('a peer in another namespace', () => {
  it('in a named namespace: netnsName and netnsId, as ip numbers it', async () => {
    const ns = await res.netns('c');
    const host = res.link('h');
    const pair = await createVethPair({ name: host, peer: { name: 'c0', netns: ns } });
    const p = await findPeer(host);
    expect(p.sameNetns).toBe(false);
    expect(p.initialNetns).toBe(false);
    expect(p.netnsName).toBe(ns.name);
    const ipPeer = ipPeerOf(host);
    expect(p.netnsId).toBeTypeOf('number');
    expect(p.netnsId).toBe(ipPeer.netnsId);
    expect(p.netnsId).toBe(pair.peer.netnsId);
    expect(p.link.index).toBe(ipPeer.index);
    expectPeerLink(p, 'c0', ns.name);
    // The link was read there: it is c0's description, with its own peer pointing back. (The
    // namespace ids in it are compared in the test below.)
    expect(p.link.link).toBe(pair.link.index);
    expect(p.link.peer?.index).toBe(pair.link.index);
    const { linkNetnsId: _a, peer: _b, ...rest } = p.link;
    const { linkNetnsId: _c, peer: _d, ...own } = await getLink('c0', { netns: ns });
    expect(rest).toEqual(own);
  });

  // Peer.link is the peer read in its own namespace, so its ids are numbered as that namespace
  // numbers them: what getLink there and ip -n there report.
  it("the peer's linkNetnsId is numbered as the peer's own namespace numbers them", async () => {
    const a = await res.netns('a');
    const b = await res.netns('b');
    await createVethPair({ name: 'x0', peer: { name: 'y0', netns: b }, netns: a });
    const p = await findPeer('x0', { netns: a });
    const own = await getLink('y0', { netns: b });
    // ip in b: y0's peer x0 is in the namespace b numbers link_netnsid.
    expect(own.linkNetnsId).toBe(ipLinkOrThrow('y0', b.name).link_netnsid);
    expect(p.link.linkNetnsId).toBe(own.linkNetnsId);
    expect(p.link.peer).toEqual(own.peer);
  });

  it("from inside a namespace, a peer in the test process's own namespace is initialNetns", async () => {
    const ns = await res.netns('c');
    const host = res.link('h');
    const pair = await createVethPair({ name: host, peer: { name: 'c0', netns: ns } });
    const p = await findPeer('c0', { netns: ns });
    expect(p.sameNetns).toBe(false);
    expect(p.initialNetns).toBe(true);
    // The initial namespace has no name under /run/netns.
    expect(p.netnsName).toBeUndefined();
    const ipPeer = ipPeerOf('c0', ns.name);
    expect(p.netnsId).toBe(ipPeer.netnsId);
    expect(p.link.index).toBe(ipPeer.index);
    expect(p.link.index).toBe(pair.link.index);
    expectPeerLink(p, host);
  });

  it('between two named namespaces, each side names the other', async () => {
    const a = await res.netns('a');
    const b = await res.netns('b');
    await createVethPair({ name: 'x0', peer: { name: 'y0', netns: b }, netns: a });
    const fromA = await findPeer('x0', { netns: a });
    expect(fromA).toMatchObject({ sameNetns: false, initialNetns: false, netnsName: b.name });
    expect(fromA.netnsId).toBe(ipPeerOf('x0', a.name).netnsId);
    expectPeerLink(fromA, 'y0', b.name);
    const fromB = await findPeer('y0', { netns: b.name });
    expect(fromB).toMatchObject({ sameNetns: false, initialNetns: false, netnsName: a.name });
    expect(fromB.netnsId).toBe(ipPeerOf('y0', b.name).netnsId);
    expectPeerLink(fromB, 'x0', a.name);
  });

  it('in an anonymous namespace, or one whose name was removed: no netnsName, still found', async () => {
    const anon = await res.anonNetns();
    const host = res.link('h');
    await createVethPair({ name: host, peer: { name: 'z0', netns: anon } });
    const p = await findPeer(host);
    expect(p).toMatchObject({ sameNetns: false, initialNetns: false });
    expect(p.netnsName).toBeUndefined();
    expect(p.netnsId).toBe(ipPeerOf(host).netnsId);
    const there = (await listLinks({ netns: anon })).find((l) => l.name === 'z0');
    expect(p.link.index).toBe(there?.index);
    expect(p.link.name).toBe('z0');
    // Its own IFLA_LINK (our end) is numbered in a namespace this one has no id for: left out,
    // not passed off as an index in the peer's namespace.
    expect(p.link.link).toBeUndefined();
    expect(p.link.peer).toBeUndefined();
    expect(p.link.linkNetnsId).toBeUndefined();

    const named = await res.netns('d');
    const host2 = res.link('h');
    await createVethPair({ name: host2, peer: { name: 'w0', netns: named } });
    expect((await findPeer(host2)).netnsName).toBe(named.name);
    await deleteNetns(named.name); // the handle keeps the namespace alive, nameless
    const after = await findPeer(host2);
    expect(after.netnsName).toBeUndefined();
    expect(after.link.name).toBe('w0');
    expect(after.initialNetns).toBe(false);
  });
});

describe('which host veth is my eth0', () => {
  it('attachContainer to a bridge in the initial namespace: the peer of eth0 is the host end', async () => {
    const br = await createBridge(res.link('br'), { up: true });
    const ctr = await res.netns('ctr');
    const hostIfname = res.link('hv');
    const r = await attachContainer({ netns: ctr, bridge: br.index, hostIfname, addresses: ['10.91.0.2/24'] });
    expect(r.host.name).toBe(hostIfname);

    const p = await findPeer('eth0', { netns: ctr });
    expect(p.initialNetns).toBe(true);
    expect(p.sameNetns).toBe(false);
    expect(p.netnsName).toBeUndefined();
    expect(p.link.name).toBe(r.host.name);
    expect(p.link.index).toBe(r.host.index);
    expect(p.link.mac).toBe(r.host.mac);
    expect(p.link.master).toBe(br.index);
    // ip inside the container agrees: eth0@ifN with N the host end.
    const eth0 = ipLinkOrThrow('eth0', ctr.name);
    expect(eth0.link_index).toBe(r.host.index);
    expect(eth0.link_netnsid).toBe(p.netnsId);
    expect(ipLinkOrThrow(hostIfname).master).toBe(br.name);

    // And the other way round: the host end's peer is eth0 in the container's named namespace.
    const back = await findPeer(hostIfname);
    expect(back).toMatchObject({ sameNetns: false, initialNetns: false, netnsName: ctr.name });
    expect(back.link.name).toBe('eth0');
    expect(back.link.index).toBe(r.container.index);
    expect(back.link.index).toBe(ipLinkOrThrow(hostIfname).link_index);
    expect(back.netnsId).toBe(ipLinkOrThrow(hostIfname).link_netnsid);
  });

  it('with the bridge in a named host namespace, eth0 names that namespace', async () => {
    const hostNs = await res.netns('h');
    const { link: br } = await ensureBridge({ name: 'br0', addresses: ['10.92.0.1/24'], netns: hostNs });
    const ctrs = [await res.netns('c'), await res.netns('c')];
    const attached = [];
    for (const [i, ctr] of ctrs.entries()) {
      attached.push(await attachContainer({ netns: ctr, hostNetns: hostNs, bridge: br.index, addresses: [`10.92.0.${i + 2}/24`] }));
    }
    for (const [i, ctr] of ctrs.entries()) {
      const p = await findPeer('eth0', { netns: ctr });
      expect(p).toMatchObject({ sameNetns: false, initialNetns: false, netnsName: hostNs.name });
      expect(p.link.name).toBe(attached[i]!.host.name);
      expect(p.link.index).toBe(attached[i]!.host.index);
      expect(p.link.master).toBe(br.index);
      const eth0 = ipLinkOrThrow('eth0', ctr.name);
      expect(eth0.link_index).toBe(p.link.index);
      expect(eth0.link_netnsid).toBe(p.netnsId);
      expect(ipLinkOrThrow(p.link.name, hostNs.name).master).toBe('br0');
    }
    expect(attached[0]!.host.index).not.toBe(attached[1]!.host.index);
  });
});

describe('many namespaces', () => {
  it('a peer is found behind 5,000 other entries of the netns directory (chunked, not one sendmsg)', async () => {
    // What findPeer passes the addon: every entry of the netns directory. 5,000 entries that are
    // not namespaces stand for a launcher's thousands of containers; the peer's comes last. In one
    // sendmsg they were EMSGSIZE from about 3,000 on.
    const a = await res.netns('ma');
    const b = await res.netns('mb');
    await createVethPair({ name: 'x0', peer: { name: 'y0', netns: b }, netns: a });
    const candidates = [...Array.from({ length: 5000 }, () => '/dev/null'), b.path];
    const p = await native.linkFindPeer({ netns: a.path, link: 'x0', candidates });
    expect(p.netnsPath).toBe(b.path);
    expect(p.link.name).toBe('y0');
    // And the initial namespace is still recognised with such a list behind it.
    const host = res.link('h');
    await createVethPair({ name: host, peer: { name: 'c0', netns: a } });
    const q = await native.linkFindPeer({ netns: a.path, link: 'c0', candidates });
    expect(q.initialNetns).toBe(true);
    expect(q.link.name).toBe(host);
    // The initial namespace is the answer once it matches: an entry that refers to it too (here
    // the process's own /proc/self/ns/net, first in the list) is not reported as its name.
    const r = await native.linkFindPeer({ netns: a.path, link: 'c0', candidates: ['/proc/self/ns/net', ...candidates] });
    expect(r).toMatchObject({ initialNetns: true });
    expect(r.netnsPath).toBeUndefined();
    // While a named namespace is still found by its entry in the same list.
    expect((await native.linkFindPeer({ netns: a.path, link: 'x0', candidates: ['/proc/self/ns/net', ...candidates] })).netnsPath).toBe(b.path);
  });
});

describe('errors', () => {
  it('a link that is not a veth is NetlinkError EINVAL; a missing one ENODEV', async () => {
    const ns = await res.netns('e');
    await createBridge('br0', { netns: ns });
    const e = await expectNetlinkError(() => findPeer('br0', { netns: ns }), 'EINVAL');
    expect(e.operation).toBe('findPeer');
    await expectNetlinkError(() => findPeer('lo', { netns: ns }), 'EINVAL');
    await expectNetlinkError(() => findPeer('nosuch0', { netns: ns }), 'ENODEV');
    await expectNetlinkError(() => findPeer(999_999, { netns: ns }), 'ENODEV');
    // A veth's name in another namespace is not found here.
    await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns });
    await expectNetlinkError(() => findPeer('v0'), 'ENODEV');
  });

  it('bad arguments are InvalidArgumentError', async () => {
    await expectInvalidArgument(() => findPeer('x'.repeat(16)), /^link$/);
    await expectInvalidArgument(() => findPeer(''), /^link$/);
    await expectInvalidArgument(() => findPeer(0), /^link$/);
    await expectInvalidArgument(() => findPeer({} as unknown as string), /^link$/);
    await expectInvalidArgument(() => findPeer('eth0', { netns: 'a/b' }), /^opts\.netns$/);
    await expectInvalidArgument(() => findPeer('eth0', { nets: 'x' } as never), /^opts\.nets$/);
  });
});
