// Input checks. Everything a caller passes is checked here, before any system call, and a bad
// value is an InvalidArgumentError naming the field. The rules mirror the kernel's own, so that
// what passes here is refused by the kernel only for reasons of state (exists, busy, missing).

import { isIP } from 'node:net';
import { InvalidArgumentError } from './errors';

const IFNAMSIZ = 16;

/**
 * Any value, shown briefly in an error message. Never throws: String() throws on an object without
 * a prototype or with a throwing toString, JSON.stringify on a BigInt (found by the property test).
 */
export function show(v: unknown): string {
  try {
    if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol' || typeof v === 'function') return `a ${typeof v}`;
    if (v === null || typeof v !== 'object') return String(v);
    return Array.isArray(v) ? 'an array' : 'an object';
  } catch {
    return typeof v;
  }
}

function fail(argument: string, problem: string): never {
  throw new InvalidArgumentError(argument, problem);
}

/** Rejects an argument for a reason the checks below cannot see alone (combinations). */
export function reject(argument: string, problem: string): never {
  return fail(argument, problem);
}

/** Rejects keys the call does not know, so a typo ('masterr') is an error, not a silent no-op. */
export function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], argument: string): void {
  // An indexed loop: this runs on every call, mostly before V8 optimizes it (see containers.ts).
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (o[key] !== undefined && !allowed.includes(key)) {
      fail(argument ? `${argument}.${key}` : key, 'is not an option of this call');
    }
  }
}

/**
 * Refuses an options object as the second argument of a call that takes one spec object.
 * JavaScript would ignore it, and `addRoute({ to, via }, { netns })` would then change the
 * process's own namespace instead of the container's: for these calls `netns` goes in the spec.
 * Anything else is let through as JavaScript would: `specs.map(addRoute)` passes an index and
 * the array.
 */
export function oneArgument(args: IArguments): void {
  const second: unknown = args[1];
  if (typeof second === 'object' && second !== null && !Array.isArray(second)) {
    fail('second argument', 'is not taken: this call takes one object, and netns (when needed) goes in it');
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function optionsObject(v: unknown, argument: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) fail(argument, 'must be an object');
  return v;
}

/**
 * An interface name as the kernel takes it: dev_valid_name() (1-15 bytes, not '.' or '..', no '/',
 * ':' or byte its isspace() counts as space: 0x09-0x0d, 0x20, and 0xa0, which its Latin-1 table
 * includes, so also the second byte of 'à' in UTF-8) and no '%', which the kernel reads as a
 * template ('veth%d' becomes 'veth0'), so the link would not have the name asked for. No NUL: the
 * kernel would read the name only up to it. The check is on the UTF-8 bytes, as the kernel's is.
 */
export function ifname(v: unknown, argument: string): string {
  if (typeof v !== 'string') fail(argument, `interface name must be a string, got ${typeof v}`);
  // A loop over char codes for the usual ASCII name: validation runs on every call, mostly cold
  // (see containers.ts), where Buffer work costs several times more. A name with any other
  // character is checked on its UTF-8 bytes.
  let ascii = true;
  for (let i = 0; i < v.length && ascii; i++) ascii = v.charCodeAt(i) <= 0x7f;
  if (!ascii) wellFormed(v, argument);
  const bytes = ascii ? null : Buffer.from(v, 'utf8');
  const length = bytes === null ? v.length : bytes.length;
  if (length === 0) fail(argument, 'interface name is empty');
  if (length >= IFNAMSIZ) fail(argument, `interface name '${v}' is ${length} bytes; the kernel allows at most ${IFNAMSIZ - 1}`);
  if (v === '.' || v === '..') fail(argument, `'${v}' is not a valid interface name`);
  for (let i = 0; i < length; i++) {
    const c = bytes === null ? v.charCodeAt(i) : bytes[i]!;
    if (c === 0x2f || c === 0x3a || c === 0x25 || c === 0x20 || c === 0 || (c >= 0x09 && c <= 0x0d) || c === 0xa0) {
      fail(argument, `interface name '${v}' contains '/', ':', '%', a space (to the kernel, also the byte 0xa0) or NUL`);
    }
  }
  return v;
}

export function ifindex(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0x7fffffff) {
    fail(argument, `ifindex must be a positive 32-bit integer, got ${show(v)}`);
  }
  return v;
}

