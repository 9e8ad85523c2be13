// The calls a container runtime makes: the per-host bridge network (ensureBridge), and the
// per-container attach/detach that runs on every container start and stop.

import { randomBytes } from 'node:crypto';
import { addAddress, deleteAddress, listAddresses } from './addresses';
import { callNative, fromNative, NetlinkError, NlkitError, SystemError } from './errors';
import { createBridge, deleteLink, getLink, setLink } from './links';
import { addLocalnetGuard } from './nat';
import { waitForLink } from './wait';
import { native, type NativeAttachArgs, type NativeAttachedEnds, type NativeRouteRequest } from './native';
import { toNative, withNetnsHeld } from './netns';
import { getSysctl, setSysctl } from './sysctl';
import { removeMappingsOf } from './sweep';
import type { AttachResult, AttachSpec, DetachResult, DetachSpec, EnsureBridgeResult, EnsureBridgeSpec, Link, NetnsRef } from './types';
import * as check from './validate';

const ATTACH_KEYS = ['netns', 'bridge', 'ifname', 'hostIfname', 'addresses', 'gateway', 'gateways', 'routes', 'mtu', 'mac', 'hairpin', 'isolated', 'owner', 'hostNetns', 'dad', 'waitForCarrier'];
const ROUTE_KEYS = ['to', 'via', 'src', 'metric', 'mtu', 'table', 'onlink'];

type Cidr = ReturnType<typeof check.cidr>;

function arrayOf(v: unknown, argument: string): unknown[] {
  return v === undefined ? [] : check.array(v, argument);
}

