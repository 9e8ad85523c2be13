// Public types of nlkit. Everything a caller passes in or gets back is described here, so that
// the functions in the other files stay short and the contract is readable in one place.

import type { NetnsHandle } from './netns';

/**
 * A network namespace, as callers name one:
 * - a handle from `createNetns()` / `openNetns()`;
 * - a name under the netns directory (`'ctr1'` means `/run/netns/ctr1` by default);
 * - an absolute path to a namespace file (`'/proc/1234/ns/net'`, `'/run/netns/ctr1'`);
 * - `{ pid }`, the namespace process `pid` is in; `{ path }` and `{ name }` spell the other two out.
 * Omitted, a call acts in the namespace the process started in.
 */
export type NetnsRef = NetnsHandle | string | { pid: number } | { path: string } | { name: string };

/** A link, named by its interface name (at most 15 bytes) or its ifindex. */
export type LinkRef = string | number;

/** Every call takes this: where it acts. */
export interface NetnsOption {
  netns?: NetnsRef;
}

export type OperState =
  | 'unknown'
  | 'notpresent'
  | 'down'
  | 'lowerlayerdown'
  | 'testing'
  | 'dormant'
  | 'up';

/** Bridge-port settings of a link enslaved to a bridge. */
export interface BridgePortInfo {
  hairpin: boolean;
  isolated: boolean;
  learning: boolean;
}

export interface VlanInfo {
  id: number;
  protocol: '802.1Q' | '802.1ad';
}

export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';
export type IpvlanMode = 'l2' | 'l3' | 'l3s';
export type IpvlanFlag = 'bridge' | 'private' | 'vepa';

export interface VxlanInfo {
  vni: number;
  local?: string;
  /** Unicast remote endpoint, or the multicast group when `group` is set. */
  remote?: string;
  group?: string;
  port?: number;
  /** ifindex of the underlying device. */
  device?: number;
  ttl?: number;
  learning?: boolean;
}

export interface BridgeInfo {
  stp: boolean;
  vlanFiltering: boolean;
  /** Forward delay in hundredths of a second, as the kernel keeps it. */
  forwardDelay?: number;
  /** MAC ageing time in hundredths of a second. */
  ageingTime?: number;
}

/** What the kernel reports about a link, read back with RTM_GETLINK. */
export interface Link {
  index: number;
  name: string;
  /** `IFLA_INFO_KIND`: 'veth', 'bridge', 'vxlan'...; undefined for devices without one (lo, NICs). */
  kind?: string;
  /** Lower-case colon-separated MAC; undefined for devices without one. */
  mac?: string;
  mtu: number;
  minMtu?: number;
  maxMtu?: number;
  txQueueLen?: number;
  alias?: string;
  /** Interface flags by name: 'UP', 'BROADCAST', 'LOOPBACK', 'MULTICAST', 'LOWER_UP'... */
  flags: string[];
  /** Administratively up (`IFF_UP`). */
  up: boolean;
  operState: OperState;
  /** ifindex of the master (the bridge this link is a port of). */
  master?: number;
  /**
   * `IFLA_LINK`: for a veth, the peer's ifindex (in the namespace `linkNetnsId` names, when set);
   * for vlan/macvlan/ipvlan, the parent's ifindex. Absent for kinds without a lower link (bridge,
   * vxlan, dummy, bond, physical devices...), for which the kernel sends the link's own ifindex
   * once it is in another namespace than its link namespace; a vxlan's device is `vxlan.device`.
   */
  link?: number;
  /** `IFLA_LINK_NETNSID`: the id, as this namespace numbers them, of the namespace `link` is in. */
  linkNetnsId?: number;
  /** For a veth: its peer, as `link`/`linkNetnsId` describe it. */
  peer?: { index: number; netnsId?: number };
  /** Set when this link is a bridge port. */
  bridgePort?: BridgePortInfo;
  bridge?: BridgeInfo;
  vlan?: VlanInfo;
  macvlan?: { mode: MacvlanMode };
  ipvlan?: { mode: IpvlanMode; flags: IpvlanFlag[] };
  vxlan?: VxlanInfo;
}

/** Settings shared by every link creation. */
export interface CommonLinkOptions extends NetnsOption {
  mtu?: number;
  /** MAC to give the link at creation (avoids a race with udev rewriting a random one). */
  mac?: string;
  /** Set the link up in the creating request. */
  up?: boolean;
  /** Enslave to this bridge (name or ifindex, in the same namespace) in the creating request. */
  master?: LinkRef;
  txQueueLen?: number;
  alias?: string;
}

