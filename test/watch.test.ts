// watch(), waitForLink, waitForAddress and attachContainer's waitForCarrier, against changes made
// in namespaces this file creates (never the process's own): the events must say what `ip` shows
// happened, an overrun must be reported and followed by a correct resync, and closing must give
// every fd back.
import { getEventListeners, once } from 'node:events';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addAddress,
  addNeighbor,
  addRoute,
  attachContainer,
  createBridge,
  createNetns,
  createVethPair,
  deleteAddress,
  deleteLink,
  deleteNeighbor,
  deleteNetns,
  deleteRoute,
  enslave,
  release,
  listLinks,
  listNeighbors,
  setLink,
  TimeoutError,
  waitForAddress,
  waitForLink,
  watch,
  InvalidArgumentError,
  type Neighbor,
  type Watch,
  type WatchEvent,
} from '../lib/index';
import { eventually } from './helpers/expect';
import { buildMessage } from './helpers/netlink-parse';
import { native } from '../lib/native';
import { toNative } from '../lib/netns';
import { ipAddrOf, ipLink, ipNeighbors } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qwa');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** Reads events until `match` accepts one (returned), failing after `ms`. */
async function until(w: Watch, what: string, match: (e: WatchEvent) => boolean, ms = 5000): Promise<WatchEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    const next = await Promise.race([w.next(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, left)))]);
    if (next === 'timeout') throw new Error(`no event: ${what}`);
    if (next.done) throw new Error(`watch ended waiting for: ${what}`);
    if (match(next.value)) return next.value;
  }
}

const linkEvent = (action: 'new' | 'del', name: string, extra: (e: Extract<WatchEvent, { type: 'link' }>) => boolean = () => true) =>
  (e: WatchEvent) => e.type === 'link' && e.action === action && e.link.name === name && extra(e);