function familyOf(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** A validated attach spec: the addon's arguments, and what the result echoes. */
export interface AttachRequest {
  args: NativeAttachArgs;
  /** Milliseconds to wait for carrier after the attach; undefined: do not wait. */
  carrierTimeoutMs: number | undefined;
  cidrs: Cidr[];
  gateways: string[];
  routes: NativeRouteRequest[];
}

/** The same address, however written: IPv6 has many spellings ('fd00::2', 'fd00:0::2'). */
function sameIp(fam: 4 | 6, a: string, b: string): boolean {
  return fam === 4 ? a === b : check.canonicalIp(a) === check.canonicalIp(b);
}

function sameAddress(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && sameIp(a.family, a.address, b.address);
}

/** Whether `ip` (of family `fam`) is one of the container's addresses. */
function isOwnAddress(cidrs: Cidr[], ip: string, fam: 4 | 6): boolean {
  for (let j = 0; j < cidrs.length; j++) if (cidrs[j]!.family === fam && sameIp(fam, cidrs[j]!.address, ip)) return true;
  return false;
}

/**
 * Validates an attach spec completely, before anything is sent. Exported for the bench's profile
 * case only (not from the package's index), which calls the binding with these arguments alone.
 */
export function attachRequest(spec: AttachSpec): AttachRequest {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ATTACH_KEYS, '');
  if (s.netns === undefined) check.reject('netns', "is required: the container's namespace");
  const ifname = s.ifname === undefined ? 'eth0' : check.ifname(s.ifname, 'ifname');
  const noDad = !(check.optional(s, 'dad', '', check.bool) ?? false);
  // Plain indexed loops on this path: attachContainer runs once per container start, mostly before
  // V8 optimizes it, and iterator destructuring and callbacks cost several times more interpreted.
  const given = arrayOf(s.addresses, 'addresses');
  const cidrs: Cidr[] = [];
  for (let i = 0; i < given.length; i++) {
    const c = check.cidr(given[i], `addresses[${i}]`);
    for (let j = 0; j < i; j++) if (sameAddress(cidrs[j]!, c)) check.reject(`addresses[${i}]`, `${c.address} is given twice`);
    // The kernel takes these, and the container is then unreachable or claims every address.
    if (c.prefixLength === 0) check.reject(`addresses[${i}]`, 'a /0 prefix would put every address on eth0\'s link');
    if (c.family === 4 && check.isNetworkOrBroadcast4(c.address, c.prefixLength)) {
      check.reject(`addresses[${i}]`, `${c.address} is the network or broadcast address of its /${c.prefixLength}`);
    }
    cidrs.push(c);
  }
  const mtu = check.optional(s, 'mtu', '', check.mtu);
  // IPv6 needs 1280 bytes: the kernel would refuse the address after the veth was made.
  if (mtu !== undefined && mtu < 1280 && cidrs.some((c) => c.family === 6)) check.reject('mtu', `${mtu} is below IPv6's minimum of 1280, and an IPv6 address is given`);

  const gateways: string[] = [];
  if (s.gateway !== undefined && s.gateways !== undefined) check.reject('gateways', 'give gateway or gateways, not both');
  const givenGateways = s.gateway !== undefined ? [s.gateway] : arrayOf(s.gateways, 'gateways');
  for (let i = 0; i < givenGateways.length; i++) {
    const argument = s.gateway !== undefined ? 'gateway' : `gateways[${i}]`;
    const gw = check.ipAddress(givenGateways[i], argument);
    const fam = familyOf(gw);
    for (let j = 0; j < i; j++) if (familyOf(gateways[j]!) === fam) check.reject(argument, `a second IPv${fam} gateway`);
    // A link-local IPv6 gateway (fe80::/10, what a router advertises) is on eth0's own link. Any
    // other must be inside one of the container's subnets, and not one of its own addresses: the
    // route would lead back into the container.
    let reachable = fam === 6 && check.isLinkLocal6(gw);
    for (let j = 0; j < cidrs.length && !reachable; j++) {
      const c = cidrs[j]!;
      if (c.family !== fam || !check.inSubnet(gw, c)) continue;
      reachable = true;
      if (fam === 4 && check.isNetworkOrBroadcast4(gw, c.prefixLength)) check.reject(argument, `${gw} is the network or broadcast address of ${c.address}/${c.prefixLength}`);
    }
    if (!reachable) check.reject(argument, `${gw} is outside every address's subnet; the kernel could not reach it`);
    if (isOwnAddress(cidrs, gw, fam)) check.reject(argument, `${gw} is the container's own address`);
    gateways.push(gw);
  }
  const routes: NativeRouteRequest[] = [];
  const givenRoutes = arrayOf(s.routes, 'routes');
  for (let i = 0; i < givenRoutes.length; i++) {
    const arg = `routes[${i}]`;
    const o = check.optionsObject(givenRoutes[i], arg);
    check.onlyKeys(o, ROUTE_KEYS, arg);
    const via = check.optional(o, 'via', arg, check.ipAddress);
    const src = check.optional(o, 'src', arg, check.ipAddress);
    let family: 4 | 6;
    const route: NativeRouteRequest = { family: 4 };
    if (o.to === 'default') {
      if (via === undefined && src === undefined) check.reject(`${arg}.to`, 'a default route needs via or src');
      family = familyOf((via ?? src)!);
    } else {
      const c = check.cidr(o.to, `${arg}.to`);
      // As addRoute: the kernel refuses host bits past the prefix for IPv4 (after the veth was
      // made) and silently drops them for IPv6, which would make the result's echo wrong.
      if (!check.isNetworkAddress(c)) check.reject(`${arg}.to`, `${check.show(o.to)} has host bits set past /${c.prefixLength}; give the network address`);
      family = c.family;
      route.to = c.address;
      route.toLength = c.prefixLength;
    }
    if (via !== undefined && familyOf(via) !== family) check.reject(`${arg}.via`, `must be IPv${family}`);
    if (src !== undefined && familyOf(src) !== family) check.reject(`${arg}.src`, `must be IPv${family}`);
    route.family = family;
    route.via = via;
    route.src = src;
    route.metric = check.optional(o, 'metric', arg, (v, a) => check.integer(v, a, 0, 0xffffffff));
    route.mtu = check.optional(o, 'mtu', arg, check.mtu);
    route.table = check.optional(o, 'table', arg, (v, a) => check.integer(v, a, 1, 0xffffffff));
    route.onlink = check.optional(o, 'onlink', arg, check.bool);
    // Without dad: false an IPv6 address is tentative when the route goes in (the same batch), and
    // the kernel refuses a tentative source: every such attach would fail and be rolled back.
    if (!noDad && src !== undefined && family === 6 && isOwnAddress(cidrs, src, 6)) {
      check.reject(`${arg}.src`, `${src} is still tentative (dad: true) when the route is added; the kernel refuses it as a source`);
    }
    routes.push(route);
  }
  const addresses: NativeAttachArgs[5] = [];
  for (let i = 0; i < cidrs.length; i++) {
    const c = cidrs[i]!;
    addresses.push(c.address, c.prefixLength, noDad && c.family === 6);
  }
  const args: NativeAttachArgs = [
    toNative(s.hostNetns as NetnsRef | undefined, 'hostNetns'),
    toNative(s.netns as NetnsRef, 'netns'),
    check.linkRef(s.bridge, 'bridge'),
    ifname,
    check.optional(s, 'hostIfname', '', check.ifname),
    addresses,
    gateways.length > 0 ? gateways : undefined,
    routes.length > 0 ? routes : undefined,
    mtu,
    check.optional(s, 'mac', '', check.mac),
    check.optional(s, 'hairpin', '', check.bool),
    check.optional(s, 'isolated', '', check.bool),
    check.optional(s, 'owner', '', check.owner),
  ];
  return { args, cidrs, gateways, routes, carrierTimeoutMs: carrierTimeout(s.waitForCarrier) };
}