export interface BridgeOptions extends CommonLinkOptions {
  stp?: boolean;
  vlanFiltering?: boolean;
  /** Hundredths of a second. */
  forwardDelay?: number;
  /** Hundredths of a second. */
  ageingTime?: number;
}

export interface VethPeerOptions {
  name: string;
  /** Create the peer directly inside this namespace (no later move between namespaces). */
  netns?: NetnsRef;
  mac?: string;
  mtu?: number;
  txQueueLen?: number;
}

export interface VethPairOptions extends CommonLinkOptions {
  name: string;
  peer: VethPeerOptions;
}

/** One end of a veth pair as `createVethPair` reports it. */
export interface VethEnd {
  index: number;
  name: string;
  mac: string;
  /** The namespace the end was created in, as the caller named it; undefined for the call's own. */
  netns?: NetnsRef;
  /** The peer namespace's id as the first end's namespace numbers it (`IFLA_LINK_NETNSID`). */
  netnsId?: number;
}

export interface VethPair {
  /** The end created in the call's namespace, read back from the kernel. */
  link: Link;
  peer: VethEnd;
}

export type CreateLinkSpec =
  | ({ kind: 'dummy'; name: string } & CommonLinkOptions)
  | ({ kind: 'bridge'; name: string } & BridgeOptions)
  | ({ kind: 'veth'; name: string; peer: VethPeerOptions } & CommonLinkOptions)
  | ({ kind: 'vlan'; name: string; parent: LinkRef; id: number; protocol?: '802.1Q' | '802.1ad' } & CommonLinkOptions)
  | ({ kind: 'macvlan'; name: string; parent: LinkRef; mode?: MacvlanMode } & CommonLinkOptions)
  | ({ kind: 'ipvlan'; name: string; parent: LinkRef; mode?: IpvlanMode; flag?: IpvlanFlag } & CommonLinkOptions)
  | ({
      kind: 'vxlan';
      name: string;
      vni: number;
      local?: string;
      remote?: string;
      group?: string;
      /** UDP destination port; the kernel's default is 8472, IANA's 4789. */
      port?: number;
      /** Underlying device (name or ifindex). */
      device?: LinkRef;
      ttl?: number;
      learning?: boolean;
    } & CommonLinkOptions);

export type LinkKind = CreateLinkSpec['kind'];

/**
 * The changes `setLink(link, changes, opts?)` makes, all in one RTM_NEWLINK request. The kernel
 * applies a namespace move first and the up/down flag last, so `{ name, up: true }` renames a
 * down link and then sets it up.
 */
export interface LinkChanges {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Rename (kernels before 6.2 refuse to rename a link that is up: EBUSY). */
  name?: string;
  alias?: string;
  txQueueLen?: number;
  /** Enslave to this bridge; `null` releases the link from its master. */
  master?: LinkRef | null;
  /** Move the link into this namespace. The returned description is read there. */
  netns?: NetnsRef;
  /** Bridge-port flags (the link must be a bridge port). */
  hairpin?: boolean;
  isolated?: boolean;
  learning?: boolean;
}

export interface ListLinksOptions extends NetnsOption {
  /** Only links of this kind ('veth', 'bridge'...), filtered by the kernel. */
  kind?: string;
  /** Only ports of this master, filtered by the kernel. */
  master?: LinkRef;
}

// --- addresses ----------------------------------------------------------------------------------

export type Scope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

/** An address as the kernel reports it. */
export interface Address {
  /** ifindex of the link it is on. */
  link: number;
  family: 4 | 6;
  address: string;
  prefixLength: number;
  /** `address/prefixLength`. */
  cidr: string;
  /** Point-to-point peer, when set. */
  peer?: string;
  broadcast?: string;
  scope: Scope | number;
  label?: string;
  /**
   * As ip(8) names them: 'permanent', 'tentative' (IPv6 DAD running), 'nodad', 'dadfailed',
   * 'deprecated', 'noprefixroute'; IPv4 'secondary'; IPv6 'temporary' (a privacy address: the same
   * bit as IPv4's secondary), 'optimistic', 'home', 'mngtmpaddr', 'autojoin', 'stable-privacy'.
   */
  flags: string[];
  /** Seconds; absent when forever. */
  validLifetime?: number;
  preferredLifetime?: number;
}