/** A link named by name or ifindex. */
export function linkRef(v: unknown, argument: string): string | number {
  if (typeof v === 'number') return ifindex(v, argument);
  if (typeof v === 'string') return ifname(v, argument);
  return fail(argument, 'must be an interface name or an ifindex');
}

/** A unicast Ethernet address, aa:bb:cc:dd:ee:ff; normalized to lower case. */
export function mac(v: unknown, argument: string): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/iu.test(v)) {
    fail(argument, `MAC address must look like 02:42:ac:11:00:02, got ${show(v)}`);
  }
  const lower = v.toLowerCase();
  if (parseInt(lower.slice(0, 2), 16) & 1) fail(argument, `${lower} is a multicast address; a link needs a unicast one`);
  if (lower === '00:00:00:00:00:00') fail(argument, 'the all-zero MAC address is not valid for a link');
  return lower;
}

export function integer(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(argument, `must be an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return v;
}

/** MTU: 68 (the IPv4 minimum, ETH_MIN_MTU) to 65536 (loopback's). The kernel enforces each device's own maximum. */
export function mtu(v: unknown, argument: string): number {
  return integer(v, argument, 68, 65536);
}

export function bool(v: unknown, argument: string): boolean {
  if (typeof v !== 'boolean') fail(argument, `must be true or false, got ${show(v)}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, argument: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(argument, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`);
  }
  return v as T;
}

/**
 * A lone UTF-16 surrogate has no UTF-8 form: the addon's conversion writes U+FFFD instead, so the
 * kernel would hold another string than the caller's (an owner tag that no longer matches its id,
 * and sweep would take the container for a stranger's).
 */
function wellFormed(v: string, argument: string): void {
  if (/\p{Cs}/u.test(v)) fail(argument, `${show(v)} contains a lone UTF-16 surrogate, which has no UTF-8 form`);
}

/** A string of at most `maxBytes` UTF-8 bytes, without NUL. */
export function text(v: unknown, argument: string, maxBytes: number): string {
  if (typeof v !== 'string') fail(argument, 'must be a string');
  if (Buffer.byteLength(v) > maxBytes) fail(argument, `is longer than ${maxBytes} bytes`);
  if (v.includes('\0')) fail(argument, 'contains NUL');
  wellFormed(v, argument);
  return v;
}

/**
 * True for a dotted-quad IPv4 address exactly as node:net's isIPv4 accepts it (four decimal parts
 * of 0-255, no leading zeros), parsed by hand: the common case, on every call, without a regex.
 */
function isIPv4Text(v: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  let first = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? v.charCodeAt(i) : 0x2e; // a '.' past the end closes the last part
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || (digits > 1 && first === 0x30) || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) first = c;
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else {
      return false;
    }
  }
  return parts === 4;
}

/**
 * 4 or 6 for a textual IP address, 0 for anything else. isIP also takes an IPv6 zone ('fe80::1%eth0'),
 * which no address or gateway attribute can carry (a route names its device apart): refused here,
 * as the addon's inet_pton would.
 */
function ipFamily(v: string): 0 | 4 | 6 {
  if (isIPv4Text(v)) return 4;
  return v.includes(':') && !v.includes('%') && isIP(v) === 6 ? 6 : 0;
}

export function ipAddress(v: unknown, argument: string, family?: 4 | 6): string {
  const f = typeof v === 'string' ? ipFamily(v) : 0;
  if (f === 0) fail(argument, `must be an IPv4 or IPv6 address, got ${show(v)}`);
  if (family !== undefined && f !== family) fail(argument, `must be an IPv${family} address, got ${show(v)}`);
  return v as string;
}

/** The first 16 bits of an IPv6 address ipAddress has accepted ('::1' and the like: 0). */
function firstHextet(ip: string): number {
  return parseInt(ip.split(':', 1)[0]! || '0', 16);
}

/** 224.0.0.0/4 or ff00::/8, for an address ipAddress has accepted. */
export function isMulticast(ip: string): boolean {
  if (!ip.includes(':')) return (parseInt(ip, 10) & 0xf0) === 0xe0;
  return (firstHextet(ip) & 0xff00) === 0xff00;
}

/** fe80::/10, for an IPv6 address ipAddress has accepted. */
export function isLinkLocal6(ip: string): boolean {
  return (firstHextet(ip) & 0xffc0) === 0xfe80;
}

export function abortSignal(v: unknown, argument: string): AbortSignal {
  if (!(v instanceof AbortSignal)) fail(argument, `must be an AbortSignal, got ${show(v)}`);
  return v;
}

/** A caller's container id as nlkit tags things with it: 1-200 bytes, printable, no NUL. */
export function owner(v: unknown, argument: string): string {
  const s = text(v, argument, 200);
  if (s === '') fail(argument, 'must not be empty');
  if (/[\p{Cc}]/u.test(s)) fail(argument, 'must not contain control characters');
  return s;
}

/** An absolute path as open() takes it. No NUL: the kernel would read the path only up to it. */
export function absolutePath(v: unknown, argument: string): string {
  if (typeof v !== 'string' || !v.startsWith('/')) fail(argument, `must be an absolute path, got ${show(v)}`);
  if (v.includes('\0')) fail(argument, `path ${show(v)} contains NUL`);
  wellFormed(v, argument);
  return v;
}

/** A namespace name under the netns directory: one path component. */
export function netnsName(v: unknown, argument: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(argument, 'namespace name must be a non-empty string');
  if (v === '.' || v === '..' || /[\/\0]/u.test(v)) fail(argument, `'${v}' is not a valid namespace name`);
  if (Buffer.byteLength(v) > 255) fail(argument, 'namespace name is longer than 255 bytes');
  wellFormed(v, argument);
  return v;
}

export function array(v: unknown, argument: string): unknown[] {
  if (!Array.isArray(v)) return reject(argument, 'must be an array');
  return v;
}

/** Copies the defined keys of `from` that pass `check` into `to`. */
export function optional<T>(
  from: Record<string, unknown>,
  key: string,
  argumentPrefix: string,
  check: (v: unknown, argument: string) => T,
): T | undefined {
  const v = from[key];
  if (v === undefined) return undefined;
  return check(v, argumentPrefix ? `${argumentPrefix}.${key}` : key);
}

/** An address with an optional prefix length: '10.88.0.2/16', 'fd00::2/64', '10.0.0.1' (a host). */
export function cidr(v: unknown, argument: string): { address: string; prefixLength: number; family: 4 | 6 } {
  if (typeof v !== 'string') fail(argument, `must be a CIDR string like 10.88.0.2/16, got ${typeof v}`);
  const slash = v.indexOf('/');
  const address = slash < 0 ? v : v.slice(0, slash);
  const family = ipFamily(address);
  if (family === 0) fail(argument, `'${v}' is not an IPv4 or IPv6 CIDR`);
  const max = family === 4 ? 32 : 128;
  let prefixLength = max;
  if (slash >= 0) {
    // 1-3 decimal digits, no leading zero, at most `max`.
    const digits = v.length - slash - 1;
    let n = 0;
    for (let i = slash + 1; i < v.length; i++) {
      const c = v.charCodeAt(i);
      n = c >= 0x30 && c <= 0x39 ? n * 10 + (c - 0x30) : NaN;
    }
    if (digits < 1 || digits > 3 || !(n <= max) || (digits > 1 && v.charCodeAt(slash + 1) === 0x30)) {
      fail(argument, `'${v}' has a bad prefix length (0-${max})`);
    }
    prefixLength = n;
  }
  return { address, prefixLength, family };
}

export const SCOPES = ['global', 'site', 'link', 'host', 'nowhere'] as const;

export function family(v: unknown, argument: string): 4 | 6 {
  if (v !== 4 && v !== 6) fail(argument, `must be 4 or 6, got ${show(v)}`);
  return v;
}

/** The address's bytes (4 or 16), most significant first. The address must already be valid. */
function addressBytes(address: string, family: 4 | 6): number[] {
  if (family === 6) return expandIpv6(address);
  const bytes = [0, 0, 0, 0];
  let part = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) part++;
    else bytes[part] = bytes[part]! * 10 + (c - 0x30);
  }
  return bytes;
}

/** True when the address has no bits set past its prefix (a network address such as 10.0.0.0/8). */
export function isNetworkAddress(c: { address: string; prefixLength: number; family: 4 | 6 }): boolean {
  const bytes = addressBytes(c.address, c.family);
  for (let bit = c.prefixLength; bit < bytes.length * 8; bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/** A valid dotted-quad IPv4 address as a number (exact: below 2^53). */
function ipv4Number(address: string): number {
  let n = 0;
  let part = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      n = n * 256 + part;
      part = 0;
    } else {
      part = part * 10 + (c - 0x30);
    }
  }
  return n * 256 + part;
}

/**
 * For an IPv4 subnet with room for hosts (a prefix of /30 or shorter): whether `ip` in it is the
 * network address (host bits all 0) or the broadcast address (all 1), which no host can have.
 */
export function isNetworkOrBroadcast4(ip: string, prefixLength: number): boolean {
  if (prefixLength > 30) return false;
  const host = ipv4Number(ip) % 2 ** (32 - prefixLength);
  return host === 0 || host === 2 ** (32 - prefixLength) - 1;
}

/** The broadcast address of an IPv4 subnet with room for hosts (/30 or shorter), else undefined. */
export function broadcast4(address: string, prefixLength: number): string | undefined {
  if (prefixLength > 30) return undefined;
  const hostBits = 2 ** (32 - prefixLength);
  const n = Math.floor(ipv4Number(address) / hostBits) * hostBits + hostBits - 1;
  return `${Math.floor(n / 2 ** 24)}.${Math.floor(n / 2 ** 16) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/**
 * True when `ip` (valid, of c's family) lies in the subnet of `c`, host bits of `c` ignored.
 * Plain arithmetic, and for IPv4 without an allocation: node:net's BlockList costs some 35
 * microseconds per check on a cold path, a measurable share of a container attach.
 */
export function inSubnet(ip: string, c: { address: string; prefixLength: number; family: 4 | 6 }): boolean {
  if (c.family === 4) {
    const hostBits = 2 ** (32 - c.prefixLength);
    return Math.floor(ipv4Number(ip) / hostBits) === Math.floor(ipv4Number(c.address) / hostBits);
  }
  const a = addressBytes(ip, c.family);
  const b = addressBytes(c.address, c.family);
  const whole = c.prefixLength >> 3; // bytes entirely inside the prefix
  for (let k = 0; k < whole; k++) if (a[k] !== b[k]) return false;
  const bits = c.prefixLength & 7; // and the leading bits of the next one
  return bits === 0 || (((a[whole] ?? 0) ^ (b[whole] ?? 0)) & (0xff00 >> bits) & 0xff) === 0;
}

/**
 * A valid address as glibc's inet_ntop writes it, which is how the addon reports addresses read
 * from the kernel: lowercase, no leading zeros, the longest run of two or more zero groups (the
 * first of equals) as "::", and the IPv4 tail of ::a.b.c.d and ::ffff:a.b.c.d. IPv4 text that
 * passed ipFamily is already canonical.
 */
export function canonicalIp(address: string): string {
  if (!address.includes(':')) return address;
  const b = expandIpv6(address);
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (bestLength < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLength) {
      if (i === best) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
      return `${out}${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    }
    out += words[i]!.toString(16);
  }
  return best >= 0 && best + bestLength === 8 ? `${out}:` : out;
}

function expandIpv6(address: string): number[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/u.exec(text);
  if (v4?.[1]) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}
