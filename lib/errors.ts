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

/** A wait (waitForLink, waitForAddress, attachContainer's waitForCarrier) ran out of time. */
export class TimeoutError extends NlkitError {
  declare readonly code: 'ERR_NLKIT_TIMEOUT';
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('ERR_NLKIT_TIMEOUT', `${what}: not reached within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
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
// Linux errnos libuv's map leaves out (asm-generic/errno-base.h, errno.h), and the kernel-internal
// ones (linux/errno.h) that can still reach user space through netlink. nftables answers a batch
// whose generation is stale with ERESTART (85), for example.
const LINUX_ONLY: Record<number, string> = {
  8: 'ENOEXEC', 10: 'ECHILD', 15: 'ENOTBLK', 33: 'EDOM', 35: 'EDEADLK', 37: 'ENOLCK', 42: 'ENOMSG',
  43: 'EIDRM', 44: 'ECHRNG', 45: 'EL2NSYNC', 46: 'EL3HLT', 47: 'EL3RST', 48: 'ELNRNG',
  50: 'ENOCSI', 51: 'EL2HLT', 52: 'EBADE', 53: 'EBADR', 54: 'EXFULL', 55: 'ENOANO', 56: 'EBADRQC',
  57: 'EBADSLT', 59: 'EBFONT', 60: 'ENOSTR', 62: 'ETIME', 63: 'ENOSR', 65: 'ENOPKG', 66: 'EREMOTE',
  67: 'ENOLINK', 68: 'EADV', 69: 'ESRMNT', 70: 'ECOMM', 72: 'EMULTIHOP', 73: 'EDOTDOT',
  74: 'EBADMSG', 76: 'ENOTUNIQ', 77: 'EBADFD', 78: 'EREMCHG', 79: 'ELIBACC', 80: 'ELIBBAD',
  81: 'ELIBSCN', 82: 'ELIBMAX', 83: 'ELIBEXEC', 85: 'ERESTART', 86: 'ESTRPIPE', 87: 'EUSERS',
  96: 'EPFNOSUPPORT', 102: 'ENETRESET', 109: 'ETOOMANYREFS', 115: 'EINPROGRESS', 116: 'ESTALE',
  117: 'EUCLEAN', 118: 'ENOTNAM', 119: 'ENAVAIL', 120: 'EISNAM', 122: 'EDQUOT', 123: 'ENOMEDIUM',
  124: 'EMEDIUMTYPE', 126: 'ENOKEY', 127: 'EKEYEXPIRED', 128: 'EKEYREVOKED', 129: 'EKEYREJECTED',
  130: 'EOWNERDEAD', 131: 'ENOTRECOVERABLE', 132: 'ERFKILL', 133: 'EHWPOISON', 512: 'ERESTARTSYS',
  513: 'ERESTARTNOINTR', 514: 'ERESTARTNOHAND', 515: 'ENOIOCTLCMD', 516: 'ERESTART_RESTARTBLOCK',
  517: 'EPROBE_DEFER', 518: 'EOPENSTALE', 519: 'ENOPARAM', 521: 'EBADHANDLE', 522: 'ENOTSYNC',
  523: 'EBADCOOKIE', 524: 'ENOTSUPP', 525: 'ETOOSMALL', 526: 'ESERVERFAULT', 527: 'EBADTYPE',
  528: 'EJUKEBOX', 529: 'EIOCBQUEUED', 530: 'ERECALLCONFLICT',
};

/** The errno's name and libuv's description of it. */
function errnoText(errno: number): { code: string; description?: string } {
  const known = systemErrors.get(-errno);
  if (!known) return { code: LINUX_ONLY[errno] ?? `E${errno}` };
  return { code: LINUX_NAMES[known[0]] ?? known[0], description: known[1] };
}

/**
 * For a permission refusal, which privilege the operation needs, said plainly: a bare "EPERM
 * (operation not permitted)" leaves the reader guessing. Netlink changes and net sysctls need
 * CAP_NET_ADMIN over the network namespace (in the user namespace that owns it); creating,
 * entering and mounting namespaces needs CAP_SYS_ADMIN. Undefined for any other errno.
 */
export function permissionHint(info: NativeErrorInfo, code: string): string | undefined {
  if (code !== 'EPERM' && code !== 'EACCES') return undefined;
  // The kernel's netlink permission checks answer EPERM. A netlink EACCES is about the request
  // itself (a lookup that hits a prohibit route), not a missing capability.
  if (info.kind === 'netlink' && code === 'EACCES') return undefined;
  const op = info.operation ?? '';
  if (info.kind === 'netlink' || op.startsWith('setSysctl')) {
    return 'this needs CAP_NET_ADMIN in the user namespace that owns the network namespace: run as root, ' +
      'or in a user namespace of your own (unshare --user --map-root-user --net)';
  }
  // Only the namespace operations themselves: an EACCES from binding a low port (openSocket) or
  // from reading a file is not cured by CAP_SYS_ADMIN.
  if (/^(setns|unshare|mount|umount|createNetns|deleteNetns|new network namespace)/.test(op)) {
    return 'creating, entering or mounting a network namespace needs CAP_SYS_ADMIN over it: run as root, ' +
      'or in a user namespace of your own (unshare --user --map-root-user --mount --net)';
  }
  return undefined;
}

function describe(info: NativeErrorInfo, code: string, description: string | undefined): string {
  const what = [info.operation, info.object].filter(Boolean).join(' ');
  let text = `${what || 'nlkit'}: ${code}`;
  if (description) text += ` (${description})`;
  if (info.extack) text += `: ${info.extack}`;
  if (info.detail) text += `: ${info.detail}`;
  const hint = permissionHint(info, code);
  if (hint) text += `; ${hint}`;
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
    case 'protocol': {
      const what = [e.operation, e.object].filter(Boolean).join(' ');
      return new ProtocolError(`${what ? `${what}: ` : ''}nlkit could not decode the kernel's reply: ${e.detail ?? 'malformed message'}`);
    }
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
