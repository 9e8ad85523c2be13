// Loads the addon (a prebuild from prebuilds/, or the local build/Release) and types its raw
// interface. Only lib/ talks to this; callers use the typed functions in the other files.

import * as path from 'node:path';
import nodeGypBuild = require('node-gyp-build');
import { makeAttachedEnds, makeLink, type AttachedEnds } from './link-object';
import type { Address, Link, NatInspection, Neighbor, Peer, PortMapping, Route } from './types';

/** Where a call acts, as the addon takes it: undefined (initial namespace), a handle id, a path. */
export type NativeNetns = number | string | undefined;

export interface NativeLinkRequest {
  netns?: NativeNetns;
  kind: string;
  name: string;
  mtu?: number;
  txQueueLen?: number;
  mac?: string;
  up?: boolean;
  alias?: string;
  master?: string | number;
  parent?: string | number;
  peer?: { name: string; netns?: NativeNetns; mac?: string; mtu?: number; txQueueLen?: number };
  vlanId?: number;
  vlanProtocol?: string;
  macvlanMode?: string;
  ipvlanMode?: string;
  ipvlanFlag?: string;
  vxlan?: {
    vni: number;
    local?: string;
    remote?: string;
    group?: string;
    port?: number;
    device?: string | number;
    ttl?: number;
    learning?: boolean;
  };
  bridge?: { stp?: boolean; vlanFiltering?: boolean; forwardDelay?: number; ageingTime?: number };
}

export interface NativeLinkChanges {
  up?: boolean;
  mtu?: number;
  mac?: string;
  name?: string;
  alias?: string;
  txQueueLen?: number;
  master?: string | number | null;
  moveTo?: NativeNetns;
  hairpin?: boolean;
  isolated?: boolean;
  learning?: boolean;
}

export interface NativeAddressRequest {
  netns?: NativeNetns;
  link: string | number;
  address: string;
  prefixLength: number;
  peer?: string;
  broadcast?: string;
  scope?: string;
  label?: string;
  validLifetime?: number;
  preferredLifetime?: number;
  noDad?: boolean;
}

export interface NativeRouteRequest {
  netns?: NativeNetns;
  family: 4 | 6;
  to?: string;
  toLength?: number;
  via?: string;
  dev?: string | number;
  src?: string;
  metric?: number;
  table?: number;
  scope?: string;
  onlink?: boolean;
  mtu?: number;
  type?: string;
  nexthops?: { via?: string; dev?: string | number; weight?: number; onlink?: boolean }[];
}

export interface NativeNeighborRequest {
  netns?: NativeNetns;
  family: '4' | '6' | 'bridge';
  dev: string | number;
  address?: string;
  mac?: string;
  dst?: string;
  vlan?: number;
  vni?: number;
  state?: string[];
  self?: boolean;
  master?: boolean;
  mode?: 'create' | 'replace' | 'append';
}

/**
 * containerAttach's arguments, in order. Positional because it runs on every container start and
 * reading named properties through Node-API costs more than reading arguments.
 */
export type NativeAttachArgs = [
  hostNetns: NativeNetns | undefined,
  container: NativeNetns,
  bridge: string | number,
  ifname: string,
  hostIfname: string | undefined,
  /** Flat, [address, prefixLength, noDad] per address. */
  addresses: (string | number | boolean)[],
  /** A default route via each, before `routes`: bare addresses, the common case read cheaply. */
  gateways: string[] | undefined,
  routes: NativeRouteRequest[] | undefined,
  mtu: number | undefined,
  mac: string | undefined,
  hairpin: boolean | undefined,
  isolated: boolean | undefined,
  owner: string | undefined,
];

/** Both veth ends as made (built by makeAttachedEnds in lib/link-object.ts). */
export type NativeAttachedEnds = AttachedEnds;

/** One decoded notification, or a marker, as the addon delivers it. */
export type NativeWatchEvent =
  | { type: 'link'; action: 'new' | 'del'; link: Link }
  | { type: 'address'; action: 'new' | 'del'; address: Address }
  | { type: 'route'; action: 'new' | 'del'; route: Route }
  | { type: 'neighbor'; action: 'new' | 'del'; neighbor: Neighbor }
  | { type: 'overrun'; unreadable?: string }
  | { type: 'error'; error: unknown };

export interface NativeMasqueradeRequest {
  netns?: NativeNetns;
  table: string;
  source: string;
  prefixLength: number;
  outInterface?: string;
  excludeInterface?: string;
  hairpin: boolean;
}

