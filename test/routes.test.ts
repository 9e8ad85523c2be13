// Routes: added, replaced, deleted, listed and looked up by nlkit inside fresh namespaces, each
// read back both through nlkit and through `ip -j route show` / `ip -j route get` there.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addAddress,
  addRoute,
  deleteAddress,
  deleteRoute,
  getRoute,
  listRoutes,
  replaceRoute,
  type NetnsHandle,
  type Route,
  type RouteSpec,
} from '../lib/index';
import { eventually, expectInvalidArgument, expectNetlinkError } from './helpers/expect';
import {
  ipLinks,
  ipRouteCidr,
  ipRouteGet,
  ipRouteGetError,
  ipRouteMtu,
  ipRoutes,
  ipRouteTable,
  type IpRoute,
} from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources, type Lan } from './helpers/resources';

const names = namer('qro');
const res = new Resources(names);

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

type Ns = NetnsHandle & { name: string };

/** `res.lan()` with 10.70.0.1/24 and fd70::1/64 (no DAD) on `a`. */
async function lan(): Promise<Lan> {
  const l = await res.lan();
  await addAddress(l.a, '10.70.0.1/24', { netns: l.ns });
  await addAddress(l.a, 'fd70::1/64', { netns: l.ns, noDad: true });
  return l;
}

const PROTOCOLS: Record<string, number> = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4 };

function devName(ns: Ns, index: number): string {
  const l = ipLinks(ns.name).find((x) => x.ifindex === index);
  if (!l) throw new Error(`ip: no link #${index} in ${ns.name}`);
  return l.ifname;
}

/** Every field nlkit and ip (-d, listing all tables) both report for one route must agree. */
function expectSameRoute(ns: Ns, r: Route, ipr: IpRoute): void {
  expect(ipRouteCidr(ipr)).toBe(r.to);
  expect(ipr.gateway).toBe(r.via);
  expect(ipr.dev).toBe(r.dev === undefined ? undefined : devName(ns, r.dev));
  expect(ipr.prefsrc).toBe(r.src);
  expect(ipr.metric).toBe(r.metric);
  expect(ipRouteTable(ipr, -1)).toBe(r.table);
  expect(ipr.scope).toBe(String(r.scope));
  expect(ipr.type).toBe(String(r.type));
  expect(PROTOCOLS[ipr.protocol ?? 'unspec']).toBe(r.protocol);
  expect(ipRouteMtu(ipr)).toBe(r.mtu);
  expect(ipr.flags.includes('onlink')).toBe(r.onlink === true);
}

/** Routes to `to` in every table, as nlkit lists them. */
async function nlRoutesTo(ns: Ns, to: string, family: 4 | 6): Promise<Route[]> {
  return (await listRoutes({ netns: ns, table: 0, family })).filter((r) => r.to === to);
}

/** Routes to `to` in every table, as ip lists them. */
function ipRoutesTo(ns: Ns, to: string, family: 4 | 6): IpRoute[] {
  return ipRoutes(ns.name, family, ['table', 'all']).filter((r) => ipRouteCidr(r) === to);
}

/** The single route to `to` (any table) agrees between nlkit and ip; returns nlkit's. */
async function expectOneRoute(ns: Ns, to: string, family: 4 | 6): Promise<Route> {
  const mine = await nlRoutesTo(ns, to, family);
  const theirs = ipRoutesTo(ns, to, family);
  expect(mine).toHaveLength(1);
  expect(theirs).toHaveLength(1);
  expectSameRoute(ns, mine[0]!, theirs[0]!);
  return mine[0]!;
}

/**
 * nlkit's and ip's complete listings (all tables, both families) agree route by route. Retried
 * briefly: the kernel adds the local route of an IPv6 link-local address only when its DAD ends,
 * which may fall between the two reads.
 */
async function expectAllAgree(ns: Ns): Promise<void> {
  await eventually(() => allAgree(ns));
}

async function allAgree(ns: Ns): Promise<void> {
  for (const family of [4, 6] as const) {
    const mine = await listRoutes({ netns: ns, table: 0, family });
    const theirs = ipRoutes(ns.name, family, ['table', 'all']);
    const key = (to: string, table: number, dev: string | undefined, metric: number | undefined, type: string) =>
      `${to} t${table} ${dev ?? '-'} m${metric ?? '-'} ${type}`;
    const mineKeys = mine.map((r) => key(r.to, r.table, r.dev === undefined ? undefined : devName(ns, r.dev), r.metric, String(r.type)));
    const theirKeys = theirs.map((r) => key(ipRouteCidr(r), ipRouteTable(r, -1), r.dev, r.metric, r.type ?? '?'));
    expect(mineKeys.sort()).toEqual(theirKeys.sort());
    for (const r of mine) {
      const k = key(r.to, r.table, r.dev === undefined ? undefined : devName(ns, r.dev), r.metric, String(r.type));
      const t = theirs.find((x) => key(ipRouteCidr(x), ipRouteTable(x, -1), x.dev, x.metric, x.type ?? '?') === k)!;
      expectSameRoute(ns, r, t);
    }
  }
}

/**
 * A snapshot of every route ip sees but the kernel's own (which come and go with addresses and
 * DAD), to show that a refused call changed nothing.
 */
function ipSnapshot(ns: Ns): string {
  const mine = (r: IpRoute) => r.protocol !== 'kernel';
  return JSON.stringify([ipRoutes(ns.name, 4, ['table', 'all']).filter(mine), ipRoutes(ns.name, 6, ['table', 'all']).filter(mine)]);
}

/** getRoute and `ip route get` agree on gateway, device and source. */
async function expectLookup(ns: Ns, destination: string, want: Partial<Route>): Promise<Route> {
  const r = await getRoute(destination, { netns: ns });
  expect(r).toMatchObject(want);
  expect(r.to).toBe(`${destination}/${destination.includes(':') ? 128 : 32}`);
  const ipr = ipRouteGet(destination, ns.name);
  expect(ipr.dst).toBe(destination);
  expect(ipr.gateway).toBe(r.via);
  expect(ipr.dev).toBe(r.dev === undefined ? undefined : devName(ns, r.dev));
  expect(ipr.prefsrc).toBe(r.src);
  expect(ipRouteMtu(ipr)).toBe(r.mtu);
  return r;
}

