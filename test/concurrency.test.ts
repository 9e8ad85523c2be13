// Many calls in flight at once, across namespaces: every call gets its own answer from the right
// namespace, and the event loop keeps turning while they run.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createBridge,
  createVethPair,
  deleteLink,
  getLink,
  listLinks,
  NetlinkError,
  setLink,
  type Link,
  type NetnsHandle,
} from '../lib/index';
import { expectNetlinkShape } from './helpers/expect';
import { ipLinks } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qcc');
const res = new Resources(names);

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** Counts event-loop turns (setImmediate callbacks) until stopped. */
function loopTicker(): { ticks: () => number; stop: () => void } {
  let n = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    n += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    ticks: () => n,
    stop: () => {
      running = false;
    },
  };
}

describe('concurrency', () => {
  it('50 concurrent createVethPair into 5 container namespaces all succeed and read back correctly', async () => {
    const host = await res.netns('h');
    const ctrs: (NetnsHandle & { name: string })[] = [];
    for (let i = 0; i < 5; i++) ctrs.push(await res.netns(`c${i}`));
    const N = 50;
    const pairs = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const ctr = ctrs[i % ctrs.length] as NetnsHandle;
        return createVethPair({
          name: `h${i}`,
          netns: host,
          mtu: 1400 + i,
          peer: { name: `eth${Math.floor(i / ctrs.length)}`, netns: ctr, mtu: 1400 + i },
        });
      }),
    );
    expect(pairs).toHaveLength(N);
    const hostIp = ipLinks(host.name);
    const ctrIp = ctrs.map((c) => ipLinks(c.name));
    for (let i = 0; i < N; i++) {
      const p = pairs[i];
      if (p === undefined) throw new Error('missing result');
      expect(p.link.name).toBe(`h${i}`);
      expect(p.link.mtu).toBe(1400 + i);
      expect(p.peer.name).toBe(`eth${Math.floor(i / ctrs.length)}`);
      const ipHost = hostIp.find((l) => l.ifname === `h${i}`);
      expect(ipHost?.ifindex).toBe(p.link.index);
      expect(ipHost?.mtu).toBe(1400 + i);
      expect(ipHost?.address).toBe(p.link.mac);
      expect(ipHost?.link_index).toBe(p.peer.index);
      const ipPeer = ctrIp[i % ctrs.length]?.find((l) => l.ifname === p.peer.name);
      expect(ipPeer?.ifindex).toBe(p.peer.index);
      expect(ipPeer?.mtu).toBe(1400 + i);
      expect(ipPeer?.address).toBe(p.peer.mac);
      expect(ipPeer?.link_index).toBe(p.link.index);
    }
    expect(hostIp.filter((l) => l.linkinfo?.info_kind === 'veth')).toHaveLength(N);
    for (const c of ctrIp) expect(c.filter((l) => l.linkinfo?.info_kind === 'veth')).toHaveLength(N / ctrs.length);

    // Read every end back concurrently, from both sides.
    const back = await Promise.all(pairs.map((p) => getLink(p.link.name, { netns: host })));
    back.forEach((l, i) => expect(l.index).toBe(pairs[i]?.link.index));
    const peers = await Promise.all(
      pairs.map((p, i) => getLink(p.peer.name, { netns: ctrs[i % ctrs.length] as NetnsHandle })),
    );
    peers.forEach((l, i) => {
      expect(l.index).toBe(pairs[i]?.peer.index);
      expect(l.link).toBe(pairs[i]?.link.index);
    });
  });

  it('same link name in two namespaces, different MTUs: 400 concurrent reads never mix them up', async () => {
    const a = await res.netns('a');
    const b = await res.netns('b');
    await createBridge('same0', { netns: a, mtu: 1400 });
    await createBridge('same0', { netns: b, mtu: 1300 });
    const reads = await Promise.all(
      Array.from({ length: 400 }, (_, i) => {
        const inA = i % 2 === 0;
        return getLink('same0', { netns: inA ? a : b }).then((l) => ({ inA, l }));
      }),
    );
    for (const { inA, l } of reads) expect(l.mtu).toBe(inA ? 1400 : 1300);
    const lists = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const inA = i % 2 === 0;
        return listLinks({ netns: inA ? a : b, kind: 'bridge' }).then((ls) => ({ inA, ls }));
      }),
    );
    for (const { inA, ls } of lists) {
      expect(ls.map((l) => l.mtu)).toEqual([inA ? 1400 : 1300]);
    }
    expect(ipLinks(a.name).find((l) => l.ifname === 'same0')?.mtu).toBe(1400);
    expect(ipLinks(b.name).find((l) => l.ifname === 'same0')?.mtu).toBe(1300);
  });

  it('concurrent reads in the default namespace and in others do not leak across', async () => {
    const ns = await res.netns();
    const name = res.link('dup');
    await createBridge(name, { mtu: 1234 });
    await createBridge(name, { netns: ns, mtu: 4321 });
    const reads = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? getLink(name) : getLink(name, { netns: ns })).then((l) => ({ i, l })),
      ),
    );
    for (const { i, l } of reads) expect(l.mtu).toBe(i % 2 === 0 ? 1234 : 4321);
  });

  it('errors and successes in flight together each reach their own caller', async () => {
    const ns = await res.netns();
    await createBridge('br0', { netns: ns, mtu: 1420 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => getLink(i % 2 === 0 ? 'br0' : `missing${i}`, { netns: ns })),
    );
    outcomes.forEach((o, i) => {
      if (i % 2 === 0) {
        expect(o.status).toBe('fulfilled');
        if (o.status === 'fulfilled') expect(o.value.mtu).toBe(1420);
      } else {
        expect(o.status).toBe('rejected');
        if (o.status === 'rejected') {
          expectNetlinkShape(o.reason);
          expect((o.reason as NetlinkError).code).toBe('ENODEV');
          expect((o.reason as NetlinkError).message).toContain(`missing${i}`);
        }
      }
    });
  });

  it('concurrent create/modify/delete of 30 bridges in the default namespace', async () => {
    const brNames = Array.from({ length: 30 }, () => res.link('b'));
    const created = await Promise.all(brNames.map((n, i) => createBridge(n, { mtu: 1000 + i })));
    created.forEach((l, i) => expect(l).toMatchObject({ name: brNames[i], mtu: 1000 + i }));
    const ipNow = ipLinks();
    brNames.forEach((n, i) => expect(ipNow.find((l) => l.ifname === n)?.mtu).toBe(1000 + i));
    const changed = await Promise.all(brNames.map((n, i) => setLink(n, { mtu: 2000 + i, up: true })));
    changed.forEach((l, i) => expect(l).toMatchObject({ name: brNames[i], mtu: 2000 + i, up: true }));
    const ipAfter = ipLinks();
    brNames.forEach((n, i) => expect(ipAfter.find((l) => l.ifname === n)?.mtu).toBe(2000 + i));
    await Promise.all(brNames.map((n) => deleteLink(n)));
    const ipGone = ipLinks().map((l) => l.ifname);
    for (const n of brNames) expect(ipGone).not.toContain(n);
  });
});