function carrierTimeout(v: unknown): number | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return 5000;
  const o = check.optionsObject(v, 'waitForCarrier');
  check.onlyKeys(o, ['timeoutMs'], 'waitForCarrier');
  return check.integer(o.timeoutMs, 'waitForCarrier.timeoutMs', 0, 0x7fffffff);
}

/** What the result echoes of the request, in canonical text; `dev` is filled in once the kernel has named it. */
interface AttachEcho {
  addresses: string[];
  routes: AttachResult['routes'];
}

function attachEcho(req: AttachRequest): AttachEcho {
  const addresses: string[] = [];
  for (let i = 0; i < req.cidrs.length; i++) addresses.push(`${check.canonicalIp(req.cidrs[i]!.address)}/${req.cidrs[i]!.prefixLength}`);
  const routes: AttachResult['routes'] = [];
  for (let i = 0; i < req.gateways.length; i++) {
    const via = check.canonicalIp(req.gateways[i]!);
    routes.push({ family: familyOf(via), to: 'default', via, dev: 0 });
  }
  for (let i = 0; i < req.routes.length; i++) {
    const r = req.routes[i]!;
    const route: AttachResult['routes'][number] = { family: r.family, to: r.to === undefined ? 'default' : `${check.canonicalIp(r.to)}/${r.toLength}`, dev: 0 };
    if (r.via !== undefined) route.via = check.canonicalIp(r.via);
    // IPv6 stores metric 0 as its default, 1024 (IP6_RT_PRIO_USER); the echo says what it holds.
    if (r.metric !== undefined) route.metric = r.family === 6 && r.metric === 0 ? 1024 : r.metric;
    routes.push(route);
  }
  return { addresses, routes };
}

/** The result: both ends as the addon reports them, and the echo of the request. */
function attachResult(e: NativeAttachedEnds, echo: AttachEcho): AttachResult {
  for (let i = 0; i < echo.routes.length; i++) echo.routes[i]!.dev = e.container.index;
  return { host: e.host, container: e.container, addresses: echo.addresses, routes: echo.routes };
}

/** Removes what a successful containerAttach made (its veth, by the host end's name); best effort. */
async function undoAttach(req: AttachRequest, ends: NativeAttachedEnds): Promise<void> {
  try {
    // Inside try: a host namespace handle closed meanwhile makes the binding throw synchronously,
    // and the caller must still get the error that made it undo, not this one.
    await native.containerDetach({ netns: req.args[0], ifname: ends.host.name });
  } catch {
    // Best effort: the caller is already getting the error that made this undo necessary.
  }
}