describe('connected routes', () => {
  it('an address brings its kernel route (protocol 2, scope link, src the address); deleting it takes it away', async () => {
    const { ns, a, aIndex } = await lan();
    const main = await listRoutes({ netns: ns, family: 4 });
    const c = main.find((r) => r.to === '10.70.0.0/24');
    expect(c).toEqual({
      family: 4,
      to: '10.70.0.0/24',
      dev: aIndex,
      src: '10.70.0.1',
      table: 254,
      scope: 'link',
      type: 'unicast',
      protocol: 2,
    });
    await expectOneRoute(ns, '10.70.0.0/24', 4);
    // The local-table entry for the address itself: in table 255, not in main.
    expect(main.map((r) => r.to)).not.toContain('10.70.0.1/32');
    const local = await expectOneRoute(ns, '10.70.0.1/32', 4);
    expect(local).toMatchObject({ table: 255, type: 'local', scope: 'host', protocol: 2, src: '10.70.0.1' });

    const c6 = await expectOneRoute(ns, 'fd70::/64', 6);
    expect(c6).toMatchObject({ family: 6, dev: aIndex, protocol: 2, metric: 256, table: 254, type: 'unicast' });
    expect(c6.via).toBeUndefined();
    await expectAllAgree(ns);

    await deleteAddress(a, '10.70.0.1/24', { netns: ns });
    expect(await nlRoutesTo(ns, '10.70.0.0/24', 4)).toEqual([]);
    expect(ipRoutesTo(ns, '10.70.0.0/24', 4)).toEqual([]);
    expect(await nlRoutesTo(ns, '10.70.0.1/32', 4)).toEqual([]);
    expect(ipRoutesTo(ns, '10.70.0.1/32', 4)).toEqual([]);
  });
});