function fdTargets(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

describe('watch: link events', () => {
  it('creation, rename, up and down, a move to another namespace, and deletion', async () => {
    const ns = await res.netns('w');
    const other = await res.netns('o');
    const w = watch({ groups: ['link'], netns: ns });
    await w.ready;
    const a = names.link('a');
    const b = names.link('b');
    await createVethPair({ name: a, netns: ns, peer: { name: b } });
    const created = await until(w, `new ${a}`, linkEvent('new', a));
    expect(created.type === 'link' && created.link.kind).toBe('veth');
    expect(created.type === 'link' && created.link.index).toBe(ipLink(a, ns.name)!.ifindex);

    const renamed = names.link('r');
    await setLink(a, { name: renamed }, { netns: ns });
    await until(w, `rename to ${renamed}`, linkEvent('new', renamed));
    await setLink(renamed, { up: true }, { netns: ns });
    await until(w, `${renamed} up`, linkEvent('new', renamed, (e) => e.link.up));
    await setLink(renamed, { up: false }, { netns: ns });
    await until(w, `${renamed} down`, linkEvent('new', renamed, (e) => !e.link.up));

    // Moved away: this namespace sees it deleted; the other one sees it appear.
    const there = watch({ groups: ['link'], netns: other });
    await there.ready;
    await setLink(renamed, { netns: other }, { netns: ns });
    await until(w, `${renamed} gone from ns`, linkEvent('del', renamed));
    await until(there, `${renamed} arrives in other`, linkEvent('new', renamed));
    expect(ipLink(renamed, other.name)).toBeDefined();

    await deleteLink(b, { netns: ns });
    await until(w, `del ${b}`, linkEvent('del', b));
    w.close();
    there.close();
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });

  it('listExisting first yields what exists, then synced, then changes', async () => {
    const ns = await res.netns('l');
    const a = names.link('x');
    await createVethPair({ name: a, netns: ns, peer: { name: names.link('y') } });
    const w = watch({ groups: ['link'], netns: ns, listExisting: true });
    const seen: WatchEvent[] = [];
    for await (const e of w) {
      seen.push(e);
      if (e.type === 'synced') break; // leaving the loop closes the watch
    }
    expect(seen.filter((e) => e.type === 'link').map((e) => e.type === 'link' && [e.link.name, e.existing])).toEqual(
      expect.arrayContaining([['lo', true], [a, true]]),
    );
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });
});

describe('watch: bridge ports', () => {
  it("a port joining and leaving a bridge is not reported as the link's deletion", async () => {
    const ns = await res.netns('bp');
    const br = names.link('br');
    const a = names.link('a');
    await createBridge(br, { netns: ns });
    await createVethPair({ name: a, netns: ns, peer: { name: names.link('b') } });
    const w = watch({ groups: ['link'], netns: ns });
    await w.ready;
    const seen: WatchEvent[] = [];
    const reading = (async () => {
      for await (const e of w) seen.push(e);
    })();
    const mine = (e: WatchEvent) => (e.type === 'link' && e.link.name === a ? e.link : undefined);
    await enslave(a, br, { netns: ns });
    await eventually(() => expect(seen.some((e) => mine(e)?.master !== undefined)).toBe(true));
    // Only events after the first one with a master count as the release's (an event from before
    // the port joined has no master either).
    const joined = seen.findIndex((e) => mine(e)?.master !== undefined);
    await release(a, { netns: ns });
    await eventually(() => expect(seen.some((e, i) => i > joined && mine(e) !== undefined && mine(e)!.master === undefined)).toBe(true));
    // The bridge's own per-port messages (a delete among them) would arrive around these.
    await new Promise((r) => setTimeout(r, 100));
    w.close();
    await reading;
    expect(seen.filter((e) => e.type === 'link' && e.link.name === a && e.action === 'del')).toEqual([]);
    expect(seen.every((e) => e.type !== 'link' || e.link.kind !== undefined)).toBe(true);
    expect(ipLink(a, ns.name)).toBeDefined();
  });
});

describe('watch: address and route events', () => {
  it('reports addresses and routes added and removed', async () => {
    const ns = await res.netns('ar');
    const a = names.link('a');
    await createVethPair({ name: a, netns: ns, peer: { name: names.link('b') } });
    await setLink(a, { up: true }, { netns: ns });
    const w = watch({ groups: ['address', 'route'], netns: ns });
    await w.ready;
    await addAddress(a, '10.81.0.1/24', { netns: ns });
    const added = await until(w, 'address new', (e) => e.type === 'address' && e.action === 'new' && e.address.cidr === '10.81.0.1/24');
    expect(added.type === 'address' && added.address.link).toBe(ipLink(a, ns.name)!.ifindex);
    expect(ipAddrOf(a, '10.81.0.1', ns.name)).toBeDefined();
    // The kernel adds the subnet route with the address.
    await until(w, 'connected route', (e) => e.type === 'route' && e.action === 'new' && e.route.to === '10.81.0.0/24');
    await addRoute({ to: '10.82.0.0/16', via: '10.81.0.254', netns: ns });
    await until(w, 'route new', (e) => e.type === 'route' && e.action === 'new' && e.route.to === '10.82.0.0/16' && e.route.via === '10.81.0.254');
    await deleteRoute({ to: '10.82.0.0/16', netns: ns });
    await until(w, 'route del', (e) => e.type === 'route' && e.action === 'del' && e.route.to === '10.82.0.0/16');
    await deleteAddress(a, '10.81.0.1/24', { netns: ns });
    await until(w, 'address del', (e) => e.type === 'address' && e.action === 'del' && e.address.address === '10.81.0.1');
    w.close();
  });
});

describe('watch: overrun and resync', () => {
  it('a tiny receive buffer and a burst while the event loop is busy: overrun, then a correct resync', async () => {
    const ns = await res.netns('ov');
    const links: string[] = [];
    for (let i = 0; i < 40; i++) {
      const n = names.link('v');
      links.push(n);
      await createVethPair({ name: n, netns: ns, peer: { name: names.link('p') } });
    }
    const w = watch({ groups: ['link'], netns: ns, receiveBuffer: 256, resync: true });
    await w.ready;
    // The changes run on nlkit's worker threads while this thread is blocked: nobody reads the
    // event socket, and its buffer (the kernel's minimum) holds one or two notifications.
    const changes = Promise.all(links.map((n) => setLink(n, { mtu: 1300 }, { netns: ns })));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    await changes;
    await until(w, 'overrun', (e) => e.type === 'overrun');
    const resynced: string[] = [];
    await until(w, 'synced', (e) => {
      if (e.type === 'link' && e.existing && e.link.mtu === 1300) resynced.push(e.link.name);
      return e.type === 'synced';
    });
    expect(resynced.sort()).toEqual([...links].sort());
    w.close();
  });
});

describe('watch: a listing larger than maxQueued', () => {
  it('is delivered whole, once, to a consumer that reads: the bound is on unread notifications', async () => {
    const ns = await res.netns('mq');
    for (let i = 0; i < 3; i++) await createVethPair({ name: `m${i}`, peer: { name: `n${i}` }, netns: ns });
    // 7 links against a bound of 4: a dump pushes its listing at once.
    for (const resync of [true, false]) {
      const w = watch({ groups: ['link'], netns: ns, listExisting: true, resync, maxQueued: 4 });
      const seen: string[] = [];
      for await (const e of w) {
        seen.push(e.type === 'link' ? e.link.name : e.type);
        if (e.type === 'synced' || seen.length > 50) break;
      }
      expect(seen.filter((t) => t === 'overrun'), `resync ${resync}`).toEqual([]);
      expect(seen.slice(0, -1).sort(), `resync ${resync}`).toEqual(['lo', 'm0', 'm1', 'm2', 'n0', 'n1', 'n2']);
      expect(seen.at(-1)).toBe('synced');
    }
  });

  it('live notifications past the bound while nobody reads: one overrun, then one resync', async () => {
    const ns = await res.netns('mr');
    const w = watch({ groups: ['link'], netns: ns, resync: true, maxQueued: 2 });
    await w.ready;
    for (let i = 0; i < 3; i++) await createVethPair({ name: `o${i}`, peer: { name: `q${i}` }, netns: ns });
    await eventually(async () => {
      // Nothing read yet: the queue went over 2 and was replaced by an overrun and the resync.
      expect((w as unknown as { queue: WatchEvent[] }).queue.some((e) => e.type === 'synced')).toBe(true);
    });
    const types: string[] = [];
    for await (const e of w) {
      types.push(e.type);
      if (e.type === 'synced') break;
    }
    expect(types.filter((t) => t === 'overrun')).toHaveLength(1);
    expect(types.filter((t) => t === 'synced')).toHaveLength(1);
    w.close();
  });
});

describe('watch: overruns and dumps, driven by hand', () => {
  // The batches the addon delivers, given straight to the watch: which events arrive when is
  // then fixed, and the dumps (real ones, of a namespace with lo alone) are counted exactly.
  type Internals = { receive(batch: unknown[]): void; queue: WatchEvent[] };
  const live = (i: number) => ({ type: 'link', action: 'new', link: { name: `x${i}`, index: 100 + i } });
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it("a kernel overrun that arrives when the queue is full starts one dump, not two", async () => {
    const ns = await res.netns('d1');
    const w = watch({ groups: ['link'], netns: ns, resync: true, maxQueued: 2 });
    await w.ready;
    const inner = w as unknown as Internals;
    inner.receive([live(1), live(2)]); // unread: the queue is at its bound
    inner.receive([{ type: 'overrun' }]); // pushed into the full queue: that push starts the dump
    await settle();
    expect(inner.queue.map((e) => e.type)).toEqual(['overrun', 'link', 'synced']);
    w.close();
  });

  it('notifications held during a dump are bounded too: past it, an overrun and one dump more', async () => {
    const ns = await res.netns('d2');
    const w = watch({ groups: ['link'], netns: ns, resync: true, maxQueued: 2 });
    await w.ready;
    const inner = w as unknown as Internals;
    inner.receive([{ type: 'overrun' }]); // a dump starts
    inner.receive([live(1), live(2), live(3)]); // held for after it: the third is past the bound
    await settle();
    expect(inner.queue.map((e) => e.type)).toEqual(['overrun', 'link', 'synced', 'overrun', 'link', 'synced']);
    w.close();
  });
});

describe('watch: the namespace it watches', () => {
  it('a named namespace deleted and made again under the same name: a resync still lists the watched one', async () => {
    const name = names.netns('rn');
    const watched = await createNetns(name);
    try {
      const w = watch({ groups: ['link'], netns: name, resync: true, maxQueued: 1 });
      await w.ready;
      await deleteNetns(name);
      const imposter = await createNetns(name);
      await createVethPair({ name: 'imposter', peer: { name: 'imposter1' }, netns: imposter });
      // Two changes in the watched namespace, unread: past maxQueued, so an overrun and a resync.
      await createVethPair({ name: 'w0', peer: { name: 'w1' }, netns: watched });
      const listed: string[] = [];
      for await (const e of w) {
        if (e.type === 'link' && e.existing) listed.push(e.link.name);
        if (e.type === 'synced') break;
      }
      expect(listed.sort()).toEqual(['lo', 'w0', 'w1']);
      w.close();
      imposter.close();
      await deleteNetns(name);
    } finally {
      watched.close();
    }
  });

  it("the caller's handle closed right after watch(): the watch has its own", async () => {
    const ns = await createNetns();
    const w = watch({ groups: ['link'], netns: ns, listExisting: true });
    ns.close();
    const first = await w.next();
    expect(first.value).toMatchObject({ type: 'link', existing: true, link: { name: 'lo' } });
    w.close();
  });
});

describe('watch: neighbours', () => {
  it('ARP and bridge FDB entries: listed as existing, then each change as an event', async () => {
    const ns = await res.netns('nb');
    await createBridge('br0', { netns: ns, up: true });
    const pair = await createVethPair({ name: 'p0', netns: ns, up: true, master: 'br0', peer: { name: 'p1' } });
    const p1 = await setLink('p1', { up: true }, { netns: ns });
    await addNeighbor({ netns: ns, dev: 'p1', address: '10.80.0.9', mac: '02:00:00:80:00:09' });
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:80:00:0a', master: true });

    // The tables move on their own (the bridge learns, IPv6 multicast entries come as links go
    // up): what the watch lists must hold every entry present both before and after it, and
    // nothing that was in neither.
    const dumpAll = async () => [...(await listNeighbors({ netns: ns, family: 'bridge' })), ...(await listNeighbors({ netns: ns }))];
    const key = (n: Neighbor) => `${n.family} ${n.dev} ${n.address ?? ''} ${n.mac ?? ''}`;
    const before = (await dumpAll()).map(key);
    const w = watch({ groups: ['neighbor'], netns: ns, listExisting: true });
    const existing: Neighbor[] = [];
    for (;;) {
      const e = (await until(w, 'the existing entries', () => true)) as WatchEvent;
      if (e.type === 'synced') break;
      if (e.type === 'neighbor') {
        expect(e.existing).toBe(true);
        existing.push(e.neighbor);
      }
    }
    expect(existing).toContainEqual(expect.objectContaining({ family: 4, dev: p1.index, address: '10.80.0.9', mac: '02:00:00:80:00:09' }));
    // The FDB entry is in the dump as it is in the events below (it used to be missing: an
    // AF_UNSPEC neighbour dump leaves the FDB out).
    expect(existing).toContainEqual(expect.objectContaining({ family: 'bridge', dev: pair.link.index, mac: '02:00:00:80:00:0a' }));
    const after = (await dumpAll()).map(key);
    const listed = existing.map(key);
    for (const k of before.filter((k) => after.includes(k))) expect(listed).toContain(k);
    for (const k of listed) expect([...before, ...after]).toContain(k);

    await addNeighbor({ netns: ns, dev: 'p1', address: '10.80.0.10', mac: '02:00:00:80:00:10' });
    const added = await until(w, 'ARP new', (e) => e.type === 'neighbor' && e.neighbor.address === '10.80.0.10');
    expect(added).toMatchObject({ action: 'new', neighbor: { family: 4, dev: p1.index, mac: '02:00:00:80:00:10' } });
    expect(ipNeighbors(ns.name, { dev: 'p1' }).map((n) => n.dst)).toContain('10.80.0.10');
    await addNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:80:00:0b', master: true });
    const fdbAdded = await until(w, 'FDB new', (e) => e.type === 'neighbor' && e.neighbor.mac === '02:00:00:80:00:0b');
    expect(fdbAdded).toMatchObject({ action: 'new', neighbor: { family: 'bridge', dev: pair.link.index } });
    await deleteNeighbor({ netns: ns, dev: 'p1', address: '10.80.0.10' });
    await until(w, 'ARP del', (e) => e.type === 'neighbor' && e.action === 'del' && e.neighbor.address === '10.80.0.10');
    await deleteNeighbor({ netns: ns, dev: 'p0', mac: '02:00:00:80:00:0b', master: true });
    await until(w, 'FDB del', (e) => e.type === 'neighbor' && e.action === 'del' && e.neighbor.mac === '02:00:00:80:00:0b');
    w.close();
  });
});

describe('watch: resources', () => {
  it('gives back its socket when closed, by close(), break, or an AbortSignal', async () => {
    const ns = await res.netns('fd');
    await listLinks({ netns: ns }); // the handle's pooled socket, which the listExisting dump uses, is open before counting
    await new Promise((r) => setImmediate(r));
    const before = fdTargets();
    const w1 = watch({ groups: ['link', 'address', 'route', 'neighbor'], netns: ns });
    await w1.ready;
    expect(fdTargets().length).toBe(before.length + 1);
    w1.close();
    const w2 = watch({ groups: ['link'], netns: ns, listExisting: true });
    for await (const e of w2) if (e.type === 'synced') break;
    const ac = new AbortController();
    const w3 = watch({ groups: ['link'], netns: ns, signal: ac.signal });
    await w3.ready;
    const reading = w3.next();
    ac.abort();
    expect(await reading).toEqual({ value: undefined, done: true });
    await new Promise((r) => setTimeout(r, 20)); // libuv closes the polled fds on a later turn
    expect(fdTargets()).toEqual(before);
  });

  it('a worker_thread that exits or is terminated while its watch delivers events does not take the process down', async () => {
    // The delivery into JS fails with no exception value while a worker is being stopped; building
    // an error from that aborted the whole process (3 runs in 3 with process.exit in the loop).
    const ns = await res.netns('wt');
    const dist = resolve(__dirname, '..', 'dist', 'index.js');
    const body = (onEvent: string) =>
      `const nl = require(${JSON.stringify(dist)});
       const { parentPort } = require('node:worker_threads');
       (async () => {
         const w = nl.watch({ groups: ['link', 'address'], netns: { name: ${JSON.stringify(ns.name)} } });
         await w.ready;
         parentPort.postMessage('ready');
         for await (const e of w) { ${onEvent} }
       })();`;
    for (let round = 0; round < 6; round++) {
      const exiting = round % 2 === 0;
      const worker = new Worker(body(exiting ? 'process.exit(0);' : ''), { eval: true });
      const exited = once(worker, 'exit') as Promise<[number]>;
      await once(worker, 'message');
      const made = createVethPair({ name: `t${round}`, peer: { name: `u${round}` }, netns: ns });
      if (!exiting) {
        // Terminate while the events of that change are arriving.
        await new Promise((r) => setTimeout(r, round));
        await worker.terminate();
      }
      const [code] = await exited;
      expect(code, `round ${round}`).toBe(exiting ? 0 : 1);
      await made;
    }
    // Still here, and nlkit still works in this process.
    expect((await listLinks({ netns: ns })).length).toBeGreaterThan(6);
  }, 30_000);

  it("a datagram another process sends to the watch's socket is no event: only the kernel's count", async () => {
    // Anyone with CAP_NET_ADMIN over the namespace's user namespace can send to the socket's port
    // (root in a user-namespaced container, to a host daemon watching the container).
    const ns = await res.netns('fg');
    const w = watch({ groups: ['link'], netns: ns });
    await w.ready;
    const port = native.watchPort((w as unknown as { id: number }).id);
    expect(port).toBeGreaterThan(0);
    const ifinfomsg = Buffer.alloc(16);
    ifinfomsg.writeInt32LE(4242, 4); // ifi_index
    ifinfomsg.writeUInt32LE(1, 8); // IFF_UP
    const forged = buildMessage(16 /* RTM_NEWLINK */, ifinfomsg, [{ type: 3 /* IFLA_IFNAME */, payload: Buffer.from('forged0\0') }]);
    // The socket is connected to the kernel: the kernel refuses the sender. (Were it not, the
    // reader would still drop the datagram: it is not from port 0.)
    await expect(native.netlinkSendTo({ netns: toNative(ns), port, bytes: forged })).rejects.toMatchObject({ kind: 'system', errno: 111 }); // ECONNREFUSED (a test hook's raw error)
    // Then a real change: its events come first.
    await createVethPair({ name: 'r0', peer: { name: 'r1' }, netns: ns });
    const first = await w.next();
    expect(first.value).toMatchObject({ type: 'link', action: 'new' });
    expect((first.value as { link: { name: string } }).link.name).toMatch(/^r[01]$/);
    w.close();
  });

  it('rejects bad options before opening anything', async () => {
    expect(() => watch({ groups: [] })).toThrow(InvalidArgumentError);
    expect(() => watch({ groups: ['links' as 'link'] })).toThrow(/groups\[0\]/);
    expect(() => watch({ groups: ['toString' as 'link'] })).toThrow(/groups\[0\]/);
    expect(() => watch({ groups: ['link'], receiveBuffer: -1 })).toThrow(/receiveBuffer/);
    expect(() => watch({ groups: ['link'], netns: { name: '../x' } })).toThrow(InvalidArgumentError);
    expect(() => watch({ groups: ['link'], signal: {} as AbortSignal })).toThrow(/signal/);
    await expect(waitForLink('lo', { operState: 'UP' as 'up', timeoutMs: 10 })).rejects.toThrow(/operState.*must be one of/);
    await expect(waitForLink('lo', { timeoutMs: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(waitForAddress('10.0.0.300', { timeoutMs: 10 })).rejects.toThrow(/address/);
  });
});

describe('waitForLink and waitForAddress', () => {
  it('resolves at once when the state holds, soon after the change when it comes, and rejects on timeout', async () => {
    const ns = await res.netns('wl');
    const a = names.link('a');
    await createVethPair({ name: a, netns: ns, peer: { name: names.link('b') } });
    expect((await waitForLink(a, { netns: ns, up: false, timeoutMs: 1000 })).name).toBe(a);

    const waiting = waitForLink(a, { netns: ns, up: true, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 50));
    const changed = Date.now();
    await setLink(a, { up: true }, { netns: ns });
    const link = await waiting;
    expect(link.up).toBe(true);
    expect(Date.now() - changed).toBeLessThan(1000);

    const late = names.link('late');
    const appearing = waitForLink(late, { netns: ns, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 50));
    await createVethPair({ name: late, netns: ns, peer: { name: names.link('lp') } });
    expect((await appearing).name).toBe(late);

    const t0 = Date.now();
    const timedOut = await waitForLink(a, { netns: ns, operState: 'dormant', timeoutMs: 150 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect((timedOut as TimeoutError).code).toBe('ERR_NLKIT_TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('timeoutMs: 0 still answers "already there", however long opening the watch socket takes', async () => {
    const ns = await res.netns('w0');
    await addAddress('lo', '10.84.0.1/8', { netns: ns });
    // Keep the pool busy so the socket opens after the zero-length timer has fired.
    for (let i = 0; i < 20; i++) {
      const busy = Array.from({ length: 8 }, () => listLinks({ netns: ns }));
      expect((await waitForLink('lo', { netns: ns, timeoutMs: 0 })).name).toBe('lo');
      expect((await waitForAddress('10.84.0.1', { netns: ns, timeoutMs: 0 })).address).toBe('10.84.0.1');
      await Promise.all(busy);
    }
    await expect(waitForLink('nosuch0', { netns: ns, timeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('waitForAddress with a CIDR waits for that prefix length, not any copy of the address', async () => {
    const ns = await res.netns('wp');
    await setLink('lo', { up: true }, { netns: ns });
    await addAddress('lo', '10.85.0.1/8', { netns: ns });
    await expect(waitForAddress('10.85.0.1/24', { netns: ns, timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    const waiting = waitForAddress('10.85.0.1/24', { netns: ns, timeoutMs: 5000 });
    await deleteAddress('lo', '10.85.0.1/8', { netns: ns });
    await addAddress('lo', '10.85.0.1/24', { netns: ns });
    expect(await waiting).toMatchObject({ address: '10.85.0.1', prefixLength: 24 });
    expect((await waitForAddress('10.85.0.1', { netns: ns, timeoutMs: 0 })).prefixLength).toBe(24);
  });

  it('waitForAddress without link: a usable copy on one link answers, whatever another copy is doing', async () => {
    const ns = await res.netns('w2');
    const a = names.link('a');
    const b = names.link('b');
    await createVethPair({ name: a, netns: ns, peer: { name: b } });
    // Down links: an address added with DAD stays tentative, while the other copy skips DAD. Both
    // ways round, so that the tentative copy comes first in the kernel's dump either way.
    await addAddress(a, 'fd84::1/64', { netns: ns });
    await addAddress(b, 'fd84::1/64', { netns: ns, noDad: true });
    await addAddress(a, 'fd84::2/64', { netns: ns, noDad: true });
    await addAddress(b, 'fd84::2/64', { netns: ns });
    const index = async (name: string) => (await listLinks({ netns: ns })).find((l) => l.name === name)!.index;
    const one = await waitForAddress('fd84::1', { netns: ns, timeoutMs: 1000 });
    expect(one.flags).not.toContain('tentative');
    expect(one.link).toBe(await index(b));
    const two = await waitForAddress('fd84::2', { netns: ns, timeoutMs: 1000 });
    expect(two.flags).not.toContain('tentative');
    expect(two.link).toBe(await index(a));
  });

  it('waitForAddress resolves when IPv6 duplicate address detection has finished', async () => {
    const ns = await res.netns('wd');
    const a = names.link('a');
    const b = names.link('b');
    await createVethPair({ name: a, netns: ns, peer: { name: b } });
    await setLink(b, { up: true }, { netns: ns });
    await setLink(a, { up: true }, { netns: ns });
    await addAddress(a, 'fd81::1/64', { netns: ns }); // with DAD: tentative for about a second
    expect(ipAddrOf(a, 'fd81::1', ns.name)?.tentative).toBe(true);
    const ready = await waitForAddress('fd81::1', { netns: ns, link: a, timeoutMs: 10_000 });
    expect(ready.flags).not.toContain('tentative');
    expect(ipAddrOf(a, 'fd81::1', ns.name)?.tentative).toBeUndefined();
  });
});

describe('waits on what does not exist yet', () => {
  it('waitForAddress on a link not created yet waits for it, as waitForLink does', async () => {
    const ns = await res.netns('wn');
    const a = names.link('a');
    const waiting = waitForAddress('10.86.0.1', { netns: ns, link: a, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 50));
    await createVethPair({ name: a, netns: ns, peer: { name: names.link('b') } });
    await addAddress(a, '10.86.0.1/24', { netns: ns });
    expect(await waiting).toMatchObject({ address: '10.86.0.1', prefixLength: 24 });
  });
});

describe('waits: failures and clean-up', () => {
  it('waitForAddress rejects with EADDRNOTAVAIL when duplicate address detection fails', async () => {
    const ns = await res.netns('df');
    const a = names.link('a');
    const b = names.link('b');
    await createVethPair({ name: a, netns: ns, peer: { name: b } });
    await setLink(a, { up: true }, { netns: ns });
    await setLink(b, { up: true }, { netns: ns });
    await addAddress(b, 'fd84::1/64', { netns: ns, noDad: true }); // the other end already has it
    await addAddress(a, 'fd84::1/64', { netns: ns });
    const failed = await waitForAddress('fd84::1', { netns: ns, link: a, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'EADDRNOTAVAIL', operation: 'waitForAddress' });
  });

  it('leaves no listener on a long-lived AbortSignal, and an aborted wait rejects at once', async () => {
    const ns = await res.netns('ab');
    const ac = new AbortController();
    for (let i = 0; i < 12; i++) await waitForLink('lo', { netns: ns, timeoutMs: 1000, signal: ac.signal });
    await waitForLink('lo', { netns: ns, operState: 'dormant', timeoutMs: 20, signal: ac.signal }).catch(() => {});
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const waiting = waitForLink('lo', { netns: ns, operState: 'dormant', timeoutMs: 10_000, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });

  it('a consumer that stops reading gets an overrun instead of a queue without bound', async () => {
    const ns = await res.netns('mq');
    const w = watch({ groups: ['link'], netns: ns, maxQueued: 5 });
    await w.ready;
    for (let i = 0; i < 6; i++) await createVethPair({ name: names.link('q'), netns: ns, peer: { name: names.link('r') } });
    await eventually(async () => expect((await w.next()).value).toEqual({ type: 'overrun' }));
    w.close();
  });
});

describe('attachContainer waitForCarrier', () => {
  it('resolves with carrier on the container interface, and removes the veth when it never comes', async () => {
    const host = await res.netns('ch');
    const ctr = await res.netns('cc');
    const br = names.link('br');
    await createBridge(br, { netns: host });
    await setLink(br, { up: true }, { netns: host });
    const r = await attachContainer({ netns: ctr, hostNetns: host, bridge: br, addresses: ['10.83.0.2/16'], waitForCarrier: true });
    expect(ipLink('eth0', ctr.name)?.operstate).toBe('UP');
    expect(r.container.name).toBe('eth0');

    // A zero timeout cannot be met unless carrier is already there when looked at; whichever
    // way it goes, nothing may be left half-made.
    const ctr2 = await res.netns('cd');
    const outcome = await attachContainer({ netns: ctr2, hostNetns: host, bridge: br, hostIfname: names.link('h'), waitForCarrier: { timeoutMs: 0 } }).catch((e: unknown) => e);
    if (outcome instanceof Error) {
      expect(outcome).toBeInstanceOf(TimeoutError);
      expect(ipLink('eth0', ctr2.name)).toBeUndefined();
    } else {
      expect(ipLink('eth0', ctr2.name)?.operstate).toBe('UP');
    }
  });
});
