// setLink, enslave and release: every change, read back through nlkit and `ip -j -d`, and the
// errors the kernel gives for changes it refuses.
import { release as kernelRelease } from 'node:os';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createBridge,
  createVethPair,
  enslave,
  getLink,
  release,
  setLink,
  type NetnsHandle,
} from '../lib/index';
import { expectInvalidArgument, expectNetlinkError, rejectionOf, expectNetlinkShape } from './helpers/expect';
import { ipLink, ipLinkOrThrow, ipLinks, slaveData } from './helpers/ip';
import { kernelVersion } from './helpers/kernel';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qch');
const res = new Resources(names);

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** A named namespace with a bridge br0 and a veth pair v0/v1 (v0 not enslaved). */
async function setup(): Promise<{ ns: NetnsHandle & { name: string }; brIndex: number; v0: number; v1: number }> {
  const ns = await res.netns();
  const br = await createBridge('br0', { netns: ns });
  const pair = await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns });
  return { ns, brIndex: br.index, v0: pair.link.index, v1: pair.peer.index };
}

describe('setLink', () => {
  it('up and down', async () => {
    const { ns } = await setup();
    const up = await setLink('v0', { up: true }, { netns: ns });
    expect(up.up).toBe(true);
    expect(up.flags).toContain('UP');
    expect(ipLinkOrThrow('v0', ns.name).flags).toContain('UP');
    expect((await getLink('v0', { netns: ns })).up).toBe(true);
    const down = await setLink('v0', { up: false }, { netns: ns });
    expect(down.up).toBe(false);
    expect(down.flags).not.toContain('UP');
    expect(ipLinkOrThrow('v0', ns.name).flags).not.toContain('UP');
    expect(down.operState).toBe('down');
    expect(ipLinkOrThrow('v0', ns.name).operstate).toBe('DOWN');
  });

  it('mtu', async () => {
    const { ns } = await setup();
    const l = await setLink('v0', { mtu: 1337 }, { netns: ns });
    expect(l.mtu).toBe(1337);
    expect(ipLinkOrThrow('v0', ns.name).mtu).toBe(1337);
    // The peer is untouched.
    expect(ipLinkOrThrow('v1', ns.name).mtu).toBe(1500);
  });

  it('mac, on a down link and on an up link', async () => {
    const { ns } = await setup();
    const l = await setLink('v0', { mac: '02:ab:cd:ef:00:01' }, { netns: ns });
    expect(l.mac).toBe('02:ab:cd:ef:00:01');
    expect(ipLinkOrThrow('v0', ns.name).address).toBe('02:ab:cd:ef:00:01');
    const br = await setLink('br0', { up: true, mac: '02:ab:cd:ef:00:02' }, { netns: ns });
    expect(br.mac).toBe('02:ab:cd:ef:00:02');
    expect(ipLinkOrThrow('br0', ns.name).address).toBe('02:ab:cd:ef:00:02');
    // Upper-case input is accepted and reported in lower case.
    const upper = await setLink('v0', { mac: '02:AB:CD:EF:00:03' }, { netns: ns });
    expect(upper.mac).toBe('02:ab:cd:ef:00:03');
    expect(ipLinkOrThrow('v0', ns.name).address).toBe('02:ab:cd:ef:00:03');
  });

  it('rename a down link: same ifindex, new name, old name gone', async () => {
    const { ns, v0 } = await setup();
    const l = await setLink('v0', { name: 'renamed0' }, { netns: ns });
    expect(l.name).toBe('renamed0');
    expect(l.index).toBe(v0);
    expect(ipLink('v0', ns.name)).toBeUndefined();
    expect(ipLinkOrThrow('renamed0', ns.name).ifindex).toBe(v0);
    expect((await getLink(v0, { netns: ns })).name).toBe('renamed0');
    await expectNetlinkError(() => getLink('v0', { netns: ns }), 'ENODEV');
  });

  it('rename an up link: EBUSY on kernels before 6.2, allowed (and the link stays up) since', async () => {
    const { ns, v0 } = await setup();
    await setLink('v0', { up: true }, { netns: ns });
    const [major, minor] = kernelVersion(kernelRelease());
    const liveRenameAllowed = major > 6 || (major === 6 && minor >= 2);
    if (liveRenameAllowed) {
      const l = await setLink('v0', { name: 'live0' }, { netns: ns });
      expect(l.name).toBe('live0');
      expect(l.up).toBe(true);
      const ipl = ipLinkOrThrow('live0', ns.name);
      expect(ipl.ifindex).toBe(v0);
      expect(ipl.flags).toContain('UP');
    } else {
      await expectNetlinkError(() => setLink('v0', { name: 'live0' }, { netns: ns }), 'EBUSY');
      expect(ipLinkOrThrow('v0', ns.name).flags).toContain('UP');
      expect(ipLink('live0', ns.name)).toBeUndefined();
    }
  });

  it('rename and up in one call: renamed first, then set up', async () => {
    const { ns, v0 } = await setup();
    const l = await setLink('v0', { name: 'both0', up: true, mtu: 1400 }, { netns: ns });
    expect(l).toMatchObject({ name: 'both0', up: true, mtu: 1400, index: v0 });
    const ipl = ipLinkOrThrow('both0', ns.name);
    expect(ipl.flags).toContain('UP');
    expect(ipl.mtu).toBe(1400);
  });

  it('alias, set and changed', async () => {
    const { ns } = await setup();
    const l = await setLink('v0', { alias: 'uplink to ctr 7' }, { netns: ns });
    expect(l.alias).toBe('uplink to ctr 7');
    expect(ipLinkOrThrow('v0', ns.name).ifalias).toBe('uplink to ctr 7');
    const l2 = await setLink('v0', { alias: 'second' }, { netns: ns });
    expect(l2.alias).toBe('second');
    expect(ipLinkOrThrow('v0', ns.name).ifalias).toBe('second');
  });

  it('an alias of 255 bytes, the kernel\'s limit, is set whole; an empty one clears it', async () => {
    const { ns } = await setup();
    const alias = 'a'.repeat(254) + 'z';
    expect((await setLink('v0', { alias }, { netns: ns })).alias).toBe(alias);
    expect(ipLinkOrThrow('v0', ns.name).ifalias).toBe(alias);
    expect((await setLink('v0', { alias: '' }, { netns: ns })).alias).toBeUndefined();
    expect(ipLinkOrThrow('v0', ns.name).ifalias).toBeUndefined();
    await expectInvalidArgument(() => setLink('v0', { alias: `${alias}b` }, { netns: ns }), /^changes\.alias$/u);
  });

  it('an alias reaches the kernel whole, whatever characters straddle the addon\'s 64-byte string buffer', async () => {
    // The addon reads short strings into a small buffer first; a longer one must not come back
    // cut at a character boundary (a review found 62 ASCII bytes and a euro sign arriving as the
    // 62 bytes alone). Every cut position for 2-, 3- and 4-byte characters.
    const { ns } = await setup();
    for (const wide of ['é', '€', '😀']) {
      for (let ascii = 56; ascii <= 64; ascii++) {
        const alias = `${'a'.repeat(ascii)}${wide}z`;
        const l = await setLink('v0', { alias }, { netns: ns });
        expect(l.alias, `${ascii} + ${wide}`).toBe(alias);
        expect(ipLinkOrThrow('v0', ns.name).ifalias, `${ascii} + ${wide}`).toBe(alias);
      }
    }
  });

  it('txQueueLen', async () => {
    const { ns } = await setup();
    const l = await setLink('v0', { txQueueLen: 4242 }, { netns: ns });
    expect(l.txQueueLen).toBe(4242);
    expect(ipLinkOrThrow('v0', ns.name).txqlen).toBe(4242);
  });

  it('master: enslave through setLink, release with master null', async () => {
    const { ns, brIndex } = await setup();
    const l = await setLink('v0', { master: 'br0' }, { netns: ns });
    expect(l.master).toBe(brIndex);
    expect(l.bridgePort).toBeDefined();
    expect(ipLinkOrThrow('v0', ns.name).master).toBe('br0');
    expect(ipLinkOrThrow('v0', ns.name).linkinfo?.info_slave_kind).toBe('bridge');
    const r = await setLink('v0', { master: null }, { netns: ns });
    expect(r.master).toBeUndefined();
    expect(r.bridgePort).toBeUndefined();
    expect(ipLinkOrThrow('v0', ns.name).master).toBeUndefined();
    // By ifindex too.
    const again = await setLink('v0', { master: brIndex }, { netns: ns });
    expect(again.master).toBe(brIndex);
    expect(ipLinkOrThrow('v0', ns.name).master).toBe('br0');
  });

  it('master: move a port from one bridge to another', async () => {
    const { ns } = await setup();
    const br1 = await createBridge('br1', { netns: ns });
    await setLink('v0', { master: 'br0' }, { netns: ns });
    const l = await setLink('v0', { master: 'br1' }, { netns: ns });
    expect(l.master).toBe(br1.index);
    expect(ipLinkOrThrow('v0', ns.name).master).toBe('br1');
  });

  it('bridge-port flags hairpin, isolated, learning', async () => {
    const { ns } = await setup();
    await setLink('v0', { master: 'br0' }, { netns: ns });
    const before = slaveData(ipLinkOrThrow('v0', ns.name));
    expect(before).toMatchObject({ hairpin: false, isolated: false, learning: true });

    const l = await setLink('v0', { hairpin: true, isolated: true, learning: false }, { netns: ns });
    expect(l.bridgePort).toEqual({ hairpin: true, isolated: true, learning: false });
    expect(slaveData(ipLinkOrThrow('v0', ns.name))).toMatchObject({ hairpin: true, isolated: true, learning: false });
    expect((await getLink('v0', { netns: ns })).bridgePort).toEqual({ hairpin: true, isolated: true, learning: false });

    // One at a time: the others keep their value.
    const h = await setLink('v0', { hairpin: false }, { netns: ns });
    expect(h.bridgePort).toEqual({ hairpin: false, isolated: true, learning: false });
    expect(slaveData(ipLinkOrThrow('v0', ns.name))).toMatchObject({ hairpin: false, isolated: true, learning: false });
    const lr = await setLink('v0', { learning: true }, { netns: ns });
    expect(lr.bridgePort).toEqual({ hairpin: false, isolated: true, learning: true });
    expect(slaveData(ipLinkOrThrow('v0', ns.name))).toMatchObject({ hairpin: false, isolated: true, learning: true });
  });

  it('move to another namespace: the result is read there, ip sees it only there', async () => {
    const { ns, v0 } = await setup();
    const other = await res.netns('o');
    const moved = await setLink('v0', { netns: other }, { netns: ns });
    expect(moved.name).toBe('v0');
    expect(ipLink('v0', ns.name)).toBeUndefined();
    const ipl = ipLinkOrThrow('v0', other.name);
    expect(moved.index).toBe(ipl.ifindex);
    expect(moved.mac).toBe(ipl.address);
    // Its peer now lives in another namespace, and says so.
    expect(moved.linkNetnsId).toBeTypeOf('number');
    expect(ipl.link_netnsid).toBe(moved.linkNetnsId);
    expect((await getLink('v0', { netns: other })).index).toBe(moved.index);
    await expectNetlinkError(() => getLink(v0, { netns: ns }), 'ENODEV');
    // The peer stayed and points at the moved end.
    expect(ipLinkOrThrow('v1', ns.name).link_index).toBe(ipl.ifindex);
  });

  it('move with rename and mtu in the same call, named by string', async () => {
    const { ns } = await setup();
    const other = await res.netns('o');
    const moved = await setLink('v0', { netns: other.name, name: 'eth0', mtu: 1450 }, { netns: ns.name });
    expect(moved).toMatchObject({ name: 'eth0', mtu: 1450 });
    const ipl = ipLinkOrThrow('eth0', other.name);
    expect(ipl.mtu).toBe(1450);
    expect(ipl.ifindex).toBe(moved.index);
    expect(ipLink('v0', ns.name)).toBeUndefined();
  });

  it('move from the default namespace into a named one and back', async () => {
    const a = res.link('a');
    const b = res.link('b');
    const ns = await res.netns();
    await createVethPair({ name: a, peer: { name: b } });
    const moved = await setLink(b, { netns: ns });
    expect(moved.name).toBe(b);
    expect(ipLink(b)).toBeUndefined();
    expect(ipLinkOrThrow(b, ns.name).ifindex).toBe(moved.index);
    expect(ipLinkOrThrow(a).link_index).toBe(moved.index);
    const back = await setLink(b, { netns: { pid: process.pid } }, { netns: ns });
    expect(ipLink(b, ns.name)).toBeUndefined();
    expect(ipLinkOrThrow(b).ifindex).toBe(back.index);
    expect(ipLinkOrThrow(a).link).toBe(b);
  });

  it('several changes at once, by ifindex', async () => {
    const { ns, v0 } = await setup();
    const l = await setLink(
      v0,
      { mtu: 1280, mac: '02:00:00:00:12:80', alias: 'multi', txQueueLen: 10, master: 'br0', up: true },
      { netns: ns },
    );
    expect(l).toMatchObject({ index: v0, mtu: 1280, mac: '02:00:00:00:12:80', alias: 'multi', txQueueLen: 10, up: true });
    const ipl = ipLinkOrThrow('v0', ns.name);
    expect(ipl).toMatchObject({ mtu: 1280, address: '02:00:00:00:12:80', ifalias: 'multi', txqlen: 10, master: 'br0' });
    expect(ipl.flags).toContain('UP');
  });

  it('in the default namespace', async () => {
    const name = res.link('br');
    await createBridge(name);
    const l = await setLink(name, { mtu: 1111, up: true, alias: 'default ns' });
    expect(l).toMatchObject({ mtu: 1111, up: true, alias: 'default ns' });
    expect(ipLinkOrThrow(name)).toMatchObject({ mtu: 1111, ifalias: 'default ns' });
  });
});