describe('unicast routes', () => {
  it('via a gateway on a connected subnet (IPv4): the kernel picks the device; getRoute uses it', async () => {
    const { ns, aIndex } = await lan();
    await addRoute({ netns: ns, to: '10.71.0.0/16', via: '10.70.0.254' });
    const r = await expectOneRoute(ns, '10.71.0.0/16', 4);
    expect(r).toEqual({
      family: 4,
      to: '10.71.0.0/16',
      via: '10.70.0.254',
      dev: aIndex,
      table: 254,
      scope: 'global',
      type: 'unicast',
      protocol: 3,
    });
    await expectLookup(ns, '10.71.3.4', { via: '10.70.0.254', dev: aIndex, src: '10.70.0.1', family: 4 });
  });

  it('via a gateway (IPv6), with a metric', async () => {
    const { ns, aIndex } = await lan();
    await addRoute({ netns: ns, to: 'fd71::/64', via: 'fd70::fe', metric: 10 });
    const r = await expectOneRoute(ns, 'fd71::/64', 6);
    expect(r).toMatchObject({ family: 6, via: 'fd70::fe', dev: aIndex, metric: 10, table: 254, type: 'unicast', protocol: 3 });
    await expectLookup(ns, 'fd71::5', { via: 'fd70::fe', dev: aIndex, src: 'fd70::1', metric: 10 });
  });

  it('device-only routes are scope link and have no gateway', async () => {
    const { ns, b, bIndex } = await lan();
    await addRoute({ netns: ns, to: '10.72.0.0/16', dev: b });
    const r = await expectOneRoute(ns, '10.72.0.0/16', 4);
    expect(r).toMatchObject({ dev: bIndex, scope: 'link', type: 'unicast', protocol: 3 });
    expect(r.via).toBeUndefined();
    await expectLookup(ns, '10.72.1.1', { dev: bIndex });
    expect((await getRoute('10.72.1.1', { netns: ns })).via).toBeUndefined();

    await addRoute({ netns: ns, to: 'fd72::/64', dev: bIndex });
    const r6 = await expectOneRoute(ns, 'fd72::/64', 6);
    expect(r6).toMatchObject({ dev: bIndex, type: 'unicast' });
    expect(r6.via).toBeUndefined();
    await expectLookup(ns, 'fd72::9', { dev: bIndex });
  });

  it('default routes, IPv4 and IPv6; a device-only IPv6 default names its family', async () => {
    const { ns, a, aIndex, bIndex } = await lan();
    await addRoute({ netns: ns, to: 'default', via: '10.70.0.254' });
    await addRoute({ netns: ns, to: 'default', via: 'fd70::fe' });
    await addRoute({ netns: ns, to: 'default', dev: bIndex, family: 6, metric: 2048 });
    // The family of a default route follows src as well as via.
    await addRoute({ netns: ns, to: 'default', dev: a, src: '10.70.0.1', metric: 300 });

    const v4 = (await listRoutes({ netns: ns, family: 4 })).filter((r) => r.to === 'default');
    expect(v4).toHaveLength(2);
    expect(v4.find((r) => r.metric === undefined)).toMatchObject({ via: '10.70.0.254', dev: aIndex, scope: 'global' });
    expect(v4.find((r) => r.metric === 300)).toMatchObject({ dev: aIndex, src: '10.70.0.1', scope: 'link' });
    const v6 = (await listRoutes({ netns: ns, family: 6 })).filter((r) => r.to === 'default');
    expect(v6).toHaveLength(2);
    expect(v6.find((r) => r.via !== undefined)).toMatchObject({ via: 'fd70::fe', dev: aIndex, metric: 1024 });
    expect(v6.find((r) => r.via === undefined)).toMatchObject({ dev: bIndex, metric: 2048 });
    expect(ipRoutesTo(ns, 'default', 4)).toHaveLength(2);
    expect(ipRoutesTo(ns, 'default', 6)).toHaveLength(2);
    await expectAllAgree(ns);

    await expectLookup(ns, '192.0.2.1', { via: '10.70.0.254', dev: aIndex, src: '10.70.0.1' });
    await expectLookup(ns, '2001:db8::1', { via: 'fd70::fe', dev: aIndex, metric: 1024 });
  });

  it('metric: the lower one wins; deleteRoute with a metric removes only that route', async () => {
    const { ns, b, aIndex, bIndex } = await lan();
    await addRoute({ netns: ns, to: '10.73.0.0/16', via: '10.70.0.254', metric: 100 });
    await addRoute({ netns: ns, to: '10.73.0.0/16', dev: b, metric: 50 });
    const both = await nlRoutesTo(ns, '10.73.0.0/16', 4);
    expect(both.map((r) => r.metric).sort()).toEqual([100, 50].sort());
    expect(ipRoutesTo(ns, '10.73.0.0/16', 4).map((r) => r.metric).sort()).toEqual([100, 50].sort());
    await expectAllAgree(ns);
    await expectLookup(ns, '10.73.0.1', { dev: bIndex });

    await deleteRoute({ netns: ns, to: '10.73.0.0/16', dev: b, metric: 50 });
    const left = await expectOneRoute(ns, '10.73.0.0/16', 4);
    expect(left).toMatchObject({ metric: 100, via: '10.70.0.254' });
    await expectLookup(ns, '10.73.0.1', { via: '10.70.0.254', dev: aIndex });
  });

  it('tables: 100 and 1000 (above 255, RTA_TABLE only) are apart from main', async () => {
    const { ns, b, aIndex, bIndex } = await lan();
    await addRoute({ netns: ns, to: '10.74.0.0/16', via: '10.70.0.254', table: 100 });
    await addRoute({ netns: ns, to: '10.74.0.0/16', dev: b, table: 1000 });

    expect((await listRoutes({ netns: ns })).map((r) => r.to)).not.toContain('10.74.0.0/16');
    expect(ipRoutes(ns.name, 4).map(ipRouteCidr)).not.toContain('10.74.0.0/16');

    const t100 = await listRoutes({ netns: ns, table: 100 });
    expect(t100).toEqual([
      { family: 4, to: '10.74.0.0/16', via: '10.70.0.254', dev: aIndex, table: 100, scope: 'global', type: 'unicast', protocol: 3 },
    ]);
    expect(ipRoutes(ns.name, 4, ['table', '100']).map(ipRouteCidr)).toEqual(['10.74.0.0/16']);
    const t1000 = await listRoutes({ netns: ns, table: 1000 });
    expect(t1000).toHaveLength(1);
    expect(t1000[0]).toMatchObject({ to: '10.74.0.0/16', dev: bIndex, table: 1000, scope: 'link' });
    expect(ipRoutes(ns.name, 4, ['table', '1000']).map(ipRouteCidr)).toEqual(['10.74.0.0/16']);

    const all = await nlRoutesTo(ns, '10.74.0.0/16', 4);
    expect(all.map((r) => r.table).sort()).toEqual([100, 1000]);
    expect(ipRoutesTo(ns, '10.74.0.0/16', 4).map((r) => ipRouteTable(r, -1)).sort()).toEqual([100, 1000]);
    await expectAllAgree(ns);

    // No rule sends lookups there: the main table has no route to it.
    await expectNetlinkError(() => getRoute('10.74.0.1', { netns: ns }), 'ENETUNREACH');
    expect(ipRouteGetError('10.74.0.1', ns.name)).toMatch(/unreachable/i);

    // Deleting needs the table: from main it is missing.
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: '10.74.0.0/16', via: '10.70.0.254' }), 'ESRCH');
    await deleteRoute({ netns: ns, to: '10.74.0.0/16', via: '10.70.0.254', table: 100 });
    await deleteRoute({ netns: ns, to: '10.74.0.0/16', dev: b, table: 1000 });
    expect(await nlRoutesTo(ns, '10.74.0.0/16', 4)).toEqual([]);
    expect(ipRoutesTo(ns, '10.74.0.0/16', 4)).toEqual([]);
  });

  it('src: the preferred source reaches the kernel and getRoute; a non-local src is EINVAL', async () => {
    const { ns, a, aIndex } = await lan();
    await addAddress(a, '10.70.0.2/24', { netns: ns });
    await addRoute({ netns: ns, to: '10.75.0.0/16', via: '10.70.0.254', src: '10.70.0.2' });
    await addRoute({ netns: ns, to: '10.76.0.0/16', via: '10.70.0.254' });
    const r = await expectOneRoute(ns, '10.75.0.0/16', 4);
    expect(r.src).toBe('10.70.0.2');
    expect((await expectOneRoute(ns, '10.76.0.0/16', 4)).src).toBeUndefined();
    await expectLookup(ns, '10.75.0.1', { via: '10.70.0.254', dev: aIndex, src: '10.70.0.2' });
    await expectLookup(ns, '10.76.0.1', { via: '10.70.0.254', dev: aIndex, src: '10.70.0.1' });

    await addRoute({ netns: ns, to: 'fd75::/64', via: 'fd70::fe', src: 'fd70::1' });
    expect((await expectOneRoute(ns, 'fd75::/64', 6)).src).toBe('fd70::1');

    const before = ipSnapshot(ns);
    const err = await expectNetlinkError(() => addRoute({ netns: ns, to: '10.77.0.0/16', dev: a, src: '10.99.0.1' }), 'EINVAL');
    expect(err.extack).toMatch(/prefsrc/i);
    expect(ipSnapshot(ns)).toBe(before);
  });

  it('mtu is a route metric (RTAX_MTU), IPv4 and IPv6, and getRoute reports it', async () => {
    const { ns } = await lan();
    await addRoute({ netns: ns, to: '10.76.0.0/16', via: '10.70.0.254', mtu: 1400 });
    await addRoute({ netns: ns, to: 'fd76::/64', via: 'fd70::fe', mtu: 1300 });
    const r4 = await expectOneRoute(ns, '10.76.0.0/16', 4);
    expect(r4.mtu).toBe(1400);
    expect(ipRouteMtu(ipRoutesTo(ns, '10.76.0.0/16', 4)[0]!)).toBe(1400);
    const r6 = await expectOneRoute(ns, 'fd76::/64', 6);
    expect(r6.mtu).toBe(1300);
    expect(ipRouteMtu(ipRoutesTo(ns, 'fd76::/64', 6)[0]!)).toBe(1300);
    await expectLookup(ns, '10.76.0.1', { mtu: 1400 });
    await expectLookup(ns, 'fd76::1', { mtu: 1300 });
    // A route without one has none.
    await addRoute({ netns: ns, to: '10.78.0.0/16', via: '10.70.0.254' });
    expect((await expectOneRoute(ns, '10.78.0.0/16', 4)).mtu).toBeUndefined();
  });

  it('onlink: a gateway outside every subnet is taken on trust; without onlink it is ENETUNREACH', async () => {
    const { ns, a, aIndex } = await lan();
    const before = ipSnapshot(ns);
    const err = await expectNetlinkError(
      () => addRoute({ netns: ns, to: '10.77.0.0/16', via: '192.168.77.1', dev: a }),
      'ENETUNREACH',
    );
    expect(err.extack).toMatch(/Nexthop has invalid gateway/);
    expect(ipSnapshot(ns)).toBe(before);

    await addRoute({ netns: ns, to: '10.77.0.0/16', via: '192.168.77.1', dev: a, onlink: true });
    const r = await expectOneRoute(ns, '10.77.0.0/16', 4);
    expect(r).toMatchObject({ via: '192.168.77.1', dev: aIndex, onlink: true });
    expect(ipRoutesTo(ns, '10.77.0.0/16', 4)[0]!.flags).toContain('onlink');
    await expectLookup(ns, '10.77.5.5', { via: '192.168.77.1', dev: aIndex });

    await addRoute({ netns: ns, to: 'fd77::/64', via: 'fd99::1', dev: a, onlink: true });
    const r6 = await expectOneRoute(ns, 'fd77::/64', 6);
    expect(r6).toMatchObject({ via: 'fd99::1', dev: aIndex, onlink: true });

    // A gatewayed route without onlink reports none.
    await addRoute({ netns: ns, to: '10.79.0.0/16', via: '10.70.0.254' });
    expect((await expectOneRoute(ns, '10.79.0.0/16', 4)).onlink).toBeUndefined();
  });
});

