// Hostile input, property-based (fast-check): every public function gets random and adversarial
// arguments (fc.anything with symbols' cousins: BigInt, boxed values, Maps, typed arrays, sparse and
// null-prototype objects; plus near-valid strings, numbers at every boundary and option objects of
// known and unknown keys). Each call must resolve or reject with one of nlkit's error classes,
// within a deadline: never another exception, a crash, or a hang. Calls act in a scratch namespace
// (every options object gets netns forced to it), and afterwards the runner's own namespace, its
// nft ruleset, its fds and the named namespaces are as before.
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nl from '../lib/index';
import { NlkitError, type NetnsHandle } from '../lib/index';
import { ipLinks } from './helpers/ip';

const RUNS = Number(process.env.NLKIT_PROPERTY_RUNS ?? 200);
const SEED = Number(process.env.NLKIT_PROPERTY_SEED ?? 0x6e6c6b); // fixed: a failure replays
const DEADLINE_MS = 10_000;

const KEYS = [
  'name', 'kind', 'mtu', 'mac', 'up', 'master', 'peer', 'netns', 'addresses', 'gateway', 'gateways', 'routes', 'to',
  'via', 'dev', 'src', 'metric', 'table', 'onlink', 'family', 'link', 'address', 'lladdr', 'state', 'protocol',
  'hostPort', 'hostIp', 'containerIp', 'containerPort', 'source', 'outInterface', 'excludeInterface', 'hairpin',
  'isolated', 'bridge', 'ifname', 'hostIfname', 'hostNetns', 'dad', 'alias', 'txQueueLen', 'noDad', 'scope', 'label',
  'vni', 'local', 'remote', 'group', 'port', 'device', 'ttl', 'learning', 'vlanId', 'parent', 'mode', 'flags', 'type',
  'moveTo', 'routeLocalnet', 'forwarding', 'validLifetime', 'preferredLifetime', 'broadcast', 'router', 'proxy',
  'groups', 'listExisting', 'resync', 'receiveBuffer', 'signal', 'timeoutMs', 'operState', 'waitForCarrier',
  'extra', '__proto__', 'constructor',
];

const NEAR_VALID = [
  '', ' ', 'lo', 'eth0', 'br0', 'veth0', 'default', 'bridge', 'veth', 'vxlan', 'tcp', 'udp', '10.0.0.1', '10.0.0.0/8',
  '10.0.0.1/33', '300.1.1.1', '1.2.3', 'fd00::1', 'fd00::1/64', 'fd00::1/129', '::', '::ffff:1.2.3.4', '1.2.3.4/0',
  '02:42:ac:11:00:02', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', 'x'.repeat(15), 'x'.repeat(16), 'x'.repeat(300),
  'a/b', 'a:b', '..', '.', '\0', 'é'.repeat(8), 'net.ipv4.ip_forward', 'net.ipv4.conf.lo.forwarding',
  'kernel.hostname', '../../../etc/passwd', 'net/../../kernel/hostname', '/proc/self/ns/net', '/run/netns/x',
];

const NUMBERS = [0, -0, 1, -1, 67, 68, 1500, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 0.5, NaN, Infinity, -Infinity];

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, maxDepth: 2 }),
  fc.constantFrom(...NEAR_VALID),
  fc.constantFrom(...NUMBERS),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constant(undefined),
  fc.constant(null),
);

/** Option objects: known and unknown keys with hostile values, sometimes nested a level. */
const options: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(hostile, fc.array(hostile, { maxLength: 3 }), fc.dictionary(fc.constantFrom(...KEYS), hostile, { maxKeys: 4 })), { maxKeys: 6 }) },
  { weight: 1, arbitrary: hostile },
);

/** `o` with netns (and the other namespace keys) forced to the scratch namespace, when it is an object. */
function inScratch(o: unknown, ns: NetnsHandle, keys: readonly string[] = ['netns']): unknown {
  if (o === undefined) return Object.fromEntries(keys.map((k) => [k, ns]));
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
  const copy: Record<string, unknown> = { ...(o as Record<string, unknown>) };
  for (const k of keys) copy[k] = ns;
  return copy;
}