describe('enslave and release', () => {
  it('enslave by names, release, enslave by ifindex', async () => {
    const { ns, brIndex, v0 } = await setup();
    const e = await enslave('v0', 'br0', { netns: ns });
    expect(e.name).toBe('v0');
    expect(e.master).toBe(brIndex);
    expect(e.bridgePort).toMatchObject({ hairpin: false, isolated: false, learning: true });
    expect(ipLinkOrThrow('v0', ns.name).master).toBe('br0');
    expect(ipLinks(ns.name, ['master', 'br0']).map((l) => l.ifname)).toEqual(['v0']);

    const r = await release('v0', { netns: ns });
    expect(r.master).toBeUndefined();
    expect(ipLinkOrThrow('v0', ns.name).master).toBeUndefined();
    expect(ipLinks(ns.name, ['master', 'br0'])).toEqual([]);

    const e2 = await enslave(v0, brIndex, { netns: ns });
    expect(e2.master).toBe(brIndex);
    expect(ipLinkOrThrow('v0', ns.name).master).toBe('br0');
  });

  it('in the default namespace', async () => {
    const br = res.link('br');
    const a = res.link('a');
    const b = res.link('b');
    const bridge = await createBridge(br);
    await createVethPair({ name: a, peer: { name: b } });
    expect((await enslave(a, br)).master).toBe(bridge.index);
    expect(ipLinkOrThrow(a).master).toBe(br);
    expect((await release(a)).master).toBeUndefined();
    expect(ipLinkOrThrow(a).master).toBeUndefined();
  });
});