describe('route types', () => {
  const cases = [
    { type: 'blackhole', v4: '10.80.0.0/16', v6: 'fd80::/64', errno: 'EINVAL', ipSays: /Invalid argument/ },
    { type: 'unreachable', v4: '10.81.0.0/16', v6: 'fd81::/64', errno: 'EHOSTUNREACH', ipSays: /No route to host/ },
    { type: 'prohibit', v4: '10.82.0.0/16', v6: 'fd82::/64', errno: 'EACCES', ipSays: /Permission denied/ },
  ] as const;

  it.each(cases)('$type: listed with its type, and lookups fail as the kernel says ($errno)', async ({ type, v4, v6, errno, ipSays }) => {
    const { ns } = await lan();
    await addRoute({ netns: ns, to: v4, type });
    await addRoute({ netns: ns, to: v6, type });
    const r4 = await expectOneRoute(ns, v4, 4);
    expect(r4).toMatchObject({ type, table: 254, protocol: 3, scope: 'global' });
    expect(r4.via).toBeUndefined();
    expect(r4.dev).toBeUndefined();
    const r6 = await expectOneRoute(ns, v6, 6);
    expect(r6).toMatchObject({ type, table: 254, dev: 1 });
    expect(ipRoutesTo(ns, v4, 4)[0]!.type).toBe(type);
    expect(ipRoutesTo(ns, v6, 6)[0]!.type).toBe(type);

    const d4 = v4.replace('.0.0/16', '.1.1');
    const d6 = v6.replace('::/64', '::1');
    const e4 = await expectNetlinkError(() => getRoute(d4, { netns: ns }), errno);
    expect(e4.message).not.toContain('CAP_NET_ADMIN'); // a refusal of the lookup, not of nlkit's rights
    expect(ipRouteGetError(d4, ns.name)).toMatch(ipSays);
    await expectNetlinkError(() => getRoute(d6, { netns: ns }), errno);
    expect(ipRouteGetError(d6, ns.name)).toMatch(ipSays);

    await deleteRoute({ netns: ns, to: v4, type });
    await deleteRoute({ netns: ns, to: v6, type });
    expect(await nlRoutesTo(ns, v4, 4)).toEqual([]);
    expect(ipRoutesTo(ns, v4, 4)).toEqual([]);
    expect(await nlRoutesTo(ns, v6, 6)).toEqual([]);
    expect(ipRoutesTo(ns, v6, 6)).toEqual([]);

    // `to` alone deletes it too, as `ip route del` does (the IPv4 kernel matches a type only when
    // one is given); naming another type does not.
    await addRoute({ netns: ns, to: v4, type });
    await addRoute({ netns: ns, to: v6, type });
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: v4, type: 'unicast' }), 'ESRCH');
    await deleteRoute({ netns: ns, to: v4 });
    await deleteRoute({ netns: ns, to: v6 });
    expect(ipRoutesTo(ns, v4, 4)).toEqual([]);
    expect(ipRoutesTo(ns, v6, 6)).toEqual([]);
  });

  it('broadcast, anycast and multicast are scope link unless told, as ip makes them (IPv4 refuses a wider broadcast or anycast)', async () => {
    const { ns, a, aIndex } = await lan();
    const cases = [
      ['broadcast', '10.70.0.77/32'],
      ['anycast', '10.70.0.78/32'],
      ['multicast', '239.1.2.0/24'],
    ] as const;
    for (const [type, to] of cases) {
      await addRoute({ netns: ns, to, dev: aIndex, type, table: 200 });
      const r = await expectOneRoute(ns, to, 4);
      expect(r, type).toMatchObject({ type, scope: 'link', table: 200, dev: aIndex });
      expect(ipRoutesTo(ns, to, 4)[0], type).toMatchObject({ type, scope: 'link', dev: a });
      await deleteRoute({ netns: ns, to, type, table: 200 });
      expect(ipRoutesTo(ns, to, 4), type).toEqual([]);
    }
  });

  it('throw in a table; an IPv6 unreachable default', async () => {
    const { ns } = await lan();
    await addRoute({ netns: ns, to: '10.83.0.0/16', type: 'throw', table: 100 });
    const t = await expectOneRoute(ns, '10.83.0.0/16', 4);
    expect(t).toMatchObject({ type: 'throw', table: 100 });
    await addRoute({ netns: ns, to: 'default', type: 'unreachable', family: 6, metric: 5000 });
    const d = (await listRoutes({ netns: ns, family: 6 })).filter((r) => r.to === 'default');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ type: 'unreachable', metric: 5000 });
    expect(ipRoutesTo(ns, 'default', 6).map((r) => r.type)).toEqual(['unreachable']);
    await expectAllAgree(ns);
  });
});

