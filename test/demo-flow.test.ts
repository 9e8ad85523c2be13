// The headline scenario, with the public API only: a bridge on the host, a veth pair whose peer
// lands inside a container namespace as eth0, the host end enslaved and up in the creating
// request, eth0 set up from inside; `ip -j` must see exactly that, and deleting the host end must
// remove both ends.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBridge, createVethPair, deleteLink, getLink, listLinks, setLink } from '../lib/index';
import { expectNetlinkError, eventually } from './helpers/expect';
import { ipLink, ipLinkOrThrow, ipLinks, ipNetnsEntries } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qdm');
const res = new Resources(names);

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

describe('container attach (headline)', () => {
  it('bridge + veth with peer as eth0 in another namespace, as ip -j sees it; deleting the host end removes both', async () => {
    const ctr = await res.netns('ctr');
    const brName = res.link('br');
    const hostName = res.link('vh');

    const br = await createBridge(brName, { up: true });
    expect(br.name).toBe(brName);
    expect(br.kind).toBe('bridge');
    expect(br.up).toBe(true);

    const pair = await createVethPair({
      name: hostName,
      master: brName,
      up: true,
      peer: { name: 'eth0', netns: ctr },
    });
    // What nlkit says it made.
    expect(pair.link.name).toBe(hostName);
    expect(pair.link.kind).toBe('veth');
    expect(pair.link.master).toBe(br.index);
    expect(pair.link.up).toBe(true);
    expect(pair.link.flags).toContain('UP');
    expect(pair.peer.name).toBe('eth0');
    expect(pair.peer.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(pair.link.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(pair.link.link).toBe(pair.peer.index);
    expect(pair.link.peer?.index).toBe(pair.peer.index);
    expect(pair.peer.netnsId).toBeTypeOf('number');
    expect(pair.link.linkNetnsId).toBe(pair.peer.netnsId);
    expect(pair.link.peer?.netnsId).toBe(pair.peer.netnsId);

    // The peer goes up from inside its namespace, by its in-namespace name.
    const eth0 = await setLink('eth0', { up: true }, { netns: ctr });
    expect(eth0.name).toBe('eth0');
    expect(eth0.index).toBe(pair.peer.index);
    expect(eth0.up).toBe(true);
    expect(eth0.mac).toBe(pair.peer.mac);
    expect(eth0.link).toBe(pair.link.index);

    // The witness: ip -j in the host namespace...
    const ipBr = ipLinkOrThrow(brName);
    expect(ipBr.ifindex).toBe(br.index);
    expect(ipBr.flags).toContain('UP');
    expect(ipBr.linkinfo?.info_kind).toBe('bridge');

    const ipHost = ipLinkOrThrow(hostName);
    expect(ipHost.ifindex).toBe(pair.link.index);
    expect(ipHost.master).toBe(brName);
    expect(ipHost.flags).toContain('UP');
    expect(ipHost.address).toBe(pair.link.mac);
    expect(ipHost.linkinfo?.info_kind).toBe('veth');
    expect(ipHost.linkinfo?.info_slave_kind).toBe('bridge');
    // "@ifN": the host end points at the peer's ifindex in the other namespace.
    expect(ipHost.link_index).toBe(pair.peer.index);
    expect(ipHost.link_netnsid).toBe(pair.peer.netnsId);
    // ...and the id is the one the host namespace gave the container namespace.
    const entry = ipNetnsEntries().find((e) => e.name === ctr.name);
    expect(entry?.id).toBe(pair.peer.netnsId);

    // ...and inside the container namespace.
    const inCtr = ipLinks(ctr.name);
    expect(inCtr.map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    const ipEth0 = ipLinkOrThrow('eth0', ctr.name);
    expect(ipEth0.ifindex).toBe(pair.peer.index);
    expect(ipEth0.address).toBe(pair.peer.mac);
    expect(ipEth0.flags).toContain('UP');
    expect(ipEth0.link_index).toBe(pair.link.index);
    expect(ipEth0.link_netnsid).toBeTypeOf('number');
    expect(ipEth0.linkinfo?.info_kind).toBe('veth');
    // The peer was not created on the host side.
    expect(ipLink('eth0')).toBeUndefined();

    // Both ends up: carrier comes on (the kernel settles operstate asynchronously).
    await eventually(() => {
      expect(ipLinkOrThrow('eth0', ctr.name).operstate).toBe('UP');
      expect(ipLinkOrThrow(hostName).operstate).toBe('UP');
    });
    await eventually(async () => {
      expect((await getLink('eth0', { netns: ctr })).operState).toBe('up');
      expect((await getLink(hostName)).operState).toBe('up');
    });

    // nlkit's own view of the bridge's ports agrees.
    const ports = await listLinks({ master: brName });
    expect(ports.map((l) => l.name)).toEqual([hostName]);

    // Teardown: deleting the host end deletes both.
    await deleteLink(hostName);
    expect(ipLink(hostName)).toBeUndefined();
    expect(ipLink('eth0', ctr.name)).toBeUndefined();
    expect(ipLinks(ctr.name).map((l) => l.ifname)).toEqual(['lo']);
    await expectNetlinkError(() => getLink('eth0', { netns: ctr }), 'ENODEV');
    // The bridge itself is untouched.
    expect(ipLinkOrThrow(brName).ifindex).toBe(br.index);
  });

  it('the same attach with the peer namespace named by string and explicit MACs/MTU', async () => {
    const ctr = await res.netns('ctr');
    const brName = res.link('br');
    const hostName = res.link('vh');
    await createBridge(brName, { up: true, mtu: 1450 });
    const pair = await createVethPair({
      name: hostName,
      master: brName,
      up: true,
      mtu: 1450,
      mac: '02:42:ac:11:00:01',
      peer: { name: 'eth0', netns: ctr.name, mac: '02:42:ac:11:00:02', mtu: 1450 },
    });
    expect(pair.link.mac).toBe('02:42:ac:11:00:01');
    expect(pair.peer.mac).toBe('02:42:ac:11:00:02');
    expect(pair.peer.netns).toBe(ctr.name);
    await setLink('eth0', { up: true }, { netns: ctr.name });

    const ipHost = ipLinkOrThrow(hostName);
    expect(ipHost.address).toBe('02:42:ac:11:00:01');
    expect(ipHost.mtu).toBe(1450);
    expect(ipHost.master).toBe(brName);
    const ipEth0 = ipLinkOrThrow('eth0', ctr.name);
    expect(ipEth0.address).toBe('02:42:ac:11:00:02');
    expect(ipEth0.mtu).toBe(1450);
    expect(ipEth0.link_index).toBe(pair.link.index);

    // Deleting from the container side removes the host end too.
    await deleteLink('eth0', { netns: ctr });
    expect(ipLink('eth0', ctr.name)).toBeUndefined();
    expect(ipLink(hostName)).toBeUndefined();
  });
});
