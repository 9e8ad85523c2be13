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

// --- addresses and routes (`ip -j addr show`, `ip -j route show`, `ip -j route get`) --------------

/** One entry of `addr_info` in `ip -j addr show`, as iproute2 prints it (flags present only when set). */
export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  /** The peer, printed only when it differs from `local` (point-to-point). */
  address?: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  valid_life_time?: number;
  preferred_life_time?: number;
  /** Not permanent (has lifetimes). */
  dynamic?: boolean;
  secondary?: boolean;
  tentative?: boolean;
  nodad?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
}

/** One link of `ip -j addr show`. */
export interface IpAddrLink {
  ifindex: number;
  ifname: string;
  addr_info: IpAddrInfo[];
}

/** One entry of `ip -j -d route show` / `ip -j -d route get`. */
export interface IpRoute {
  /** With -d: 'unicast', 'local', 'blackhole'... */
  type?: string;
  /** 'default', a CIDR, or a bare address for a host route (/32, /128). */
  dst: string;
  gateway?: string;
  dev?: string;
  /** Printed (with -d) when the listing spans tables: 'main', 'local', '100'... */
  table?: string;
  /** 'kernel', 'boot', 'static'... */
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  metrics?: Record<string, number>[];
  /** A multipath route's paths. */
  nexthops?: { gateway?: string; dev?: string; weight?: number; flags: string[] }[];
}

// The only subcommands these helpers run: `get` for routes asks the kernel a question and changes nothing.
const READ_ONLY: Record<string, ReadonlySet<string>> = {
  addr: new Set(['show', 'list']),
  route: new Set(['show', 'list', 'get']),
};

/** Runs `ip -j -d [-4|-6] [-n NS] OBJECT VERB ...` for addresses and routes; throws (with ip's stderr) on failure. */
function ipRead(object: 'addr' | 'route', verb: string, rest: readonly string[], ns?: string, family?: 4 | 6): unknown {
  if (!READ_ONLY[object]?.has(verb)) throw new Error(`ip helper is read-only, refusing ${object} ${verb}`);
  const args = ['-j', '-d'];
  if (family !== undefined) args.push(family === 4 ? '-4' : '-6');
  if (ns !== undefined) args.push('-n', ns);
  args.push(object, verb, ...rest);
  try {
    const text = execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return text === '' ? [] : (JSON.parse(text) as unknown);
  } catch (e) {
    const err = stderrOf(e);
    if (err !== '') throw new Error(`ip ${args.join(' ')}: ${err.trim()}`);
    throw e;
  }
}

/** `ip -j -d [-n ns] addr show [dev DEV]`, both families unless `family` is given. */
export function ipAddrShow(ns?: string, dev?: string, family?: 4 | 6): IpAddrLink[] {
  return ipRead('addr', 'show', dev !== undefined ? ['dev', dev] : [], ns, family) as IpAddrLink[];
}

/** The addr_info of one link (fails when the link is missing). */
export function ipAddrsOf(dev: string, ns?: string, family?: 4 | 6): IpAddrInfo[] {
  const links = ipAddrShow(ns, dev, family);
  return links[0]?.addr_info ?? [];
}

/** One address of a link by its local address, or undefined. */
export function ipAddrOf(dev: string, local: string, ns?: string): IpAddrInfo | undefined {
  return ipAddrsOf(dev, ns).find((a) => a.local === local);
}

/**
 * `ip -j -d -4|-6 [-n ns] route show [selector...]` (e.g. ['table', 'all'], ['table', '100'],
 * ['dev', 'eth0']). ip shows one family per call for a table; this always names it.
 */
export function ipRoutes(ns: string | undefined, family: 4 | 6, selector: readonly string[] = []): IpRoute[] {
  return ipRead('route', 'show', selector, ns, family) as IpRoute[];
}

/** `ip -j -d [-n ns] route get ADDRESS`: the route the kernel would use. Throws with ip's message. */
export function ipRouteGet(destination: string, ns?: string): IpRoute {
  const r = ipRead('route', 'get', [destination], ns) as IpRoute[];
  if (r.length !== 1) throw new Error(`ip route get ${destination}: expected one answer, got ${r.length}`);
  return r[0]!;
}