describe('replaceRoute and deleteRoute', () => {
  it('replaceRoute changes the gateway in place (IPv4 and IPv6)', async () => {
    const { ns, aIndex } = await lan();
    await addRoute({ netns: ns, to: '10.84.0.0/16', via: '10.70.0.254' });
    await replaceRoute({ netns: ns, to: '10.84.0.0/16', via: '10.70.0.253' });
    const r = await expectOneRoute(ns, '10.84.0.0/16', 4);
    expect(r.via).toBe('10.70.0.253');
    await expectLookup(ns, '10.84.0.1', { via: '10.70.0.253', dev: aIndex });

    await addRoute({ netns: ns, to: 'fd84::/64', via: 'fd70::fe' });
    await replaceRoute({ netns: ns, to: 'fd84::/64', via: 'fd70::fd' });
    expect((await expectOneRoute(ns, 'fd84::/64', 6)).via).toBe('fd70::fd');
    await expectLookup(ns, 'fd84::1', { via: 'fd70::fd' });
  });

  it('replaceRoute adds a route that does not exist, and can change its type', async () => {
    const { ns } = await lan();
    await replaceRoute({ netns: ns, to: '10.85.0.0/16', via: '10.70.0.254' });
    expect((await expectOneRoute(ns, '10.85.0.0/16', 4)).via).toBe('10.70.0.254');
    await replaceRoute({ netns: ns, to: '10.85.0.0/16', type: 'blackhole' });
    const r = await expectOneRoute(ns, '10.85.0.0/16', 4);
    expect(r.type).toBe('blackhole');
    expect(r.via).toBeUndefined();
  });

  it('deleteRoute with a scope removes only the route of that scope; without one, any', async () => {
    const { ns, aIndex } = await lan();
    await addRoute({ netns: ns, to: '10.88.0.0/16', dev: aIndex, scope: 'link', metric: 10 });
    await addRoute({ netns: ns, to: '10.88.0.0/16', dev: aIndex, scope: 'host', metric: 20 });
    await deleteRoute({ netns: ns, to: '10.88.0.0/16', scope: 'host' });
    expect(ipRoutesTo(ns, '10.88.0.0/16', 4).map((r) => r.scope)).toEqual(['link']);
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: '10.88.0.0/16', scope: 'host' }), 'ESRCH');
    await deleteRoute({ netns: ns, to: '10.88.0.0/16' });
    expect(ipRoutesTo(ns, '10.88.0.0/16', 4)).toEqual([]);
  });

  it('an error names the route with its table', async () => {
    const { ns } = await lan();
    const e = await expectNetlinkError(() => deleteRoute({ netns: ns, to: '10.74.0.0/16', table: 100 }), 'ESRCH');
    expect(e.object).toBe('route 10.74.0.0/16 table 100');
  });

  it('deleteRoute removes exactly the route; a second delete is ESRCH', async () => {
    const { ns } = await lan();
    await addRoute({ netns: ns, to: '10.86.0.0/16', via: '10.70.0.254' });
    await addRoute({ netns: ns, to: '10.87.0.0/16', via: '10.70.0.254' });
    await addRoute({ netns: ns, to: 'fd86::/64', via: 'fd70::fe' });
    await deleteRoute({ netns: ns, to: '10.86.0.0/16', via: '10.70.0.254' });
    expect(await nlRoutesTo(ns, '10.86.0.0/16', 4)).toEqual([]);
    expect(ipRoutesTo(ns, '10.86.0.0/16', 4)).toEqual([]);
    await expectOneRoute(ns, '10.87.0.0/16', 4);
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: '10.86.0.0/16', via: '10.70.0.254' }), 'ESRCH');

    await deleteRoute({ netns: ns, to: 'fd86::/64', via: 'fd70::fe' });
    expect(ipRoutesTo(ns, 'fd86::/64', 6)).toEqual([]);
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: 'fd86::/64', via: 'fd70::fe' }), 'ESRCH');
    await expectAllAgree(ns);
  });
});