export interface AddAddressOptions extends NetnsOption {
  /** Point-to-point peer address. */
  peer?: string;
  /** IPv4 broadcast address. */
  broadcast?: string;
  scope?: Scope;
  /** IPv4 label (at most 15 bytes). */
  label?: string;
  /** Seconds; both default to forever. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** IPv6: skip duplicate address detection, so the address is usable at once. */
  noDad?: boolean;
}

export interface ListAddressesOptions extends NetnsOption {
  link?: LinkRef;
  family?: 4 | 6;
}

// --- routes -------------------------------------------------------------------------------------

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

export interface RouteSpec extends NetnsOption {
  /** Destination CIDR, or 'default'. */
  to: string;
  /** Gateway address. */
  via?: string;
  /** Output device. */
  dev?: LinkRef;
  /** Preferred source address. */
  src?: string;
  metric?: number;
  /** Routing table id; default 254 (main). */
  table?: number;
  scope?: Scope;
  /** Use the gateway even if it is not on a connected subnet. */
  onlink?: boolean;
  mtu?: number;
  type?: RouteType;
  /** Needed only for `to: 'default'` without `via` or `src` to tell the family. */
  family?: 4 | 6;
  /**
   * A multipath route: its paths, instead of `via` and `dev` (`ip route add ... nexthop via A
   * nexthop via B`). Each needs `via` or `dev`; IPv6 paths need `via` (the kernel's rule).
   */
  nexthops?: RouteNextHopSpec[];
}

/** One path of a multipath route to create. */
export interface RouteNextHopSpec {
  via?: string;
  dev?: LinkRef;
  /** Relative share of traffic, 1 to 256; default 1. */
  weight?: number;
  /** Use the gateway even if it is not on a connected subnet. */
  onlink?: boolean;
}

/** A route as the kernel reports it. */
export interface Route {
  family: 4 | 6;
  /** Destination CIDR or 'default'. */
  to: string;
  via?: string;
  /** ifindex of the output device. */
  dev?: number;
  src?: string;
  metric?: number;
  table: number;
  scope: Scope | number;
  type: RouteType | number;
  /** RTPROT_* number: 2 kernel, 3 boot (ip and nlkit), 4 static... */
  protocol: number;
  mtu?: number;
  onlink?: boolean;
  /** A multipath route's paths (`ip route add ... nexthop via A nexthop via B`, or
   * `RouteSpec.nexthops`); such a route has no top-level `via` or `dev`. */
  nexthops?: RouteNextHop[];
}

/** One path of a multipath route. */
export interface RouteNextHop {
  via?: string;
  /** ifindex of the path's output device. */
  dev?: number;
  /** Relative share of traffic, 1 to 256, as `ip route` shows it. */
  weight: number;
  onlink?: boolean;
}

export interface ListRoutesOptions extends NetnsOption {
  family?: 4 | 6;
  /** Table id; default 254 (main); 0 for all tables. */
  table?: number;
  dev?: LinkRef;
}

// --- neighbours ---------------------------------------------------------------------------------

export type NeighborState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'noarp' | 'permanent';

/**
 * An ARP/NDP entry (with `address`), or a bridge forwarding-database entry (`bridge: true`, or no
 * `address`): `mac` on `dev`, and for a VXLAN device the remote endpoint `dst`.
 */
export interface NeighborSpec extends NetnsOption {
  dev: LinkRef;
  address?: string;
  mac?: string;
  /** Default 'permanent'. */
  state?: NeighborState | NeighborState[];
  bridge?: boolean;
  dst?: string;
  vlan?: number;
  vni?: number;
  /** FDB: the entry is the device's own (`bridge fdb ... self`, the default) or its master's. */
  self?: boolean;
  master?: boolean;
  /** Replace an existing entry instead of failing with EEXIST. */
  replace?: boolean;
  /** FDB: add another entry for the same MAC (VXLAN default entries to several remotes). */
  append?: boolean;
}

export interface Neighbor {
  family: 4 | 6 | 'bridge';
  /** ifindex of the device. */
  dev: number;
  address?: string;
  mac?: string;
  dst?: string;
  state: NeighborState[];
  flags: string[];
  vlan?: number;
  vni?: number;
  master?: number;
}

