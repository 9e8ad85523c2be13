// Waiting for a state on the kernel's own notifications rather than by polling: subscribe first,
// then read the current state (so a change between the two is not missed), then resolve on the
// first notification that reaches the state. Resolves at once when the state already holds.
import { constants } from 'node:os';
import { ErrnoError, NlkitError, SystemError, TimeoutError } from './errors';
import { listAddresses } from './addresses';
import { OPER_STATES } from './link-object';
import { getLink } from './links';
import type { Address, Link, LinkRef, NetnsRef, OperState } from './types';
import * as check from './validate';
import { watch, type Watch, type WatchGroup } from './watch';

export interface WaitForLinkOptions {
  netns?: NetnsRef;
  /** The operational state to wait for, e.g. 'up' (carrier). */
  operState?: OperState;
  /** Administratively up (true) or down (false). */
  up?: boolean;
  /** Required: how long to wait, in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface WaitForAddressOptions {
  netns?: NetnsRef;
  /** The link the address is on (name or ifindex). */
  link?: LinkRef;
  /** Required: how long to wait, in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Runs `check` against the state now and after every notification of `groups` until it returns
 * a value; rejects with TimeoutError after `timeoutMs`, or with the signal's reason.
 */
async function waitFor<T>(
  what: string,
  groups: WatchGroup[],
  netns: NetnsRef | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  current: () => Promise<T | undefined>,
): Promise<T> {
  const aborted = () => signal?.reason ?? new NlkitError('ABORT_ERR', `${what}: aborted`);
  if (signal?.aborted) throw aborted(); // before a socket is opened for nothing
  const w: Watch = watch({ groups, netns });
  let timer: NodeJS.Timeout | undefined;
  let expire: (e: unknown) => void = () => {};
  // The limit covers the whole wait, opening the socket included.
  const expired = new Promise<never>((_, reject) => {
    expire = reject;
    timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
  });
  expired.catch(() => {});
  // The first look is not held to the limit (below), but an abort ends it.
  let abandon: (e: unknown) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    abandon = reject;
  });
  abandoned.catch(() => {});
  const onAbort = () => {
    expire(aborted());
    abandon(aborted());
    w.close();
  };
  try {
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut: TimeoutError | undefined;
    try {
      await Promise.race([w.ready, expired]);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      timedOut = e;
    }
    // The first look counts even when it took longer than the limit, or the limit ran out before
    // the socket was open (timeoutMs: 0, a busy pool): "already there" is an answer.
    const found = await Promise.race([current(), abandoned]);
    if (found !== undefined) return found;
    if (timedOut !== undefined) throw timedOut;
    // Each notification (or overrun: then some were lost) means: look again. Looking again rather
    // than trusting the event's contents keeps one code path for every kind of change.
    for (;;) {
      const next = await Promise.race([w.next(), expired]);
      if (next.done) return await expired; // closed by the signal
      const now = await Promise.race([current(), expired]);
      if (now !== undefined) return now;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    w.close();
  }
}

function timeout(v: unknown): number {
  return check.integer(v, 'timeoutMs', 0, 0x7fffffff);
}

/**
 * Resolves with the link as soon as it exists and is in the state asked for (operState, up; with
 * neither, as soon as it exists), including when it already is. A link named by a name that does
 * not exist yet is waited for.
 */
export async function waitForLink(link: LinkRef, opts: WaitForLinkOptions): Promise<Link> {
  const ref = check.linkRef(link, 'link');
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'operState', 'up', 'timeoutMs', 'signal'], 'opts');
  const operState = check.optional(o, 'operState', 'opts', (v, a) => {
    if (typeof v !== 'string' || !OPER_STATES.includes(v as OperState)) check.reject(a, `must be one of ${OPER_STATES.join(', ')}, got ${check.show(v)}`);
    return v as OperState;
  });
  const up = check.optional(o, 'up', 'opts', check.bool);
  const netns = o.netns as NetnsRef | undefined;
  const what = `waitForLink ${ref}${operState ? ` operState ${operState}` : ''}${up !== undefined ? ` ${up ? 'up' : 'down'}` : ''}`;
  return waitFor(what, ['link'], netns, timeout(o.timeoutMs), check.optional(o, 'signal', 'opts', check.abortSignal), async () => {
    let l: Link;
    try {
      l = await getLink(ref, { netns });
    } catch (e) {
      if (e instanceof ErrnoError && e.code === 'ENODEV') return undefined;
      throw e;
    }
    if (operState !== undefined && l.operState !== operState) return undefined;
    if (up !== undefined && l.up !== up) return undefined;
    return l;
  });
}

/**
 * Resolves with the address once it is present and usable: not 'tentative' (IPv6 duplicate
 * address detection has finished). Rejects with a SystemError EADDRNOTAVAIL when DAD failed.
 * `address` is an IP, or a CIDR whose prefix length must match too; `link` narrows it to one link.
 */
export async function waitForAddress(address: string, opts: WaitForAddressOptions): Promise<Address> {
  const cidr = typeof address === 'string' && address.includes('/') ? check.cidr(address, 'address') : undefined;
  const ip = cidr !== undefined ? cidr.address : check.ipAddress(address, 'address');
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'link', 'timeoutMs', 'signal'], 'opts');
  const link = check.optional(o, 'link', 'opts', check.linkRef);
  const netns = o.netns as NetnsRef | undefined;
  const want = check.canonicalIp(ip);
  return waitFor(`waitForAddress ${want}${cidr !== undefined ? `/${cidr.prefixLength}` : ''}`, ['address'], netns, timeout(o.timeoutMs), check.optional(o, 'signal', 'opts', check.abortSignal), async () => {
    let all: Address[];
    try {
      all = await listAddresses(link === undefined ? { netns } : { netns, link });
    } catch (e) {
      // A link that does not exist yet is "not yet", as for waitForLink: its address, when it is
      // added, is an address event like any other.
      if (link !== undefined && e instanceof ErrnoError && e.code === 'ENODEV') return undefined;
      throw e;
    }
    // Without `link` the address may be on more than one link: a usable copy anywhere answers.
    // A failed DAD leaves an address tentative too, so failure is checked apart: it ends the wait
    // only when every copy failed.
    const copies = all.filter((x) => x.address === want && (cidr === undefined || x.prefixLength === cidr.prefixLength));
    if (copies.length === 0) return undefined;
    const usable = copies.find((x) => !x.flags.includes('dadfailed') && !x.flags.includes('tentative'));
    if (usable !== undefined) return usable;
    if (copies.every((x) => x.flags.includes('dadfailed'))) {
      throw new SystemError({ kind: 'system', errno: constants.errno.EADDRNOTAVAIL, operation: 'waitForAddress', object: `address ${want}`, detail: 'duplicate address detection failed' });
    }
    return undefined;
  });
}