describe('multipath routes', () => {
  /** The lan, with 10.71.0.1/24 and fd71::1/64 on `b` too: a gateway behind each device. */
  async function twoWays(): Promise<Lan> {
    const l = await lan();
    await addAddress(l.b, '10.71.0.1/24', { netns: l.ns });
    await addAddress(l.b, 'fd71::1/64', { netns: l.ns, noDad: true });
    return l;
  }

  it.each([
    [4, '10.77.0.0/16', '10.70.0.254', '10.71.0.254'],
    [6, 'fd77::/64', 'fd70::fe', 'fd71::fe'],
  ] as const)('IPv%s: created with its paths, listed with them (also filtered by either device), deleted by to', async (family, to, gwA, gwB) => {
    const { ns, a, b, aIndex, bIndex } = await twoWays();
    await addRoute({ netns: ns, to, nexthops: [{ via: gwA, dev: a }, { via: gwB, dev: bIndex, weight: 3 }] });

    const mine = await expectOneRoute(ns, to, family);
    expect(mine.via).toBeUndefined();
    expect(mine.dev).toBeUndefined();
    expect(mine.nexthops).toEqual([
      { via: gwA, dev: aIndex, weight: 1 },
      { via: gwB, dev: bIndex, weight: 3 },
    ]);
    const theirs = ipRoutesTo(ns, to, family)[0]!.nexthops;
    expect(theirs?.map((h) => [h.gateway, h.dev, h.weight ?? 1])).toEqual([
      [gwA, a, 1],
      [gwB, b, 3],
    ]);
    await expectAllAgree(ns);

    // The kernel's dump filter keeps a multipath route for any device one of its paths uses; it
    // has no top-level device, and the list must not drop it for that.
    for (const dev of [a, b, aIndex, bIndex]) {
      expect((await listRoutes({ netns: ns, family, dev })).map((r) => r.to)).toContain(to);
    }
    const lo = ipLinks(ns.name).find((l) => l.ifname === 'lo')!.ifindex;
    expect((await listRoutes({ netns: ns, family, dev: lo })).map((r) => r.to)).not.toContain(to);

    // A lookup takes one of the paths.
    const got = await getRoute(family === 4 ? '10.77.1.1' : 'fd77::1', { netns: ns });
    expect([aIndex, bIndex]).toContain(got.dev);

    await deleteRoute({ netns: ns, to });
    expect(await nlRoutesTo(ns, to, family)).toEqual([]);
    expect(ipRoutesTo(ns, to, family)).toEqual([]);
  });

  it('IPv4 device-only paths and onlink; the route is scope global, as ip makes it', async () => {
    const { ns, a, b, aIndex, bIndex } = await twoWays();
    await addRoute({ netns: ns, to: '10.78.0.0/16', nexthops: [{ dev: a }, { via: '192.0.2.1', dev: b, onlink: true, weight: 256 }] });
    const r = await expectOneRoute(ns, '10.78.0.0/16', 4);
    expect(r.scope).toBe('global');
    expect(r.nexthops).toEqual([
      { dev: aIndex, weight: 1 },
      { via: '192.0.2.1', dev: bIndex, weight: 256, onlink: true },
    ]);
    const theirs = ipRoutesTo(ns, '10.78.0.0/16', 4)[0]!.nexthops!;
    expect(theirs[1]!.flags).toContain('onlink');
    await deleteRoute({ netns: ns, to: '10.78.0.0/16' });
    expect(ipRoutesTo(ns, '10.78.0.0/16', 4)).toEqual([]);
  });

  it('1,100 paths naming their device by name: one lookup for the name, one sendmsg past 1,024 iovecs', async () => {
    // Each path named its device, and each name was one RTM_GETLINK in one sendmsg: past 1,024
    // messages (sendmsg's iovec limit) that was EMSGSIZE. The kernel takes the route.
    const { ns, a, aIndex } = await twoWays();
    const nexthops = Array.from({ length: 1100 }, (_, i) => ({ via: `10.${100 + (i >> 8)}.${i & 255}.1`, dev: a, onlink: true }));
    await addRoute({ netns: ns, to: '10.201.0.0/16', nexthops });
    const mine = await nlRoutesTo(ns, '10.201.0.0/16', 4);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.nexthops).toHaveLength(1100);
    expect(mine[0]!.nexthops!.every((h) => h.dev === aIndex)).toBe(true);
    // (ip's own listing leaves out a route this large; its lookup shows the kernel uses it.)
    expect(ipRouteGet('10.201.0.1', ns.name).dev).toBe(a);
    await deleteRoute({ netns: ns, to: '10.201.0.0/16' });
  });

  it('the kernel refuses an IPv6 device-only path with its extack; an unknown path device is ENODEV; nothing is left', async () => {
    const { ns, a } = await twoWays();
    const before = ipSnapshot(ns);
    const e = await expectNetlinkError(() => addRoute({ netns: ns, to: 'fd78::/64', nexthops: [{ via: 'fd70::fe', dev: a }, { dev: a }] }), 'EINVAL');
    expect(e.extack).toMatch(/multipath/i);
    expect(e.message).toContain('nexthop');
    const missing = await expectNetlinkError(() => addRoute({ netns: ns, to: '10.79.0.0/16', nexthops: [{ via: '10.70.0.254', dev: 'nosuch0' }] }), 'ENODEV');
    expect(missing.message).toContain('nosuch0');
    expect(ipSnapshot(ns)).toBe(before);
  });
});