type Call = (ns: NetnsHandle, args: unknown[]) => Promise<unknown> | unknown;
const any = nl as unknown as Record<string, (...a: unknown[]) => unknown>;
/** Calls `name` with `leading` hostile arguments, then an options object forced into the scratch namespace. */
const callOf = (name: string, leading: 0 | 1 | 2): Call => (ns, args) => any[name]!(...args.slice(0, leading), inScratch(args[leading], ns));

const CALLS: Record<string, Call> = {
  createLink: callOf('createLink', 0),
  createBridge: callOf('createBridge', 1),
  createVethPair: callOf('createVethPair', 0),
  setLink: callOf('setLink', 2),
  enslave: callOf('enslave', 2),
  release: callOf('release', 1),
  deleteLink: callOf('deleteLink', 1),
  getLink: callOf('getLink', 1),
  listLinks: callOf('listLinks', 0),
  findPeer: callOf('findPeer', 1),
  addAddress: callOf('addAddress', 2),
  deleteAddress: callOf('deleteAddress', 2),
  listAddresses: callOf('listAddresses', 0),
  addRoute: callOf('addRoute', 0),
  replaceRoute: callOf('replaceRoute', 0),
  deleteRoute: callOf('deleteRoute', 0),
  listRoutes: callOf('listRoutes', 0),
  getRoute: callOf('getRoute', 1),
  addNeighbor: callOf('addNeighbor', 0),
  deleteNeighbor: callOf('deleteNeighbor', 0),
  listNeighbors: callOf('listNeighbors', 0),
  getSysctl: callOf('getSysctl', 1),
  setSysctl: callOf('setSysctl', 2),
  attachContainer: (ns, [a]) => nl.attachContainer(inScratch(a, ns, ['netns', 'hostNetns']) as never),
  detachContainer: (ns, [a]) => nl.detachContainer(inScratch(a, ns, ['netns', 'hostNetns']) as never),
  ensureBridge: callOf('ensureBridge', 0),
  openSocket: async (ns, [a]) => {
    const s = await nl.openSocket(ns, a as never);
    const { closeSync } = await import('node:fs');
    closeSync(s.fd);
    return s;
  },
  addMasquerade: callOf('addMasquerade', 0),
  removeMasquerade: callOf('removeMasquerade', 0),
  listNat: callOf('listNat', 0),
  inspectNat: callOf('inspectNat', 0),
  flushNat: callOf('flushNat', 0),
  addPortMapping: callOf('addPortMapping', 0),
  removePortMapping: callOf('removePortMapping', 0),
  listPortMappings: callOf('listPortMappings', 0),
  addLocalnetGuard: callOf('addLocalnetGuard', 0),
  addNetworkIsolation: callOf('addNetworkIsolation', 0),
  sweep: callOf('sweep', 0),
  removeNetworkIsolation: callOf('removeNetworkIsolation', 0),
  // Namespaces by name or path: successes are cleaned up below (a named namespace is the result).
  openNetns: async (_ns, [a]) => (await nl.openNetns(a as never)).close(),
  createNetns: async (_ns, [a]) => {
    const h = await nl.createNetns(a as never);
    h.close();
    if (h.name) await nl.deleteNetns(h.name);
  },
  deleteNetns: (_ns, [a]) => nl.deleteNetns(a as never),
  watch: async (ns, [a]) => {
    const w = nl.watch(inScratch(a, ns) as never);
    try {
      await w.ready;
    } finally {
      w.close();
    }
  },
  // A valid wait would run to its timeout: kept short, so that a hang still stands out.
  waitForLink: (ns, [l, o]) => nl.waitForLink(l as never, shortWait(inScratch(o, ns)) as never),
  waitForAddress: (ns, [a, o]) => nl.waitForAddress(a as never, shortWait(inScratch(o, ns)) as never),
};

function shortWait(o: unknown): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? { ...o, timeoutMs: 50 } : o;
}