describe('refused changes', () => {
  it('ENODEV for a missing link in setLink, enslave, release (by name and by ifindex)', async () => {
    const { ns } = await setup();
    await expectNetlinkError(() => setLink('nosuch0', { up: true }, { netns: ns }), 'ENODEV');
    await expectNetlinkError(() => setLink(4242, { up: true }, { netns: ns }), 'ENODEV');
    await expectNetlinkError(() => enslave('nosuch0', 'br0', { netns: ns }), 'ENODEV');
    await expectNetlinkError(() => enslave('v0', 'nosuch1', { netns: ns }), 'ENODEV');
    await expectNetlinkError(() => release('nosuch0', { netns: ns }), 'ENODEV');
    expect(ipLinkOrThrow('v0', ns.name).master).toBeUndefined();
  });

  it('a refused change takes its bridge-port flags with it: never applied, never to the link that has the new name', async () => {
    const { ns } = await setup();
    await createVethPair({ name: 'w0', peer: { name: 'w1' }, netns: ns, master: 'br0' });
    await setLink('v0', { master: 'br0', isolated: true, hairpin: true }, { netns: ns });
    await setLink('v1', { master: 'br0' }, { netns: ns });
    // w0 asks for v0's name (taken: EEXIST) and port flags. The flags must not reach v0, which
    // answers to that name, nor w0, whose change was refused.
    const e = await expectNetlinkError(() => setLink('w0', { name: 'v0', isolated: false, hairpin: false, learning: false }, { netns: ns }), 'EEXIST');
    expect(e.operation).toBe('setLink');
    expect(slaveData(ipLinkOrThrow('v0', ns.name))).toMatchObject({ hairpin: true, isolated: true, learning: true });
    expect(slaveData(ipLinkOrThrow('w0', ns.name))).toMatchObject({ hairpin: false, isolated: false, learning: true });
    // The same by ifindex, and with another refused change (an MTU past veth's 65535): no flag
    // moves either.
    const w0 = (await getLink('w0', { netns: ns })).index;
    await expectNetlinkError(() => setLink(w0, { name: 'v1', hairpin: true }, { netns: ns }), 'EEXIST');
    await expectNetlinkError(() => setLink(w0, { mtu: 65536, hairpin: true }, { netns: ns }), 'EINVAL');
    expect(slaveData(ipLinkOrThrow('v1', ns.name))).toMatchObject({ hairpin: false });
    expect(slaveData(ipLinkOrThrow('w0', ns.name))).toMatchObject({ hairpin: false });
    // A rename that succeeds still gets its flags, on the renamed link.
    const renamed = await setLink('w0', { name: 'w9', isolated: true }, { netns: ns });
    expect(renamed).toMatchObject({ name: 'w9', index: w0, bridgePort: { isolated: true } });
    expect(slaveData(ipLinkOrThrow('w9', ns.name))).toMatchObject({ isolated: true });
  });

  it('a bridge-port flag on a link that is not a bridge port: EOPNOTSUPP, nothing changed', async () => {
    const { ns } = await setup();
    const before = ipLinkOrThrow('v0', ns.name);
    // Nor the other changes of the same call.
    const e = await expectNetlinkError(() => setLink('v0', { mtu: 1400, alias: 'x', hairpin: true }, { netns: ns }), 'EOPNOTSUPP');
    expect(e.operation).toBe('setBridgePort');
    expect(ipLinkOrThrow('v0', ns.name).ifalias).toBeUndefined();
    await expectNetlinkError(() => setLink('v0', { hairpin: true }, { netns: ns }), 'EOPNOTSUPP');
    await expectNetlinkError(() => setLink('v0', { learning: false }, { netns: ns }), 'EOPNOTSUPP');
    await expectNetlinkError(() => setLink('v0', { isolated: true }, { netns: ns }), 'EOPNOTSUPP');
    const after = ipLinkOrThrow('v0', ns.name);
    expect(after.master).toBeUndefined();
    expect(after.linkinfo?.info_slave_kind).toBeUndefined();
    expect(after.mtu).toBe(before.mtu);
  });

  it('rename onto an existing name: EEXIST, both links keep their names', async () => {
    const { ns, v0, v1 } = await setup();
    const err = await expectNetlinkError(() => setLink('v0', { name: 'v1' }, { netns: ns }), 'EEXIST');
    expect(err.object.length).toBeGreaterThan(0);
    expect(ipLinkOrThrow('v0', ns.name).ifindex).toBe(v0);
    expect(ipLinkOrThrow('v1', ns.name).ifindex).toBe(v1);
  });

  it('a move with a master is refused before anything is sent: the kernel would look the master up where the link went', async () => {
    const { ns, v0 } = await setup();
    const other = await res.netns('m');
    await expectInvalidArgument(() => setLink('v0', { netns: other, master: 'br0' }, { netns: ns }), /^changes\.netns$/u);
    expect(ipLinkOrThrow('v0', ns.name).ifindex).toBe(v0);
    expect(ipLinks(other.name).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('a refused change is undone: what the kernel applied before refusing goes back, a move included', async () => {
    // The kernel applies a change's attributes in turn (the move first, then MAC, MTU, the name...)
    // and keeps those before the one it refuses.
    const { ns, v0 } = await setup();
    const other = await res.netns('u');
    await createBridge('eth1', { netns: other });
    const before = ipLinkOrThrow('v0', ns.name);
    const refusals: [Parameters<typeof setLink>[1], string][] = [
      [{ netns: other, name: 'eth1' }, 'EEXIST'], // the README's "move and rename", onto a taken name
      [{ netns: other, mtu: 65536 }, 'EINVAL'], // past veth's maximum
      [{ netns: other, mac: '02:00:00:00:0a:0b', mtu: 1400, name: 'eth1' }, 'EEXIST'],
      [{ mac: '02:00:00:00:0a:0c', mtu: 1300, alias: 'x', name: 'v1' }, 'EEXIST'], // no move
    ];
    for (const [changes, code] of refusals) {
      const e = await expectNetlinkError(() => setLink('v0', changes, { netns: ns }), code);
      expect(e.message).toMatch(changes.netns ? /moved back/u : /undone/u);
      const now = ipLinkOrThrow('v0', ns.name);
      expect([now.ifindex, now.mtu, now.address, now.ifalias], JSON.stringify(changes)).toEqual([v0, before.mtu, before.address, undefined]);
      expect(ipLinks(other.name).map((l) => l.ifname).sort()).toEqual(['eth1', 'lo']);
    }
  });

  it('a refused move is taken back only for the link that moved: the target\'s own link of that name stays', async () => {
    // The target has its own v0: the kernel moves ours under the new name c0, then refuses the MTU.
    const { ns, v0 } = await setup();
    const other = await res.netns('w');
    const theirs = await createVethPair({ name: 'v0', peer: { name: 'peer' }, netns: other });
    const ours = ipLinkOrThrow('v0', ns.name);
    const e = await expectNetlinkError(() => setLink('v0', { netns: other, name: 'c0', mtu: 65536 }, { netns: ns }), 'EINVAL');
    expect(e.message).toMatch(/moved back/u);
    expect(ipLinkOrThrow('v0', ns.name)).toMatchObject({ ifindex: v0, address: ours.address });
    expect(ipLinkOrThrow('v0', other.name)).toMatchObject({ ifindex: theirs.link.index, address: theirs.link.mac });
    expect(ipLinks(other.name).map((l) => l.ifname).sort()).toEqual(['lo', 'peer', 'v0']);
  });

  it('a link moved back after a refusal is up and on its bridge again, as it was', async () => {
    const { ns } = await setup();
    const other = await res.netns('x');
    await createBridge('eth1', { netns: other });
    await setLink('v0', { master: 'br0', up: true }, { netns: ns });
    await expectNetlinkError(() => setLink('v0', { netns: other, name: 'eth1' }, { netns: ns }), 'EEXIST');
    const back = ipLinkOrThrow('v0', ns.name);
    expect(back.master).toBe('br0');
    expect(back.flags).toContain('UP');
  });

  it('move into a namespace that already has that name: EEXIST, the link stays', async () => {
    const { ns, v0 } = await setup();
    const other = await res.netns('o');
    await createBridge('v0', { netns: other });
    await expectNetlinkError(() => setLink('v0', { netns: other }, { netns: ns }), 'EEXIST');
    expect(ipLinkOrThrow('v0', ns.name).ifindex).toBe(v0);
    expect(ipLinkOrThrow('v0', other.name).linkinfo?.info_kind).toBe('bridge');
  });

  it('enslaving to a master that is not a bridge (a veth): EOPNOTSUPP', async () => {
    const { ns } = await setup();
    await expectNetlinkError(() => enslave('v1', 'v0', { netns: ns }), 'EOPNOTSUPP');
    expect(ipLinkOrThrow('v1', ns.name).master).toBeUndefined();
  });

  it('a bridge as master of a bridge through setLink: ELOOP, nothing changed', async () => {
    const { ns } = await setup();
    await createBridge('br1', { netns: ns });
    const err = await rejectionOf(() => setLink('br1', { master: 'br0' }, { netns: ns }));
    expectNetlinkShape(err);
    expect(err.code).toBe('ELOOP');
    expect(ipLinkOrThrow('br1', ns.name).master).toBeUndefined();
  });
});