describe('listRoutes filters', () => {
  it('family, dev (by name or ifindex) and table, as ip lists them', async () => {
    const { ns, a, b, aIndex, bIndex } = await lan();
    await addRoute({ netns: ns, to: '10.88.0.0/16', dev: b });
    await addRoute({ netns: ns, to: 'fd88::/64', dev: b });
    await addRoute({ netns: ns, to: '10.89.0.0/16', via: '10.70.0.254' });
    await addRoute({ netns: ns, to: '10.90.0.0/16', dev: b, table: 100 });

    const key = (to: string, dev: string | undefined) => `${to} ${dev ?? '-'}`;
    const nlKeys = (rs: Route[]) => rs.map((r) => key(r.to, r.dev === undefined ? undefined : devName(ns, r.dev))).sort();
    const ipKeys = (rs: IpRoute[], dev?: string) => rs.map((r) => key(ipRouteCidr(r), r.dev ?? dev)).sort();

    // Default: the main table, both families.
    const main = await listRoutes({ netns: ns });
    expect(main.every((r) => r.table === 254)).toBe(true);
    expect(nlKeys(main)).toEqual([...ipKeys(ipRoutes(ns.name, 4)), ...ipKeys(ipRoutes(ns.name, 6))].sort());

    const v4 = await listRoutes({ netns: ns, family: 4 });
    expect(v4.every((r) => r.family === 4)).toBe(true);
    expect(nlKeys(v4)).toEqual(ipKeys(ipRoutes(ns.name, 4)));
    expect(v4.map((r) => r.to)).toEqual(expect.arrayContaining(['10.70.0.0/24', '10.88.0.0/16', '10.89.0.0/16']));
    const v6 = await listRoutes({ netns: ns, family: 6 });
    expect(v6.every((r) => r.family === 6)).toBe(true);
    expect(nlKeys(v6)).toEqual(ipKeys(ipRoutes(ns.name, 6)));
    expect(v6.map((r) => r.to)).toEqual(expect.arrayContaining(['fd70::/64', 'fd88::/64']));
    expect(v4.length + v6.length).toBe(main.length);

    const onB = await listRoutes({ netns: ns, dev: b });
    expect(onB.length).toBeGreaterThan(0);
    expect(onB.every((r) => r.dev === bIndex && r.table === 254)).toBe(true);
    expect(nlKeys(onB)).toEqual([...ipKeys(ipRoutes(ns.name, 4, ['dev', b]), b), ...ipKeys(ipRoutes(ns.name, 6, ['dev', b]), b)].sort());
    expect(onB.map((r) => r.to)).toEqual(expect.arrayContaining(['10.88.0.0/16', 'fd88::/64']));
    expect(onB.map((r) => r.to)).not.toContain('10.90.0.0/16');
    expect(await listRoutes({ netns: ns, dev: bIndex })).toEqual(onB);
    const onA4 = await listRoutes({ netns: ns, dev: a, family: 4 });
    expect(onA4.every((r) => r.dev === aIndex && r.family === 4)).toBe(true);
    expect(nlKeys(onA4)).toEqual(ipKeys(ipRoutes(ns.name, 4, ['dev', a]), a));

    const everywhereOnB = await listRoutes({ netns: ns, dev: b, table: 0, family: 4 });
    expect(everywhereOnB.map((r) => `${r.to} ${r.table}`).sort()).toEqual(['10.88.0.0/16 254', '10.90.0.0/16 100']);
    // Both families at once: IPv6 has no table 100, and that is simply no routes.
    expect((await listRoutes({ netns: ns, table: 100 })).map((r) => r.to)).toEqual(['10.90.0.0/16']);

    await eventually(async () => {
      const local = await listRoutes({ netns: ns, table: 255 });
      expect(local.length).toBeGreaterThan(0);
      expect(local.every((r) => r.table === 255)).toBe(true);
      expect(nlKeys(local)).toEqual(
        [...ipKeys(ipRoutes(ns.name, 4, ['table', 'local'])), ...ipKeys(ipRoutes(ns.name, 6, ['table', 'local']))].sort(),
      );
    });
    await expectAllAgree(ns);
  });
});

describe('listing a table that holds nothing', () => {
  it('both families at once: []', async () => {
    const ns = await res.netns();
    expect(await listRoutes({ netns: ns })).toEqual([]);
    expect(await listRoutes({ netns: ns, table: 100 })).toEqual([]);
    expect(await listRoutes({ netns: ns, table: 0 })).toEqual([]);
  });

  // A dump for one family of a table the kernel has not created answers ENOENT "FIB table does not
  // exist" (ip route show fails the same way); listRoutes reports it as the empty list it is.
  it('one family: [] too (IPv4 main in a fresh namespace, IPv6 table 100)', async () => {
    const ns = await res.netns();
    expect(await listRoutes({ netns: ns, family: 4 })).toEqual([]);
    expect(await listRoutes({ netns: ns, family: 6, table: 100 })).toEqual([]);
  });
});

describe('kernel errors', () => {
  it('an unreachable gateway: ENETUNREACH with the extack (IPv4); EHOSTUNREACH (IPv6)', async () => {
    const { ns } = await lan();
    const before = ipSnapshot(ns);
    const e4 = await expectNetlinkError(() => addRoute({ netns: ns, to: '10.91.0.0/16', via: '192.168.91.1' }), 'ENETUNREACH');
    expect(e4.extack).toBe('Nexthop has invalid gateway');
    expect(e4.operation).toBe('addRoute');
    await expectNetlinkError(() => addRoute({ netns: ns, to: 'fd91::/64', via: 'fd99::1' }), 'EHOSTUNREACH');
    expect(ipSnapshot(ns)).toBe(before);
  });

  it('a duplicate add: EEXIST (IPv4 and IPv6)', async () => {
    const { ns, b } = await lan();
    await addRoute({ netns: ns, to: '10.92.0.0/16', via: '10.70.0.254' });
    await expectNetlinkError(() => addRoute({ netns: ns, to: '10.92.0.0/16', via: '10.70.0.254' }), 'EEXIST');
    await addRoute({ netns: ns, to: 'fd92::/64', dev: b });
    await expectNetlinkError(() => addRoute({ netns: ns, to: 'fd92::/64', dev: b }), 'EEXIST');
    expect(ipRoutesTo(ns, '10.92.0.0/16', 4)).toHaveLength(1);
    expect(ipRoutesTo(ns, 'fd92::/64', 6)).toHaveLength(1);
  });

  it('deleting a missing route: ESRCH (IPv4, IPv6, blackhole)', async () => {
    const { ns, a } = await lan();
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: '10.93.0.0/16', dev: a }), 'ESRCH');
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: 'fd93::/64', dev: a }), 'ESRCH');
    await expectNetlinkError(() => deleteRoute({ netns: ns, to: '10.93.0.0/16', type: 'blackhole' }), 'ESRCH');
  });

  it('an unknown device: ENODEV for add (by name and ifindex) and for listRoutes', async () => {
    const { ns } = await lan();
    const before = ipSnapshot(ns);
    await expectNetlinkError(() => addRoute({ netns: ns, to: '10.94.0.0/16', dev: 'nosuch0' }), 'ENODEV');
    await expectNetlinkError(() => addRoute({ netns: ns, to: '10.94.0.0/16', dev: 9999 }), 'ENODEV');
    await expectNetlinkError(() => listRoutes({ netns: ns, dev: 'nosuch0' }), 'ENODEV');
    expect(ipSnapshot(ns)).toBe(before);
  });

  it('getRoute with no route at all: ENETUNREACH, as ip route get says', async () => {
    const { ns } = await lan();
    await expectNetlinkError(() => getRoute('198.51.100.1', { netns: ns }), 'ENETUNREACH');
    expect(ipRouteGetError('198.51.100.1', ns.name)).toMatch(/unreachable/i);
    await expectNetlinkError(() => getRoute('2001:db8::1', { netns: ns }), 'ENETUNREACH');
    expect(ipRouteGetError('2001:db8::1', ns.name)).toMatch(/unreachable/i);
  });

  it('host bits in a destination are rejected before any syscall, for both families', async () => {
    const { ns, a } = await lan();
    await expectInvalidArgument(() => addRoute({ netns: ns, to: '10.95.0.1/16', dev: a }), /^to$/u);
    await expectInvalidArgument(() => addRoute({ netns: ns, to: 'fd95::1/64', dev: a }), /^to$/u);
    expect(ipRoutesTo(ns, '10.95.0.0/16', 4)).toEqual([]);
    await addRoute({ netns: ns, to: 'fd95::/64', dev: a });
    await expectOneRoute(ns, 'fd95::/64', 6);
  });

  it('deleteRoute needs no via or dev: to and table identify the route', async () => {
    const { ns, b } = await lan();
    await addRoute({ netns: ns, to: '10.96.0.0/16', dev: b, table: 1000 });
    await deleteRoute({ netns: ns, to: '10.96.0.0/16', table: 1000 });
    expect(await listRoutes({ netns: ns, table: 1000 })).toEqual([]);
  });

});