export interface NativePortMappingRequest {
  netns?: NativeNetns;
  table: string;
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  hostIp?: string;
  hostPort?: number;
  containerIp: string;
  containerPort: number;
  owner?: string;
}

export interface NativeJobTiming {
  entered: number;
  submitted: number;
  started: number;
  finished: number;
  syscalls: number;
  delivered: number;
  settled: number;
  /** Which of nlkit's worker threads ran it: 0-based, in the order they started (a replacement
   *  for a thread that could not get back to its own namespace takes the next number). */
  worker: number;
  /** The CPU each thread was on (sched_getcpu, -1 if unknown): the JS thread when it queued the
   *  call, the worker when it started and finished it, the JS thread when it took the result. */
  submittedCpu: number;
  startedCpu: number;
  finishedCpu: number;
  deliveredCpu: number;
}

export interface NativeBinding {
  threads: number;
  /** Tests only (netlink/fault_injection.h): the `after`-th netlink round trip from now fails with
   *  `errno` without reaching the kernel; after 0 disarms. Returns how many round trips were still
   *  to go before the previously armed one (0: none armed, or it fired), read before re-arming.
   *  `failReturnHome`: the next worker to leave a namespace it entered stays there, as if setns()
   *  back had failed; the thread ends and another takes its place. Any call without it disarms it.
   *  `failThreadStarts`: the next n worker threads the pool starts fail to start, as when the
   *  process is out of threads; any call without it disarms it. */
  injectFault(arm?: { after: number; errno: number; failReturnHome?: boolean; failThreadStarts?: number; interruptDumps?: number }): number;
  /** Tests only: how many interrupted dumps were restarted so far, process-wide. */
  dumpRestarts(): number;
  linkCreate(req: NativeLinkRequest): Promise<{ link: Link; peerMac?: string }>;
  linkGet(req: { netns?: NativeNetns; link: string | number }): Promise<Link>;
  linkList(req: { netns?: NativeNetns; kind?: string; master?: string | number }): Promise<Link[]>;
  linkDelete(req: { netns?: NativeNetns; link: string | number }): Promise<void>;
  linkSet(req: { netns?: NativeNetns; link: string | number; changes: NativeLinkChanges }): Promise<Link>;
  /** Test hook: the RTM_NEWLINK bytes for a create request (references as ifindexes). */
  linkEncodeCreate(req: NativeLinkRequest): Buffer;
  /** Test hook: decodes one RTM_NEWLINK message; throws on malformed input. */
  linkDecode(message: Buffer): Link;
  /** Test hook: one notification datagram decoded as a watch decodes it. */
  eventsDecode(datagram: Buffer): NativeWatchEvent[];
  addressAdd(req: NativeAddressRequest): Promise<Address>;
  addressDelete(req: NativeAddressRequest): Promise<void>;
  addressList(req: { netns?: NativeNetns; link?: string | number; family?: 4 | 6 }): Promise<Address[]>;
  routeAdd(req: NativeRouteRequest): Promise<void>;
  routeReplace(req: NativeRouteRequest): Promise<void>;
  routeDelete(req: NativeRouteRequest): Promise<void>;
  routeList(req: { netns?: NativeNetns; family?: 4 | 6; table?: number; dev?: string | number }): Promise<Route[]>;
  routeGet(req: { netns?: NativeNetns; to: string }): Promise<Route>;
  linkFindPeer(req: { netns?: NativeNetns; link: string | number; candidates: string[] }): Promise<Omit<Peer, 'netnsName'> & { netnsPath?: string }>;
  sysctlGet(req: { netns?: NativeNetns; segments: string[] }): Promise<string>;
  sysctlSet(req: { netns?: NativeNetns; segments: string[]; value: string }): Promise<void>;
  neighborAdd(req: NativeNeighborRequest): Promise<void>;
  neighborDelete(req: NativeNeighborRequest): Promise<void>;
  neighborList(req: { netns?: NativeNetns; dev?: string | number; family?: string }): Promise<Neighbor[]>;
  containerAttach(...args: NativeAttachArgs): Promise<NativeAttachedEnds>;
  containerDetach(req: { netns?: NativeNetns; ifname: string; argument?: 'hostIfname' | 'ifname' }): Promise<void>;
  socketOpen(req: { netns?: NativeNetns; type: 'tcp' | 'udp'; family: 4 | 6; address?: string; port?: number }): Promise<{ fd: number; port: number }>;
  natMasqueradeAdd(req: NativeMasqueradeRequest): Promise<{ added: boolean; handle: number; comment: string }>;
  natMasqueradeRemove(req: NativeMasqueradeRequest): Promise<{ removed: number }>;
  /** Adds the localnet guard unless present; resolves to whether it was added. */
  natGuardLocalnet(req: { netns?: NativeNetns; table: string }): Promise<boolean>;
  natIsolationAdd(req: { netns?: NativeNetns; table: string; bridge: string }): Promise<boolean>;
  natIsolationRemove(req: { netns?: NativeNetns; table: string; bridge: string }): Promise<boolean>;
  natPortMappingAdd(req: NativePortMappingRequest): Promise<PortMapping>;
  natPortMappingRemove(req: NativePortMappingRequest): Promise<{ removed: boolean }>;
  natPortMappingList(req: { netns?: NativeNetns; table: string }): Promise<PortMapping[]>;
  natInspect(req: { netns?: NativeNetns; table: string }): Promise<Pick<NatInspection, 'exists' | 'chains' | 'maps'>>;
  natList(req: { netns?: NativeNetns; table: string }): Promise<{ chain: string; handle: number; comment: string }[]>;
  natFlush(req: { netns?: NativeNetns; table: string }): Promise<void>;
  /** Test hook: the errno of each command of a batch the kernel refuses in its commit (EINVAL). */
  nftCommitRefusalProbe(req: { netns?: NativeNetns; table: string }): Promise<{ errno: number; step: string }[]>;
  nftPlantForeign(req: { netns?: NativeNetns; table: string; kind: 'map' | 'chain' | 'legacy-v6-output'; name: string }): Promise<void>;
  nftDeleteIfnameElement(req: { netns?: NativeNetns; table: string; set: string; name: string }): Promise<void>;
  watchPort(id: number): number;
  netlinkSendTo(req: { netns?: NativeNetns; port: number; bytes: Buffer }): Promise<void>;
  /** Test hook: deletes the rules of `table` whose comment is exactly `comment`; how many. */
  nftDeleteRulesByComment(req: { netns?: NativeNetns; table: string; comment: string }): Promise<number>;
  /**
   * Bench hook: when each stage of the call settled last happened, in microseconds of the clock
   * process.hrtime() reads, and its worker's time inside system calls (see bench/cases/profile.js).
   */
  lastJobTiming(): NativeJobTiming;
  /** Registers the function that makes Link objects (lib/link-object.ts); called once at load. */
  setFactories(factories: { link: typeof makeLink; attachedEnds: typeof makeAttachedEnds }): void;
  /** Test hook: one UDP exchange between a server in one namespace and a client in another. */
  udpProbe(req: {
    serverNetns?: NativeNetns;
    serverAddress: string;
    serverPort: number;
    clientNetns?: NativeNetns;
    target: string;
    targetPort: number;
    payload?: string;
    timeoutMs?: number;
    clientPort?: number;
  }): Promise<{ serverSawFrom: string; clientGot: string }>;
  /** Opens an event socket (in the namespace, on a worker); `onEvents` gets each batch read. */
  watchOpen(
    req: { netns?: NativeNetns; groups: number; receiveBuffer?: number },
    onEvents: (batch: NativeWatchEvent[]) => void,
  ): { id: number; opened: Promise<boolean> };
  watchClose(id: number): boolean;
  netnsCreate(req: { dir: string; name?: string }): Promise<number>;
  netnsOpen(req: { path: string; label?: string }): Promise<number>;
  netnsClose(id: number): boolean;
  /** A second handle id for the namespace behind `id`. */
  netnsDup(id: number): number;
  netnsDelete(req: { dir: string; name: string }): Promise<void>;
  netnsList(req: { dir: string }): Promise<string[]>;
}

function load(): NativeBinding {
  const root = path.join(__dirname, '..');
  try {
    return nodeGypBuild(root) as NativeBinding;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(
      `nlkit: no native addon could be loaded (${why}).\n` +
        'nlkit runs on Linux only. To build it from source: install python3, make and g++, ' +
        'then run `npm rebuild nlkit` (or `npm run build:native` in a checkout).',
    );
  }
}

export const native: NativeBinding = load();
native.setFactories({ link: makeLink, attachedEnds: makeAttachedEnds });