/**
 * Connects a container to a bridge in one native operation: a veth whose peer is born inside the
 * container namespace as `ifname`, the host end enslaved and up; then in the container `lo` and
 * `ifname` up, the addresses and the routes. Two kernel round trips (three with a bridge named
 * rather than given by ifindex). On any failure everything it made is removed, and the error's
 * `operation` names the step ('attachContainer: add address 10.88.0.2/16').
 */
export async function attachContainer(spec: AttachSpec): Promise<AttachResult> {
  check.oneArgument(arguments);
  const req = attachRequest(spec);
  // callNative's work, inlined: one async layer less on the per-container path.
  let pending: Promise<NativeAttachedEnds>;
  try {
    pending = native.containerAttach(...req.args);
  } catch (e) {
    throw fromNative(e);
  }
  // Made while a worker and the kernel set the container up: it depends on the request only.
  let echo: AttachEcho;
  try {
    echo = attachEcho(req);
  } catch (e) {
    // Not reachable for a validated request; if it were, the attach under way must still be
    // awaited (no unhandled rejection) and undone (nothing half-made).
    const made = await pending.catch(() => undefined);
    if (made !== undefined) await undoAttach(req, made);
    throw e;
  }
  let ends: NativeAttachedEnds;
  try {
    ends = await pending;
  } catch (e) {
    throw fromNative(e);
  }
  if (req.carrierTimeoutMs !== undefined) {
    try {
      await waitForLink(ends.container.index, { netns: spec.netns, operState: 'up', timeoutMs: req.carrierTimeoutMs });
    } catch (e) {
      // Nothing half-made: without carrier the attach did not happen.
      await undoAttach(req, ends);
      throw e;
    }
  }
  return attachResult(ends, echo);
}

/**
 * Removes a container's veth, from the container side (`{ netns, ifname }`) or the host side
 * (`{ hostIfname }`). Succeeds when it, or the container's namespace, is already gone. With
 * `owner`, also the port mappings added with that owner, in `hostNetns`: the whole teardown of a
 * container in one call, which can be repeated until it succeeds.
 */
export async function detachContainer(spec: DetachSpec): Promise<DetachResult> {
  check.oneArgument(arguments);
  const s = check.optionsObject(spec, 'spec');
  const byHostEnd = 'hostIfname' in s && s.hostIfname !== undefined;
  check.onlyKeys(s, byHostEnd ? ['hostIfname', 'hostNetns', 'owner'] : ['netns', 'ifname', 'hostNetns', 'owner'], '');
  const owner = check.optional(s, 'owner', '', check.owner);
  const hostNetns = s.hostNetns as NetnsRef | undefined;
  const host = toNative(hostNetns, 'hostNetns');
  if (byHostEnd) {
    const ifname = check.ifname(s.hostIfname, 'hostIfname');
    await callNative(() => native.containerDetach({ netns: host, ifname, argument: 'hostIfname' }));
  } else {
    if (s.netns === undefined) check.reject('netns', 'give { netns, ifname } or { hostIfname }');
    const ifname = s.ifname === undefined ? 'eth0' : check.ifname(s.ifname, 'ifname');
    await callNative(() => native.containerDetach({ netns: toNative(s.netns as NetnsRef, 'netns'), ifname }));
  }
  if (owner === undefined) return { portMappings: [] };
  const { removed, failed } = await removeMappingsOf((o) => o === owner, hostNetns);
  // The rest were removed; the next call retries this one.
  if (failed.length > 0) throw failed[0]!.error;
  return { portMappings: removed };
}

/**
 * The per-host half of a bridge network ("docker0"), idempotent: creates the bridge if missing,
 * adds the gateway addresses that are missing, sets it up, and enables forwarding for the
 * families of the addresses. What it made is undone if a later step fails.
 */