/** The message `ip route get` fails with (e.g. 'No route to host'), or undefined when it succeeds. */
export function ipRouteGetError(destination: string, ns?: string): string | undefined {
  try {
    ipRouteGet(destination, ns);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** ip's `dst` as a CIDR: it prints host routes without the /32 or /128. */
export function ipRouteCidr(r: IpRoute): string {
  if (r.dst === 'default' || r.dst.includes('/')) return r.dst;
  return `${r.dst}/${r.dst.includes(':') ? 128 : 32}`;
}

/** ip's table name as a number ('main' 254, 'local' 255, 'default' 253); `whenAbsent` if not printed. */
export function ipRouteTable(r: IpRoute, whenAbsent: number): number {
  if (r.table === undefined) return whenAbsent;
  const named: Record<string, number> = { main: 254, local: 255, default: 253 };
  const n = named[r.table] ?? Number(r.table);
  if (!Number.isInteger(n)) throw new Error(`ip printed an unknown table ${r.table}`);
  return n;
}

/** The RTAX_MTU metric ip prints in `metrics`, if any. */
export function ipRouteMtu(r: IpRoute): number | undefined {
  for (const m of r.metrics ?? []) if (typeof m.mtu === 'number') return m.mtu;
  return undefined;
}

// --- neighbours, FDB, netconf (`ip -j neigh show`, `bridge -j fdb show`, `ip -j netconf show`) --

/** One entry of `ip -j neigh show nud all`, as iproute2 prints it. */
export interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  /** Upper-case NUD names: 'PERMANENT', 'NOARP', 'REACHABLE', 'STALE'... */
  state: string[];
  router?: null;
}

/** One entry of `bridge -j fdb show`; `ifname` is printed only without a `dev` selector. */
export interface BridgeFdbEntry {
  mac: string;
  ifname?: string;
  dst?: string;
  vlan?: number;
  vni?: number;
  port?: number;
  /** 'self', 'master', 'extern_learn'... */
  flags: string[];
  /** The master's name, for entries in a bridge's own table. */
  master?: string;
  /** 'permanent', 'static' (NOARP), '' (dynamic)... */
  state: string;
}

/** One entry of `ip -j netconf show`. */
export interface IpNetconf {
  family: 'inet' | 'inet6';
  interface: string;
  forwarding?: boolean;
  rp_filter?: string;
  mc_forwarding?: boolean;
  proxy_neigh?: boolean;
  ignore_routes_with_linkdown?: boolean;
}

function runJson(tool: 'ip' | 'bridge', args: readonly string[]): unknown {
  try {
    const text = execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return text === '' ? [] : (JSON.parse(text) as unknown);
  } catch (e) {
    const err = stderrOf(e);
    if (err !== '') throw new Error(`${tool} ${args.join(' ')}: ${err.trim()}`);
    throw e;
  }
}

/** `ip -j [-4|-6] [-n ns] neigh show nud all [dev DEV]`: every entry, NOARP ones included. */
export function ipNeighbors(ns: string | undefined, opts: { family?: 4 | 6; dev?: string } = {}): IpNeigh[] {
  const args = ['-j'];
  if (opts.family !== undefined) args.push(opts.family === 4 ? '-4' : '-6');
  if (ns !== undefined) args.push('-n', ns);
  args.push('neigh', 'show', 'nud', 'all');
  if (opts.dev !== undefined) args.push('dev', opts.dev);
  return runJson('ip', args) as IpNeigh[];
}

/** `bridge -j [-n ns] fdb show [dev DEV]` (read-only). */
export function bridgeFdb(ns: string | undefined, dev?: string): BridgeFdbEntry[] {
  const args = ['-j'];
  if (ns !== undefined) args.push('-n', ns);
  args.push('fdb', 'show');
  if (dev !== undefined) args.push('dev', dev);
  return runJson('bridge', args) as BridgeFdbEntry[];
}

/**
 * `ip -j [-n ns] netconf show [dev DEV]`: per-interface forwarding and rp_filter, filtered to one
 * family here (iproute2 6.1 prints plain text for `ip -j -6 netconf show dev DEV`).
 */
export function ipNetconf(ns: string | undefined, dev?: string, family?: 4 | 6): IpNetconf[] {
  const args = ['-j'];
  if (ns !== undefined) args.push('-n', ns);
  args.push('netconf', 'show');
  if (dev !== undefined) args.push('dev', dev);
  const all = runJson('ip', args) as IpNetconf[];
  return family === undefined ? all : all.filter((c) => c.family === (family === 4 ? 'inet' : 'inet6'));
}
