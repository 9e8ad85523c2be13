// Routes: add, replace, delete, list, and ask the kernel which route it would use.

import { callNative } from './errors';
import { native, type NativeRouteRequest } from './native';
import { toNative } from './netns';
import type { ListRoutesOptions, NetnsOption, Route, RouteSpec, RouteType } from './types';
import * as check from './validate';

const ROUTE_TYPES: readonly RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw'];
const SPEC_KEYS = ['netns', 'to', 'via', 'dev', 'src', 'metric', 'table', 'scope', 'onlink', 'mtu', 'type', 'family', 'nexthops'];
const NEXTHOP_KEYS = ['via', 'dev', 'weight', 'onlink'];

function routeRequest(spec: RouteSpec, forDelete = false): NativeRouteRequest {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, SPEC_KEYS, '');
  const via = check.optional(s, 'via', '', check.ipAddress);
  const src = check.optional(s, 'src', '', check.ipAddress);
  const given = check.optional(s, 'family', '', check.family);
  let family: 4 | 6 | undefined;
  const req: NativeRouteRequest = { netns: toNative(s.netns as NetnsOption['netns'], 'netns'), family: 4 };
  if (s.to === 'default') {
    family = given ?? (via !== undefined ? (via.includes(':') ? 6 : 4) : src !== undefined ? (src.includes(':') ? 6 : 4) : undefined);
    if (family === undefined) check.reject('family', "a default route without via or src needs family: 4 or 6");
  } else {
    const c = check.cidr(s.to, 'to');
    if (!check.isNetworkAddress(c)) check.reject('to', `${check.show(s.to)} has host bits set past /${c.prefixLength}; give the network address`);
    family = c.family;
    req.to = c.address;
    req.toLength = c.prefixLength;
  }
  if (given !== undefined && given !== family) check.reject('family', `does not match the destination's IPv${family}`);
  if (via !== undefined && (via.includes(':') ? 6 : 4) !== family) check.reject('via', `must be an IPv${family} address`);
  if (src !== undefined && (src.includes(':') ? 6 : 4) !== family) check.reject('src', `must be an IPv${family} address`);
  req.family = family;
  req.via = via;
  req.src = src;
  req.dev = check.optional(s, 'dev', '', check.linkRef);
  req.metric = check.optional(s, 'metric', '', (v, a) => check.integer(v, a, 0, 0xffffffff));
  req.table = check.optional(s, 'table', '', (v, a) => check.integer(v, a, 1, 0xffffffff));
  req.scope = check.optional(s, 'scope', '', (v, a) => check.oneOf(v, a, check.SCOPES));
  req.onlink = check.optional(s, 'onlink', '', check.bool);
  req.mtu = check.optional(s, 'mtu', '', (v, a) => check.integer(v, a, 68, 65536));
  req.type = check.optional(s, 'type', '', (v, a) => check.oneOf(v, a, ROUTE_TYPES));
  if (s.nexthops !== undefined) {
    if (req.via !== undefined || req.dev !== undefined || req.onlink !== undefined) {
      check.reject('nexthops', 'replaces via, dev and onlink: give those per path');
    }
    const hops = check.array(s.nexthops, 'nexthops');
    if (hops.length === 0) check.reject('nexthops', 'needs at least one path');
    req.nexthops = hops.map((h, i) => nextHop(h, `nexthops[${i}]`, family));
  }
  if (!forDelete && req.via === undefined && req.dev === undefined && req.nexthops === undefined && (req.type ?? 'unicast') === 'unicast') {
    check.reject('via', 'a unicast route needs a gateway (via) or a device (dev)');
  }
  return req;
}

function nextHop(v: unknown, argument: string, family: 4 | 6): NonNullable<NativeRouteRequest['nexthops']>[number] {
  if (!check.isObject(v)) return check.reject(argument, `must be an object, not ${check.show(v)}`);
  check.onlyKeys(v, NEXTHOP_KEYS, argument);
  const via = check.optional(v, 'via', argument, (x, a) => check.ipAddress(x, a, family));
  const dev = check.optional(v, 'dev', argument, check.linkRef);
  if (via === undefined && dev === undefined) check.reject(argument, 'needs a gateway (via) or a device (dev)');
  return {
    via,
    dev,
    weight: check.optional(v, 'weight', argument, (x, a) => check.integer(x, a, 1, 256)),
    onlink: check.optional(v, 'onlink', argument, check.bool),
  };
}

/** Adds a route (`ip route add`). An existing one rejects with EEXIST. */
export async function addRoute(spec: RouteSpec): Promise<void> {
  check.oneArgument(arguments);
  const req = routeRequest(spec);
  await callNative(() => native.routeAdd(req));
}

/** Adds or replaces a route (`ip route replace`). */
export async function replaceRoute(spec: RouteSpec): Promise<void> {
  check.oneArgument(arguments);
  const req = routeRequest(spec);
  await callNative(() => native.routeReplace(req));
}

/** Deletes a route, matched by what `spec` gives (`to` and `table` suffice). A missing one rejects with ESRCH. */
export async function deleteRoute(spec: RouteSpec): Promise<void> {
  check.oneArgument(arguments);
  const req = routeRequest(spec, true);
  await callNative(() => native.routeDelete(req));
}

/** Routes of the main table (or `table`, 0 for all), of one or both families, filtered by the kernel. */
export async function listRoutes(filter?: ListRoutesOptions): Promise<Route[]> {
  const o = check.optionsObject(filter, 'filter');
  check.onlyKeys(o, ['netns', 'family', 'table', 'dev'], 'filter');
  const fam = check.optional(o, 'family', 'filter', check.family);
  const dev = check.optional(o, 'dev', 'filter', check.linkRef);
  const table = check.optional(o, 'table', 'filter', (v, a) => check.integer(v, a, 0, 0xffffffff)) ?? 254;
  return callNative(() =>
    native.routeList({
      netns: toNative(o.netns as NetnsOption['netns'], 'filter.netns'),
      table,
      ...(fam !== undefined ? { family: fam } : {}),
      ...(dev !== undefined ? { dev } : {}),
    }),
  );
}

/** The route the kernel would use to reach `destination` (`ip route get`). */
export async function getRoute(destination: string, opts?: NetnsOption): Promise<Route> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  const to = check.ipAddress(destination, 'destination');
  return callNative(() => native.routeGet({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), to }));
}
