// Sysctls in any namespace, read and written from an nlkit thread inside it. Keys are confined
// to net.*: a key can never name a file outside /proc/sys/net.

import { callNative } from './errors';
import { native } from './native';
import { toNative } from './netns';
import type { NetnsOption, SysctlKey } from './types';
import * as check from './validate';

/** The key's segments after 'net'. */
export function sysctlSegments(key: unknown, argument: string): string[] {
  let parts: unknown[];
  if (typeof key === 'string') {
    if (key.includes('/')) check.reject(argument, `'${key}' contains '/': give a dotted key, or segments for names with dots`);
    parts = key.split('.');
  } else if (Array.isArray(key)) {
    parts = key;
  } else {
    return check.reject(argument, 'must be a dotted string or an array of segments');
  }
  if (parts[0] !== 'net') check.reject(argument, `${typeof key === 'string' ? check.show(key) : `first segment ${check.show(parts[0])}`} is not under net.: nlkit only sets network sysctls`);
  const rest = parts.slice(1);
  if (rest.length === 0) check.reject(argument, 'names no sysctl under net.');
  for (const p of rest) {
    if (typeof p !== 'string' || p === '' || p === '.' || p === '..' || /[\/\0]/u.test(p) || Buffer.byteLength(p) > 255) {
      check.reject(argument, `segment ${check.show(p)} is not a plain name`);
    }
  }
  return rest as string[];
}

function sysctlValue(v: unknown): string {
  const s = typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return check.reject('value', 'must be a string, number or boolean');
  if (/[\n\0]/u.test(s) || s.length > 4096) check.reject('value', 'must be one line of at most 4096 characters');
  return s;
}

/** Reads a sysctl (`net.ipv4.ip_forward`) in a namespace; the value without its newline. */
export async function getSysctl(key: SysctlKey, opts?: NetnsOption): Promise<string> {
  const segments = sysctlSegments(key, 'key');
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  return callNative(() => native.sysctlGet({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), segments }));
}

/** Writes a sysctl in a namespace: `setSysctl('net.ipv4.ip_forward', 1, { netns })`. */
export async function setSysctl(key: SysctlKey, value: string | number | boolean, opts?: NetnsOption): Promise<void> {
  const segments = sysctlSegments(key, 'key');
  const v = sysctlValue(value);
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  await callNative(() => native.sysctlSet({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), segments, value: v }));
}
