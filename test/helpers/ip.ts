// Read-only wrappers around `ip -j`, the independent witness the tests compare nlkit against.
// Only `show`/`list` subcommands are allowed here: tests never change state with `ip`.
import { execFileSync } from 'node:child_process';

export interface IpLinkInfo {
  info_kind?: string;
  info_data?: Record<string, unknown>;
  info_slave_kind?: string;
  info_slave_data?: Record<string, unknown>;
}

/** One entry of `ip -j -d link show`, as iproute2 prints it (fields present only when set). */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  txqlen?: number;
  address?: string;
  ifalias?: string;
  /** Name of the master (bridge). */
  master?: string;
  /** Name of IFLA_LINK when it is in this namespace (veth peer, macvlan parent). */
  link?: string | null;
  /** IFLA_LINK as a number, printed when the linked device is in another namespace (`@ifN`). */
  link_index?: number;
  link_netnsid?: number;
  link_type?: string;
  min_mtu?: number;
  max_mtu?: number;
  linkinfo?: IpLinkInfo;
}

export interface IpNetns {
  name: string;
  id?: number;
}

const READ_VERBS = new Set(['show', 'list']);

/**
 * Runs `ip -j [-d] [-n NS] OBJECT VERB ...` and returns the parsed JSON. `ns` is a name under
 * /run/netns (iproute2 resolves it there). Throws when ip fails.
 */
export function ipJson(object: 'link' | 'netns', verb: 'show' | 'list', rest: readonly string[] = [], ns?: string): unknown {
  if (!READ_VERBS.has(verb)) throw new Error(`ip helper is read-only, refusing verb ${verb}`);
  const args = ['-j', '-d'];
  if (ns !== undefined) args.push('-n', ns);
  args.push(object, verb, ...rest);
  const out = execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const text = out.trim();
  return text === '' ? [] : (JSON.parse(text) as unknown);
}

function stderrOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'stderr' in e) {
    const s = (e as { stderr: unknown }).stderr;
    return typeof s === 'string' ? s : Buffer.isBuffer(s) ? s.toString('utf8') : '';
  }
  return '';
}

/** All links of a namespace (`ip -j -d [-n ns] link show [filter...]`). */
export function ipLinks(ns?: string, filter: readonly string[] = []): IpLink[] {
  return ipJson('link', 'show', filter, ns) as IpLink[];
}

/** One link by name, or undefined when ip says it does not exist. */
export function ipLink(name: string, ns?: string): IpLink | undefined {
  try {
    const r = ipJson('link', 'show', ['dev', name], ns) as IpLink[];
    return r[0];
  } catch (e) {
    if (/does not exist/i.test(stderrOf(e))) return undefined;
    throw e;
  }
}

/** Like ipLink but fails the test when the link is missing. */
export function ipLinkOrThrow(name: string, ns?: string): IpLink {
  const l = ipLink(name, ns);
  if (l === undefined) throw new Error(`ip: no link ${name} in ${ns ?? 'the default namespace'}`);
  return l;
}

/** One link by ifindex, or undefined. */
export function ipLinkByIndex(index: number, ns?: string): IpLink | undefined {
  return ipLinks(ns).find((l) => l.ifindex === index);
}

/** `ip -j netns list`: the names (and ids, when assigned) under /run/netns. */
export function ipNetnsEntries(): IpNetns[] {
  return ipJson('netns', 'list') as IpNetns[];
}

export function ipNetnsList(): string[] {
  return ipNetnsEntries().map((e) => e.name);
}

/** info_data of a link, typed loosely (fields differ per kind). */
export function infoData(l: IpLink | undefined): Record<string, unknown> {
  return l?.linkinfo?.info_data ?? {};
}

export function slaveData(l: IpLink | undefined): Record<string, unknown> {
  return l?.linkinfo?.info_slave_data ?? {};
}

/** Upper-case operstate as ip prints it, lower-cased to compare with nlkit's OperState. */
export function ipOperState(l: IpLink): string {
  return l.operstate.toLowerCase();
}