export async function ensureBridge(spec: EnsureBridgeSpec): Promise<EnsureBridgeResult> {
  check.oneArgument(arguments);
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ['name', 'addresses', 'mtu', 'up', 'forwarding', 'routeLocalnet', 'netns'], '');
  const name = check.ifname(s.name, 'name');
  const cidrs = arrayOf(s.addresses, 'addresses').map((a, i) => check.cidr(a, `addresses[${i}]`));
  for (let i = 0; i < cidrs.length; i++) {
    for (let j = 0; j < i; j++) if (sameAddress(cidrs[j]!, cidrs[i]!)) check.reject(`addresses[${i}]`, `${cidrs[i]!.address} is given twice`);
  }
  const mtu = check.optional(s, 'mtu', '', check.mtu);
  const up = check.optional(s, 'up', '', check.bool) ?? true;
  const forwarding = check.optional(s, 'forwarding', '', check.bool) ?? true;
  const routeLocalnet = check.optional(s, 'routeLocalnet', '', check.bool) ?? false;
  return withNetnsHeld(s.netns as NetnsRef | undefined, 'netns', (netns) =>
    ensureBridgeIn({ name, cidrs, mtu, up, forwarding, routeLocalnet }, netns === undefined ? {} : { netns }));
}

/** A random unicast, locally administered MAC (the kernel's own eth_random_addr does the same). */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** ensureBridge's spec, validated. */
interface BridgeSettings {
  name: string;
  cidrs: ReturnType<typeof check.cidr>[];
  mtu: number | undefined;
  up: boolean;
  forwarding: boolean;
  routeLocalnet: boolean;
}

