// The errors nlkit throws. Every one has a string `code`: an errno name (`EEXIST`) for refusals
// by the kernel, or a stable `ERR_NLKIT_*` code for everything nlkit decides itself.

import { getSystemErrorMap } from 'node:util';

export class NlkitError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input rejected before anything reached the kernel. `argument` names the offending field. */
export class InvalidArgumentError extends NlkitError {
  declare readonly code: 'ERR_NLKIT_INVALID_ARGUMENT';
  readonly argument: string;
  constructor(argument: string, problem: string) {
    super('ERR_NLKIT_INVALID_ARGUMENT', `invalid ${argument}: ${problem}`);
    this.argument = argument;
  }
}

/** What the native layer rejects with: a plain object, turned into one of the classes here. */
export interface NativeErrorInfo {
  kind: 'netlink' | 'system' | 'protocol' | 'invalid';
  errno?: number;
  operation?: string;
  object?: string;
  extack?: string;
  extackOffset?: number;
  detail?: string;
}

const systemErrors = getSystemErrorMap();
// libuv names errno 95 ENOTSUP; Linux, the kernel sources and ip(8) call it EOPNOTSUPP.
const LINUX_NAMES: Record<string, string> = { ENOTSUP: 'EOPNOTSUPP' };

/** The errno's name and libuv's description of it. */
function errnoText(errno: number): { code: string; description?: string } {
  const known = systemErrors.get(-errno);
  if (!known) return { code: `E${errno}` };
  return { code: LINUX_NAMES[known[0]] ?? known[0], description: known[1] };
}

function describe(info: NativeErrorInfo, code: string, description: string | undefined): string {
  const what = [info.operation, info.object].filter(Boolean).join(' ');
  let text = `${what || 'nlkit'}: ${code}`;
  if (description) text += ` (${description})`;
  if (info.extack) text += `: ${info.extack}`;
  if (info.detail) text += `: ${info.detail}`;
  return text;
}

/** A refusal that carries an errno: `code` is its name, `errno` its number. */
export abstract class ErrnoError extends NlkitError {
  readonly errno: number;
  /** The step nlkit was taking: 'createLink', 'setLink', 'resolveLink', 'open netns'... */
  readonly operation: string;
  /** What it acted on: 'bridge br0', 'link veth1', 'link #12', '/run/netns/ctr1'. */
  readonly object: string;
  constructor(info: NativeErrorInfo) {
    const errno = info.errno ?? 0;
    const { code, description } = errnoText(errno);
    super(code, describe(info, code, description));
    this.errno = errno;
    this.operation = info.operation ?? '';
    this.object = info.object ?? '';
  }
}

/** The kernel refused a netlink request. */
export class NetlinkError extends ErrnoError {
  /** The kernel's extended-ack text, when it sent one ("Nexthop has invalid gateway"). */
  readonly extack?: string;
  /** Byte offset of the attribute the kernel objected to, in nlkit's request. */
  readonly extackOffset?: number;
  constructor(info: NativeErrorInfo) {
    super(info);
    if (info.extack !== undefined) this.extack = info.extack;
    if (info.extackOffset !== undefined) this.extackOffset = info.extackOffset;
  }
}

/** A system call other than a netlink request failed: opening a namespace, setns, mount... */
export class SystemError extends ErrnoError {}

/** The kernel's reply made no sense (truncated, malformed): a bug or a kernel nlkit does not know. */
export class ProtocolError extends NlkitError {
  declare readonly code: 'ERR_NLKIT_PROTOCOL';
  constructor(message: string) {
    super('ERR_NLKIT_PROTOCOL', message);
  }
}

function isNativeErrorInfo(e: unknown): e is NativeErrorInfo {
  return typeof e === 'object' && e !== null && !(e instanceof Error) && 'kind' in e;
}

/** Maps whatever the native layer rejected with to nlkit's error classes. */
export function fromNative(e: unknown): unknown {
  if (!isNativeErrorInfo(e)) return e;
  switch (e.kind) {
    case 'netlink':
      return new NetlinkError(e);
    case 'system':
      return new SystemError(e);
    case 'protocol':
      return new ProtocolError(`nlkit could not decode the kernel's reply: ${e.detail ?? 'malformed message'}`);
    default:
      return new InvalidArgumentError(e.object ?? 'request', e.detail ?? 'rejected by the native layer');
  }
}

/**
 * Runs one native call and maps its failure. The error is created here, after the await, so
 * its stack shows the caller's async frames.
 */
export async function callNative<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw fromNative(e);
  }
}