describe('invalid arguments (refused before any system call)', () => {
  it.each([['10.0.0.0/33'], ['fd00::/129'], ['nope'], ['10.0.0/24'], [1234], [''], ['10.0.0.0/'], ['10.0.0.0/024'], [undefined]])(
    'to %j',
    async (to) => {
      const { ns, a } = await lan();
      const before = ipSnapshot(ns);
      await expectInvalidArgument(() => addRoute({ netns: ns, to: to as string, dev: a }), /^to$/);
      await expectInvalidArgument(() => replaceRoute({ netns: ns, to: to as string, dev: a }), /^to$/);
      await expectInvalidArgument(() => deleteRoute({ netns: ns, to: to as string, dev: a }), /^to$/);
      expect(ipSnapshot(ns)).toBe(before);
    },
  );

  it('combinations and options the kernel would never see', async () => {
    const { ns, a } = await lan();
    const before = ipSnapshot(ns);
    const add = (spec: Record<string, unknown>) => () => addRoute({ netns: ns, ...spec } as RouteSpec);
    // A default route must say its family somehow.
    await expectInvalidArgument(add({ to: 'default', dev: a }), /^family$/);
    await expectInvalidArgument(add({ to: 'default', type: 'blackhole' }), /^family$/);
    // via and src of the other family.
    await expectInvalidArgument(add({ to: '10.96.0.0/16', via: 'fd70::fe' }), /^via$/);
    await expectInvalidArgument(add({ to: 'fd96::/64', via: '10.70.0.254' }), /^via$/);
    // An IPv6 zone: node's isIP takes it, no gateway attribute can carry it.
    await expectInvalidArgument(add({ to: 'fd96::/64', via: 'fe80::1%eth0' }), /^via$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, src: 'fd70::1' }), /^src$/);
    await expectInvalidArgument(add({ to: 'default', via: '10.70.0.254', family: 6 }), /^(family|via)$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, family: 6 }), /^family$/);
    // A unicast route needs a way out.
    await expectInvalidArgument(add({ to: '10.96.0.0/16' }), /^via$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', src: '10.70.0.1' }), /^via$/);
    // Bad values.
    await expectInvalidArgument(add({ to: '10.96.0.0/16', via: '10.70.0' }), /^via$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, table: 0 }), /^table$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, table: -1 }), /^table$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, metric: -1 }), /^metric$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, metric: 1.5 }), /^metric$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, mtu: 67 }), /^mtu$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, mtu: 65537 }), /^mtu$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, type: 'bogus' }), /^type$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, scope: 'universe' }), /^scope$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, onlink: 'yes' }), /^onlink$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: 'a/b' }), /^dev$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: 0 }), /^dev$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, family: 5 }), /^family$/);
    // Unknown keys.
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, gateway: '10.70.0.254' }), /^gateway$/);
    // Multipath: paths replace via, dev and onlink; each path is checked like a route.
    const hop = { via: '10.70.0.254' };
    await expectInvalidArgument(add({ to: '10.96.0.0/16', via: '10.70.0.254', nexthops: [hop] }), /^nexthops$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', dev: a, nexthops: [hop] }), /^nexthops$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', onlink: true, nexthops: [hop] }), /^nexthops$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [] }), /^nexthops$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: hop }), /^nexthops$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [hop, 'x'] }), /^nexthops\[1\]$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [hop, {}] }), /^nexthops\[1\]$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [{ via: 'fd70::fe' }] }), /^nexthops\[0\]\.via$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [{ ...hop, weight: 0 }] }), /^nexthops\[0\]\.weight$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [{ ...hop, weight: 257 }] }), /^nexthops\[0\]\.weight$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [{ ...hop, dev: 'a/b' }] }), /^nexthops\[0\]\.dev$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [{ ...hop, onlink: 1 }] }), /^nexthops\[0\]\.onlink$/);
    await expectInvalidArgument(add({ to: '10.96.0.0/16', nexthops: [{ ...hop, gateway: '10.70.0.1' }] }), /^nexthops\[0\]\.gateway$/);
    await expectInvalidArgument(() => addRoute('10.96.0.0/16' as unknown as RouteSpec), /^spec$/);
    await expectInvalidArgument(() => listRoutes({ netns: ns, tabel: 100 } as never), /^filter\.tabel$/);
    await expectInvalidArgument(() => listRoutes({ netns: ns, family: 5 } as never), /^filter\.family$/);
    await expectInvalidArgument(() => listRoutes({ netns: ns, table: -1 }), /^filter\.table$/);
    await expectInvalidArgument(() => listRoutes({ netns: ns, dev: '' }), /^filter\.dev$/);
    await expectInvalidArgument(() => getRoute('10.0.0.1/32', { netns: ns }), /^destination$/);
    await expectInvalidArgument(() => getRoute('nope', { netns: ns }), /^destination$/);
    await expectInvalidArgument(() => getRoute(1234 as unknown as string, { netns: ns }), /^destination$/);
    await expectInvalidArgument(() => getRoute('10.0.0.1', { netns: ns, table: 100 } as never), /^opts\.table$/);
    expect(ipSnapshot(ns)).toBe(before);
  });
});