export interface ListNeighborsOptions extends NetnsOption {
  dev?: LinkRef;
  family?: 4 | 6 | 'bridge';
}

// --- sysctls, peers ------------------------------------------------------------------------------

/**
 * A sysctl under net.: dotted ('net.ipv4.ip_forward') or, for names with dots in them such as
 * 'eth0.10', as segments (['net', 'ipv4', 'conf', 'eth0.10', 'forwarding']).
 */
export type SysctlKey = string | readonly string[];

/** The other end of a veth. */
export interface Peer {
  /**
   * The peer, read inside its own namespace when nlkit can name that namespace (the initial one,
   * or one under the netns directory). Otherwise it is read from the asking namespace, and its
   * `linkNetnsId`/`peer.netnsId` are left out (they would be numbered from the wrong side).
   */
  link: Link;
  /** The peer namespace's id as the asking namespace numbers it; absent when it is the same one. */
  netnsId?: number;
  sameNetns: boolean;
  /** The peer is in the namespace the process started in. */
  initialNetns: boolean;
  /**
   * The named namespace (under the netns directory) the peer is in, when it is one. Not given for
   * the initial namespace (`initialNetns`), which is recognised without opening the directory's
   * entries, even if one of them refers to it.
   */
  netnsName?: string;
}

// --- containers ---------------------------------------------------------------------------------

export interface ContainerRoute {
  /** CIDR or 'default'. */
  to: string;
  via?: string;
  src?: string;
  metric?: number;
  mtu?: number;
  table?: number;
  onlink?: boolean;
}

export interface AttachSpec {
  /** The container's namespace. */
  netns: NetnsRef;
  /** The bridge (name or ifindex) in the host namespace. An ifindex saves one round trip. */
  bridge: LinkRef;
  /** The container's interface name. Default 'eth0'. */
  ifname?: string;
  /** The host end's name; generated (veth + 7 hex digits) when absent. */
  hostIfname?: string;
  /** CIDRs for the container interface: ['10.88.0.2/16', 'fd00::2/64']. */
  addresses?: string[];
  /** The default gateway (its family's), which must lie in one of the addresses' subnets. */
  gateway?: string;
  /** Default gateways, one per family. */
  gateways?: string[];
  routes?: ContainerRoute[];
  mtu?: number;
  /** The container interface's MAC. */
  mac?: string;
  /** Hairpin mode on the host end's bridge port. */
  hairpin?: boolean;
  /**
   * Isolate the host end's bridge port (IFLA_BRPORT_ISOLATED): the bridge forwards nothing between
   * two isolated ports, so containers attached this way cannot reach each other on the bridge, while
   * the gateway (the bridge itself) and non-isolated ports still reach them. Default false.
   */
  isolated?: boolean;
  /**
   * The container's id (1-200 bytes). The host end carries it as its alias (`nlkit:<id>`), so
   * that `sweep({ keep })` can find what a launcher killed mid-start left behind. Costs one more
   * round trip on the host side when given: the kernel ignores a link's alias at creation.
   */
  owner?: string;
  /** Where the bridge is; default the namespace the process started in. */
  hostNetns?: NetnsRef;
  /** Run IPv6 duplicate address detection on the container's addresses. Default false: IPAM
   *  hands out unique addresses, and DAD would keep them unusable for a second or more. */
  dad?: boolean;
  /**
   * Resolve only once the container interface has carrier (operState 'up'), waiting on the
   * kernel's notification rather than polling (the reference CNI plugin sleeps and retries).
   * `true` waits up to 5 s; `{ timeoutMs }` sets the limit. If it does not come, the veth is
   * removed and the call rejects with a TimeoutError.
   */
  waitForCarrier?: boolean | { timeoutMs: number };
}

/** One end of a container's veth, as attachContainer made it. */
export interface AttachedEnd {
  index: number;
  name: string;
  mac: string;
  mtu: number;
}

/**
 * What attachContainer made, all of it known without a read-back (which would cost a few percent
 * of the call for a snapshot of state still settling): getLink gives the full Link when wanted.
 */
export interface AttachResult {
  /** The host end, on the bridge, in the host namespace. */
  host: AttachedEnd;
  /** The container end (`ifname`), in the container namespace; `index` is its ifindex there. */
  container: AttachedEnd;
  addresses: string[];
  routes: { family: 4 | 6; to: string; via?: string; dev: number; metric?: number }[];
}

