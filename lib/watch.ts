// Kernel notifications instead of polling: watch() is an async iterable of link, address, route
// and neighbour events in one namespace, decoded by the same code the dumps use. The addon's
// event socket is polled by the event loop itself (no thread waits on it, nothing spins); events
// queue here until the iterator reads them.
//
// Choices:
// - Overrun: when the kernel drops notifications (the socket's receive buffer filled up, which
//   only happens while the event loop is kept from reading), the iterator yields
//   { type: 'overrun' }. With `resync: true` it then dumps the current state and yields it as
//   events with `existing: true`, closed by { type: 'synced' }; notifications that arrive during
//   the dump follow it, so one may repeat a state the dump already showed. A notification nlkit
//   cannot decode is reported the same way (with `unreadable` saying why) rather than ending the
//   watch: to the consumer it is a lost one, and a resync recovers from it alike.
// - listExisting does the same dump right after subscribing, so nothing falls between the two.
// - Routes are watched and dumped in every table (local and main alike), as the kernel sends them.
import { fromNative } from './errors';
import { listAddresses } from './addresses';
import { listLinks } from './links';
import { native, type NativeNetns, type NativeWatchEvent } from './native';
import { listNeighbors } from './neighbors';
import { NetnsHandle, openNetns, toNative } from './netns';
import { listRoutes } from './routes';
import type { Address, Link, NetnsRef, Neighbor, Route } from './types';
import * as check from './validate';

export type WatchGroup = 'link' | 'address' | 'route' | 'neighbor';

export interface WatchOptions {
  /**
   * Which notifications: 'link', 'address', 'route', 'neighbor' (IPv4 and IPv6 alike). The kernel
   * sends bridge FDB changes to the neighbour group too, as `family: 'bridge'` entries; the
   * listExisting and resync dumps list the FDB with ARP/NDP for that reason.
   */
  groups: WatchGroup[];
  netns?: NetnsRef;
  /** First yield what exists now (as `existing: true` events, then { type: 'synced' }). */
  listExisting?: boolean;
  /** After an overrun, dump the current state the same way. Default false. */
  resync?: boolean;
  /** The event socket's receive buffer, bytes (the kernel's default when absent). */
  receiveBuffer?: number;
  /**
   * At most this many unread notifications are kept (default 100,000), and as many arriving during
   * a dump. Past it, they are dropped and an overrun reported, as the kernel does when its buffer
   * fills: a consumer that stopped reading must not grow memory without bound. A dump's listing
   * (listExisting, resync) is not counted: it is as large as the state, and delivered whole.
   */
  maxQueued?: number;
  /** Aborting it ends the iteration, as return() does. */
  signal?: AbortSignal;
}

type Change = 'new' | 'del';
export type WatchEvent =
  | { type: 'link'; action: Change; link: Link; existing?: true }
  | { type: 'address'; action: Change; address: Address; existing?: true }
  | { type: 'route'; action: Change; route: Route; existing?: true }
  | { type: 'neighbor'; action: Change; neighbor: Neighbor; existing?: true }
  /**
   * Notifications were lost: what the iterator shows may be out of date. Either the kernel dropped
   * them (its buffer filled), or, with `unreadable` saying why, nlkit received one it could not
   * decode (malformed, or larger than the 64 KiB it reads); the watch goes on either way.
   */
  | { type: 'overrun'; unreadable?: string }
  /** The end of a listExisting or resync dump. */
  | { type: 'synced' };

const GROUP_BITS: Record<WatchGroup, number> = { link: 1, address: 2, route: 4, neighbor: 8 };

/** A notification (or the loss of some), as opposed to a dump's listing and its 'synced'. */
function isLive(e: WatchEvent): boolean {
  return e.type !== 'synced' && !('existing' in e && e.existing === true);
}