describe('the event loop is not blocked', () => {
  it('setImmediate keeps ticking while 200 sequential operations run', async () => {
    const ns = await res.netns();
    await createBridge('br0', { netns: ns });
    const ticker = loopTicker();
    const start = ticker.ticks();
    try {
      for (let i = 0; i < 100; i++) {
        await getLink('br0', { netns: ns });
        await setLink('br0', { mtu: 1000 + i }, { netns: ns });
      }
    } finally {
      ticker.stop();
    }
    // Were the work done on the main thread behind a resolved promise, no macrotask could run
    // between the awaits and the count would still be at its start.
    expect(ticker.ticks()).toBeGreaterThan(start);
  });

  it('a macrotask runs while 200 concurrent operations are still in flight', async () => {
    // One round: 100 bridge creations, which serialise on the kernel's RTNL lock (tens of
    // milliseconds of kernel work, far longer than submitting them takes), and 100 lookups, in a
    // fresh namespace. Returns how many had settled when the first macrotask after submitting ran.
    const round = async (): Promise<number> => {
      const ns = await res.netns();
      let done = 0;
      const count = <T>(p: Promise<T>) => p.then((v) => ((done += 1), v));
      const all = Promise.all([
        ...Array.from({ length: 100 }, (_, i) => count(createBridge(`b${i}`, { netns: ns }))),
        ...Array.from({ length: 100 }, () => count(getLink('lo', { netns: ns }))),
      ]);
      // Were the work done on the main thread, this could only run after all of it. (Counting
      // setImmediate ticks until Promise.all settles is not enough: results that are all ready by
      // the first poll are delivered in one callback, before any check phase.)
      await new Promise((resolve) => setImmediate(resolve));
      const doneAtFirstMacrotask = done;
      const results: Link[] = await all;
      expect(results).toHaveLength(200);
      expect(ipLinks(ns.name, ['type', 'bridge'])).toHaveLength(100);
      return doneAtFirstMacrotask;
    };
    // When the suite's other files load both CPUs, the JS thread can lose its CPU while submitting
    // and the workers finish everything before it gets it back (CI, 2026-12-02: 200 of 200). Such
    // a round shows nothing either way, so up to five rounds; work done on the main thread would
    // finish all 200 before the macrotask in every one.
    const seen: number[] = [];
    for (let attempt = 0; attempt < 5 && !(seen.at(-1)! < 200); attempt++) seen.push(await round());
    expect(seen.at(-1)).toBeLessThan(200);
  });
});