/** Resolves, or rejects with an nlkit error class, within the deadline; anything else fails. */
async function outcome(call: () => Promise<unknown> | unknown): Promise<'ok' | 'nlkit-error'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${DEADLINE_MS} ms (a hang)`)), DEADLINE_MS);
  });
  try {
    await Promise.race([Promise.resolve().then(call), deadline]);
    return 'ok';
  } catch (e) {
    if (e instanceof NlkitError) return 'nlkit-error';
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function fds(): number {
  return readdirSync('/proc/self/fd').length;
}

const before = { links: [] as string[], fds: 0, netns: [] as string[] };
beforeAll(async () => {
  // Warm what nlkit keeps open for the runner's own namespace (its pooled sockets), then count.
  await nl.getLink('lo');
  await nl.listNat();
  before.links = ipLinks().map((l) => l.ifname).sort();
  before.netns = (await nl.listNetns()).sort();
  before.fds = fds();
});

describe('every public function under hostile input: a typed error or a result, never a crash or a hang', () => {
  it('covers the whole API', () => {
    const functions = Object.entries(nl).filter(([, v]) => typeof v === 'function' && !/Error$|^NetnsHandle$/u.test(v.name)).map(([k]) => k);
    const skipped = ['configure', 'listNetns']; // global settings; no arguments
    expect(functions.filter((f) => !(f in CALLS) && !skipped.includes(f))).toEqual([]);
  });

  for (const [name, call] of Object.entries(CALLS)) {
    it(name, async () => {
      const ns = await nl.createNetns();
      try {
        await fc.assert(
          fc.asyncProperty(fc.tuple(hostile, options, options), async (args) => {
            await outcome(() => call(ns, args));
          }),
          { numRuns: RUNS, seed: SEED },
        );
      } finally {
        ns.close();
      }
    }, 120_000);
  }
});

describe('attachContainer near a valid spec: a typed error or a result, and nothing left behind on failure', () => {
  it('with up to two fields of a valid spec replaced by hostile values', async () => {
    const host = await nl.createNetns();
    try {
      const { link } = await nl.ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', 'fd00::1/64'], netns: host });
      const hostLinks = async () => (await nl.listLinks({ netns: host })).map((l) => l.name).sort();
      const baseline = await hostLinks();
      const fields = ['bridge', 'ifname', 'hostIfname', 'addresses', 'gateway', 'routes', 'mtu', 'mac', 'hairpin', 'isolated', 'dad', 'extra'];
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...fields), fc.oneof(hostile, fc.array(hostile, { maxLength: 2 })), { maxKeys: 2 }), async (changes) => {
          const container = await nl.createNetns();
          try {
            const spec = {
              netns: container, hostNetns: host, bridge: link.index, hostIfname: `vh${n++}`,
              addresses: ['10.88.0.2/16', 'fd00::2/64'], gateways: ['10.88.0.1', 'fd00::1'], ...changes,
            };
            if ('gateway' in changes) delete (spec as { gateways?: unknown }).gateways;
            const result = await outcome(() => nl.attachContainer(spec as never));
            if (result === 'ok') {
              await nl.detachContainer({ hostIfname: spec.hostIfname as string, hostNetns: host }).catch(() => undefined);
              // A host name that was not a plain string cannot have been used: find what it made.
              for (const name of await hostLinks()) if (!baseline.includes(name)) await nl.deleteLink(name, { netns: host });
            }
            expect(await hostLinks()).toEqual(baseline);
          } finally {
            container.close();
          }
        }),
        { numRuns: Math.min(RUNS, 150), seed: SEED },
      );
    } finally {
      host.close();
    }
  }, 120_000);
});

afterAll(async () => {
  // Nothing escaped the scratch namespaces: the runner's links, nft ruleset, fds and named namespaces.
  expect(ipLinks().map((l) => l.ifname).sort()).toEqual(before.links);
  expect((await nl.listNat()).length).toBe(0);
  expect((await nl.listNetns()).sort()).toEqual(before.netns);
  expect(fds()).toBeLessThanOrEqual(before.fds);
});