async function ensureBridgeIn(settings: BridgeSettings, where: { netns?: NetnsRef }): Promise<EnsureBridgeResult> {
  const { name, cidrs, mtu, up, forwarding, routeLocalnet } = settings;
  let link: Link | undefined;
  let created = false;
  const added: string[] = [];
  // What this call changed on things that were there before it, newest last, to restore if a
  // later step fails: the existing bridge's up and MTU, and each sysctl it turned on.
  const restore: (() => Promise<unknown>)[] = [];
  const turnOn = async (key: string[] | string): Promise<void> => {
    const was = await getSysctl(key, where);
    if (was === '1') return;
    await setSysctl(key, 1, where);
    restore.push(() => setSysctl(key, was, where));
  };
  try {
    link = await getLink(name, where).catch((e: unknown) => {
      if (e instanceof NetlinkError && e.code === 'ENODEV') return undefined;
      throw e;
    });
    if (link === undefined) {
      // A MAC of its own, set at creation: a bridge without one takes its ports' lowest, which
      // changes as containers come and go, and every container's ARP entry for the gateway then
      // points nowhere until it ages out (tens of seconds without a route off the host).
      link = await createBridge(name, { ...where, mac: randomMac(), ...(mtu !== undefined ? { mtu } : {}) }).catch(async (e: unknown) => {
        // Another ensureBridge made it meanwhile: go on with it as an existing bridge.
        if (e instanceof NetlinkError && e.code === 'EEXIST') return undefined;
        throw e;
      });
      created = link !== undefined;
    }
    if (link === undefined) {
      link = await getLink(name, where);
    } else if (created) {
      // The bridge is the network's router. With DAD, its IPv6 link-local address stays tentative
      // for a second or more after it comes up, and until then the kernel sends no neighbour
      // solicitation for packets it forwards into the network: IPv6 to containers (published
      // ports included) would be dead for that long. Set before the bridge is up, it never starts.
      await setSysctl(['net', 'ipv6', 'conf', name, 'accept_dad'], 0, where).catch((e: unknown) => {
        if (!(e instanceof SystemError && e.code === 'ENOENT')) throw e; // a kernel without IPv6
      });
    }
    if (link.kind !== 'bridge') {
      throw new NlkitError('ERR_NLKIT_NOT_A_BRIDGE', `ensureBridge: '${name}' exists and is ${link.kind ? `a ${link.kind}` : 'not a bridge'}`);
    }
    const bridgeIndex = link.index;
    const addressesNow = async (): Promise<Set<string>> =>
      new Set((await listAddresses({ ...where, link: bridgeIndex })).map((a) => `${a.address}/${a.prefixLength}`));
    const present = await addressesNow();
    for (const c of cidrs) {
      // Compared as the kernel writes it: 'FD00:0::1/64' is 'fd00::1/64'.
      const text = `${check.canonicalIp(c.address)}/${c.prefixLength}`;
      if (present.has(text)) continue;
      // With a broadcast address, as Docker's and CNI's bridges have (the kernel then routes the
      // subnet's broadcasts); IPv6 without DAD (see accept_dad above).
      const broadcast = c.family === 4 ? check.broadcast4(c.address, c.prefixLength) : undefined;
      const options = { ...where, ...(c.family === 6 ? { noDad: true } : {}), ...(broadcast !== undefined ? { broadcast } : {}) };
      const made = await addAddress(bridgeIndex, text, options).catch(async (e: unknown) => {
        // Added by another ensureBridge meanwhile: present, and not this call's to undo.
        if (e instanceof NetlinkError && e.code === 'EEXIST' && (await addressesNow()).has(text)) return undefined;
        throw e;
      });
      if (made !== undefined) added.push(text);
    }
    const before = link;
    // A bridge keeps an MTU only once it was set by a change (the kernel then stops lowering it
    // to its smallest port's); setting the MTU it already has is no change at all. So on an
    // existing bridge at the asked MTU, which may have had it from its creation or from its ports,
    // the MTU goes one up and back. (createBridge does the same for a new one.)
    const pinMtu = mtu !== undefined && !created && mtu === before.mtu;
    if (pinMtu) {
      await setLink(before.index, { mtu: mtu < 65535 ? mtu + 1 : mtu - 1 }, where);
      restore.push(() => setLink(before.index, { mtu: before.mtu }, where));
    }
    // An existing bridge's MAC is pinned where it is (a bridge made elsewhere may have none set,
    // see randomMac): setting the address it has marks it as chosen, so ports no longer move it.
    const pinMac = !created ? (before.mac !== undefined && before.mac !== '00:00:00:00:00:00' ? before.mac : randomMac()) : undefined;
    const changes = {
      ...(up && !before.up ? { up: true } : {}),
      ...(mtu !== undefined && (mtu !== before.mtu || pinMtu) ? { mtu } : {}),
      ...(pinMac !== undefined ? { mac: pinMac } : {}),
    };
    if (Object.keys(changes).length > 0) {
      link = await setLink(before.index, changes, where);
      if (!created) restore.push(() => setLink(before.index, { ...('up' in changes ? { up: before.up } : {}), ...('mtu' in changes ? { mtu: before.mtu } : {}) }, where));
    }
    if (forwarding) {
      if (cidrs.some((c) => c.family === 4)) await turnOn('net.ipv4.ip_forward');
      if (cidrs.some((c) => c.family === 6)) await turnOn('net.ipv6.conf.all.forwarding');
    }
    // Port mappings on 127.0.0.1: the host's connections to loopback may be routed into the
    // bridge (nlkit masquerades their source on the way). Off by default: it also makes the kernel
    // accept packets to 127.0.0.0/8 from the bridge's neighbours (the kube-proxy CVE-2020-8558
    // lesson), so the localnet guard that drops those goes in first. (The guard stays if a later
    // step fails: it is shared by every bridge, and only ever drops what nothing should send.)
    if (routeLocalnet) {
      await addLocalnetGuard(where);
      await turnOn(['net', 'ipv4', 'conf', name, 'route_localnet']);
    }
    return { link, created, addedAddresses: added };
  } catch (e) {
    // Undo what this call made or changed, newest first; never what was there before.
    for (const undo of restore.reverse()) await undo().catch(() => undefined);
    if (created && link !== undefined) {
      await deleteLink(link.index, where).catch(() => undefined);
    } else if (link !== undefined) {
      for (const a of added.reverse()) await deleteAddress(link.index, a, where).catch(() => undefined);
    }
    throw e;
  }
}