/** An open watch: iterate it with `for await`; `close()` (or `return()`, or the signal) ends it. */
export class Watch implements AsyncIterableIterator<WatchEvent> {
  /** Resolves once the socket is subscribed (and the listExisting dump is queued). */
  readonly ready: Promise<void>;
  /** The addon's watch id, once its socket is being opened. */
  private id: number | undefined;
  /**
   * The watch's own handle on the namespace (a duplicate, or the namespace opened by name, path or
   * pid when the watch opens): the socket is born in it and every dump reads it, so a name that is
   * deleted and made again, a pid reused or the caller's handle closed cannot turn a resync into a
   * listing of another namespace. Undefined for the process's initial namespace.
   */
  private handle: NetnsHandle | undefined;
  private readonly queue: WatchEvent[] = [];
  /** How many events in `queue` are live notifications (not a dump's listing): what maxQueued bounds. */
  private liveQueued = 0;
  private readonly waiting: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void }[] = [];
  /** Notifications that arrive while a dump runs, delivered after it. */
  private held: WatchEvent[] | undefined;
  /** An overrun came during a dump that had already read part of the state: dump once more. */
  private dumpAgain = false;
  private failure: unknown;
  private closed = false;
  private readonly onAbort = () => this.close();

  constructor(
    private readonly options: Required<Pick<WatchOptions, 'groups' | 'listExisting' | 'resync' | 'maxQueued'>> & { netns?: NetnsRef; signal?: AbortSignal },
    receiveBuffer?: number,
  ) {
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.ready = this.open(receiveBuffer).then(
      async () => {
        if (options.listExisting && !this.closed) await this.dump();
      },
      (e: unknown) => {
        const err = fromNative(e);
        this.fail(err);
        throw err;
      },
    );
    // The iterator reports the failure too; a caller that never awaits `ready` must not get an
    // unhandled rejection from it.
    this.ready.catch(() => {});
  }

  /** Takes the watch's own handle on the namespace, then opens the event socket in it. */
  private async open(receiveBuffer: number | undefined): Promise<void> {
    if (this.options.netns !== undefined) {
      const handle = await openNetns(this.options.netns);
      if (this.closed || this.failure !== undefined) {
        handle.close();
        return;
      }
      this.handle = handle;
    }
    let groups = 0;
    for (const g of this.options.groups) groups |= GROUP_BITS[g];
    const req: { netns?: NativeNetns; groups: number; receiveBuffer?: number } = { netns: toNative(this.handle), groups };
    if (receiveBuffer !== undefined) req.receiveBuffer = receiveBuffer;
    const { id, opened } = native.watchOpen(req, (batch) => this.receive(batch));
    this.id = id;
    await opened;
  }

  /** Closes the socket and the watch's handle (calls still using the handle finish first). */
  private release(): void {
    if (this.id !== undefined) native.watchClose(this.id);
    this.handle?.close();
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.queue.shift();
    if (event) {
      if (isLive(event)) this.liveQueued--;
      return Promise.resolve({ value: event, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Stops the watch and closes its socket. Events already queued are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.liveQueued = 0;
    this.release();
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  private push(event: WatchEvent): void {
    if (this.closed || this.failure !== undefined) return;
    const w = this.waiting.shift();
    if (w) {
      w.resolve({ value: event, done: false });
      return;
    }
    // The bound is on live notifications a consumer has not read. A dump's listing is what the
    // consumer asked to see, as large as the state, and is queued whole: counted against the
    // bound, a state larger than maxQueued cut its own listing short and, with resync, dumped
    // again and again.
    if (isLive(event) && this.liveQueued >= this.options.maxQueued) {
      this.queue.length = 0;
      this.liveQueued = 1;
      this.queue.push({ type: 'overrun' });
      if (this.options.resync) void this.dump();
      return;
    }
    if (isLive(event)) this.liveQueued++;
    this.queue.push(event);
  }

  private fail(e: unknown): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = e;
    this.release();
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  // Called by the addon from the event loop with each batch; never throws.
  private receive(batch: NativeWatchEvent[]): void {
    for (const raw of batch) {
      if (raw.type === 'error') {
        this.fail(fromNative(raw.error));
        return;
      }
      const dumping = this.held !== undefined;
      if (this.held) {
        // Held for after the dump, within the same bound: past it they are lost, and so is what
        // the dump would have been followed by; another dump (with resync) recovers it.
        if (this.held.length >= this.options.maxQueued) {
          this.held.length = 0;
          this.held.push({ type: 'overrun' });
          if (this.options.resync) this.dumpAgain = true;
          continue;
        }
        this.held.push(raw);
      } else {
        this.push(raw);
      }
      // After a lost notification, dump (again, when one is running); unless pushing it just
      // started one (the queue was full), which would only repeat that dump.
      if (raw.type === 'overrun' && this.options.resync && (dumping || this.held === undefined)) void this.dump();
    }
  }

  /** Yields the current state of the watched groups, then 'synced', then what arrived meanwhile. */
  private async dump(): Promise<void> {
    if (this.held) {
      // The running dump may have read part of the state before what was lost: go again after it.
      this.dumpAgain = true;
      return;
    }
    this.held = [];
    const netns = this.handle;
    const groups = new Set(this.options.groups);
    try {
      const [links, addresses, routes, neighbors] = await Promise.all([
        groups.has('link') ? listLinks({ netns }) : [],
        groups.has('address') ? listAddresses({ netns }) : [],
        groups.has('route') ? listRoutes({ netns, table: 0 }) : [],
        // The neighbour group carries FDB events, but an AF_UNSPEC neighbour dump lists only the
        // ARP and NDP tables: the FDB is dumped on its own (PF_BRIDGE), as `bridge fdb` does.
        groups.has('neighbor') ? Promise.all([listNeighbors({ netns }), listNeighbors({ netns, family: 'bridge' })]).then(([n, fdb]) => n.concat(fdb)) : [],
      ]);
      for (const link of links) this.push({ type: 'link', action: 'new', link, existing: true });
      for (const address of addresses) this.push({ type: 'address', action: 'new', address, existing: true });
      for (const route of routes) this.push({ type: 'route', action: 'new', route, existing: true });
      for (const neighbor of neighbors) this.push({ type: 'neighbor', action: 'new', neighbor, existing: true });
      this.push({ type: 'synced' });
    } catch (e) {
      this.fail(e);
    } finally {
      const held = this.held;
      this.held = undefined;
      for (const e of held) this.push(e);
      if (this.dumpAgain && !this.closed && this.failure === undefined) {
        this.dumpAgain = false;
        void this.dump();
      }
    }
  }
}

/**
 * Watches rtnetlink notifications in a namespace. Iterate with `for await`; leave the loop (or call
 * `close()`, or abort `signal`) to close the socket.
 *
 *   for await (const e of watch({ groups: ['link'], netns })) if (e.type === 'link') console.log(e.action, e.link.name);
 */
export function watch(options: WatchOptions): Watch {
  const o = check.optionsObject(options, 'options');
  check.onlyKeys(o, ['groups', 'netns', 'listExisting', 'resync', 'receiveBuffer', 'maxQueued', 'signal'], 'options');
  if (!Array.isArray(o.groups) || o.groups.length === 0) check.reject('groups', "must be a non-empty array of 'link', 'address', 'route', 'neighbor'");
  const groups = (o.groups as unknown[]).map((g, i) => {
    if (typeof g !== 'string' || !Object.hasOwn(GROUP_BITS, g)) check.reject(`groups[${i}]`, `must be 'link', 'address', 'route' or 'neighbor', got ${check.show(g)}`);
    return g as WatchGroup;
  });
  const signal = check.optional(o, 'signal', 'options', check.abortSignal);
  const receiveBuffer = check.optional(o, 'receiveBuffer', 'options', (v, a) => check.integer(v, a, 256, 1 << 30));
  toNative(o.netns as NetnsRef | undefined); // a bad reference fails here, before a socket is opened
  const w = new Watch(
    {
      groups,
      netns: o.netns as NetnsRef | undefined,
      listExisting: check.optional(o, 'listExisting', 'options', check.bool) ?? false,
      resync: check.optional(o, 'resync', 'options', check.bool) ?? false,
      maxQueued: check.optional(o, 'maxQueued', 'options', (v, a) => check.integer(v, a, 1, 2 ** 31 - 1)) ?? 100_000,
      signal,
    },
    receiveBuffer,
  );
  if (signal?.aborted) w.close();
  return w;
}