export type DetachSpec =
  | { netns: NetnsRef; ifname?: string; owner?: string; hostNetns?: NetnsRef }
  | { hostIfname: string; hostNetns?: NetnsRef; owner?: string };

export interface DetachResult {
  /** With `owner`: the port mappings removed (those added with that owner). */
  portMappings: PortMapping[];
}

export interface EnsureBridgeSpec {
  name: string;
  /** Gateway addresses of the network: ['172.17.0.1/16', 'fd00::1/64']. */
  addresses?: string[];
  mtu?: number;
  /** Default true. */
  up?: boolean;
  /** Enable forwarding for the address families given. Default true. */
  forwarding?: boolean;
  /**
   * Set `route_localnet` on the bridge, so that port mappings answer the host's connections to
   * 127.0.0.1. Default false: it lets the bridge carry packets addressed to 127.0.0.0/8.
   */
  routeLocalnet?: boolean;
  netns?: NetnsRef;
}

export interface EnsureBridgeResult {
  link: Link;
  /** True when the bridge did not exist before. */
  created: boolean;
  /** The addresses this call added (those already present are not repeated). */
  addedAddresses: string[];
}

// --- NAT ----------------------------------------------------------------------------------------

export interface MasqueradeSpec extends NetnsOption {
  /** The subnet whose traffic is masqueraded: '172.17.0.0/16', 'fd00::/64'. */
  source: string;
  /** Only traffic leaving through this interface. */
  outInterface?: string;
  /** Not traffic leaving through this interface (the bridge itself, as Docker's `! -o docker0`). */
  excludeInterface?: string;
  /**
   * Also masquerade DNATed traffic from the subnet back into it (default true): a container
   * reaching a published port of its own host through the host's address gets its answer through
   * the host rather than straight from the other container, which it would drop. Not for a /0
   * source (default false there, and true is refused): its hairpin rule would masquerade every
   * published-port connection, hiding each client's address.
   */
  hairpin?: boolean;
}

/** A rule in nlkit's NAT table, as read back from the kernel. */
export type NatRule =
  | {
      kind: 'masquerade';
      chain: string;
      /** The kernel's rule handle. */
      handle: number;
      /** The rule comment (`nft list ruleset` shows it). */
      comment: string;
      source: string;
      outInterface?: string;
      excludeInterface?: string;
    }
  | { kind: 'hairpin'; chain: string; handle: number; comment: string; source: string }
  | { kind: 'other'; chain: string; handle: number; comment: string };

/**
 * A published port (`docker run -p`): `hostPort` on `hostIp` (every local address when absent,
 * '0.0.0.0' or '::') forwarded to `containerIp:containerPort`. Omit `hostPort` to have nlkit pick
 * a free one. '::1' is refused: IPv6 never routes loopback traffic off the host.
 */
export interface PortMappingSpec extends NetnsOption {
  protocol: 'tcp' | 'udp';
  hostIp?: string;
  hostPort?: number;
  containerIp: string;
  containerPort: number;
  /** The container's id (1-200 bytes): the mapping's element carries it, for sweep(). */
  owner?: string;
}

export interface PortMapping {
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  hostIp?: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  /** The container id it was added with, if any. */
  owner?: string;
}

export interface SweepSpec {
  /** The ids of the containers that still exist: what belongs to any other owner goes. */
  keep: string[];
  /** The host namespace to sweep; default the namespace the process started in. */
  netns?: NetnsRef;
}

export interface SweepResult {
  /** Host veth ends removed (their container ends went with them). */
  links: { name: string; owner: string }[];
  portMappings: PortMapping[];
  /** What could not be removed, and why; sweep goes on past each. Empty when all went. */
  failed: SweepFailure[];
}

/** One object sweep found to remove and could not. */
export interface SweepFailure {
  /** The host veth's name, when it was a link. */
  link?: string;
  /** The mapping, when it was a port mapping. */
  portMapping?: PortMapping;
  owner: string;
  error: Error;
}

/** Everything nlkit installed in its NAT table, read back from the kernel. */
export interface NatInspection {
  table: string;
  /** False until the first NAT call creates it (or after flushNat). */
  exists: boolean;
  chains: { name: string; type?: string; hook?: string; priority?: number; policy?: 'accept' | 'drop' }[];
  maps: { name: string; keyLength: number; dataLength: number }[];
  rules: NatRule[];
  portMappings: PortMapping[];
}
