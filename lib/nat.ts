// NAT over nftables, in one inet table nlkit owns (configure({ natTable }), default 'nlkit'):
// masquerade for containers reaching the outside. Rules are identified by their comment, which
// `nft list ruleset` shows, so they can be found, listed and removed again after a restart.

import { callNative } from './errors';
import { natTable } from './config';
import { native, type NativeMasqueradeRequest, type NativePortMappingRequest } from './native';
import { toNative } from './netns';
import type { MasqueradeSpec, NatInspection, NatRule, NetnsOption, NetnsRef, PortMapping, PortMappingSpec } from './types';
import * as check from './validate';

function masqueradeRequest(spec: MasqueradeSpec): NativeMasqueradeRequest {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ['source', 'outInterface', 'excludeInterface', 'hairpin', 'netns'], '');
  const c = check.cidr(s.source, 'source');
  if (!check.isNetworkAddress(c)) check.reject('source', `${check.show(s.source)} has host bits set past /${c.prefixLength}`);
  return {
    netns: toNative(s.netns as NetnsOption['netns'], 'netns'),
    table: natTable(),
    source: c.address,
    prefixLength: c.prefixLength,
    outInterface: check.optional(s, 'outInterface', '', check.ifname),
    excludeInterface: check.optional(s, 'excludeInterface', '', check.ifname),
    hairpin: hairpinOf(s, c.prefixLength),
  };
}

// A hairpin rule masquerades DNATed traffic from the subnet into the subnet. For a /0 source that
// is every published-port connection, each client's address hidden behind the host's: not made
// by default, and refused when asked for.
function hairpinOf(s: Record<string, unknown>, prefixLength: number): boolean {
  const asked = check.optional(s, 'hairpin', '', check.bool);
  if (prefixLength > 0) return asked ?? true;
  if (asked === true) check.reject('hairpin', 'a /0 source is every address: its hairpin rule would masquerade every published-port connection');
  return false;
}

/**
 * Source NAT for a subnet leaving through other interfaces: `{ source: '172.17.0.0/16',
 * excludeInterface: 'docker0' }` is Docker's `-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`.
 * IPv4 or IPv6. With `hairpin` (the default) a companion rule masquerades DNATed traffic from the
 * subnet back into it, so a container reaching a published port through the host's address gets
 * its answer. Idempotent: the same spec twice leaves one rule of each (`added` says whether this
 * call added the masquerade rule; `handle` is the rule's kernel handle, echoed back when it is
 * new). The table and its base chains are created in the same atomic
 * batch on first use.
 */
export async function addMasquerade(spec: MasqueradeSpec): Promise<{ added: boolean; handle: number; comment: string }> {
  check.oneArgument(arguments);
  const req = masqueradeRequest(spec);
  return callNative(() => native.natMasqueradeAdd(req));
}

/** Removes the rules `addMasquerade(spec)` made (`removed` counts rules); a missing one is fine. */
export async function removeMasquerade(spec: MasqueradeSpec): Promise<{ removed: number }> {
  check.oneArgument(arguments);
  const req = masqueradeRequest(spec);
  return callNative(() => native.natMasqueradeRemove(req));
}

const MASQ = /^nlkit masquerade saddr (\S+)\/(\d+)(?: oifname (?!!=)(\S+))?(?: oifname != (\S+))?$/u;
const HAIRPIN = /^nlkit hairpin saddr (\S+) daddr \S+$/u;

/** The rules in nlkit's table, read back from the kernel, with what each one does. */
export async function listNat(opts?: NetnsOption): Promise<NatRule[]> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  const rules = await callNative(() => native.natList({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), table: natTable() }));
  return rules.map((r) => {
    const hairpin = HAIRPIN.exec(r.comment);
    if (hairpin?.[1] !== undefined) return { kind: 'hairpin', chain: r.chain, handle: r.handle, comment: r.comment, source: hairpin[1] };
    const m = MASQ.exec(r.comment);
    if (!m) return { kind: 'other', chain: r.chain, handle: r.handle, comment: r.comment };
    return {
      kind: 'masquerade',
      chain: r.chain,
      handle: r.handle,
      comment: r.comment,
      source: `${m[1]}/${m[2]}`,
      ...(m[3] !== undefined ? { outInterface: m[3] } : {}),
      ...(m[4] !== undefined ? { excludeInterface: m[4] } : {}),
    };
  });
}

/**
 * Adds the localnet guard to nlkit's table unless it is there: a rule that drops IPv4 packets to
 * 127.0.0.0/8 arriving on any interface but lo, before conntrack and DNAT. It is what makes
 * `route_localnet` safe (CVE-2020-8558): with it on, the kernel would accept such packets from
 * any neighbour on that interface and hand them to services bound to 127.0.0.1 or to 127.0.0.1
 * port mappings. `ensureBridge({ routeLocalnet: true })` and the first port mapping add it;
 * call it yourself when you set `route_localnet` some other way.
 */
export async function addLocalnetGuard(opts?: NetnsOption): Promise<{ added: boolean }> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  const added = await callNative(() => native.natGuardLocalnet({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), table: natTable() }));
  return { added };
}

/**
 * Isolates a bridge network from the other isolated ones, as Docker isolates its user-defined
 * networks: packets routed from this bridge to another isolated bridge (and back) are dropped in
 * the forward chain of nlkit's table. Traffic inside the bridge, to and from the host, and out
 * through any other interface is untouched; isolating one bridge alone cuts nothing. Idempotent:
 * `added` says whether this call made the rule.
 */
export async function addNetworkIsolation(spec: { bridge: string; netns?: NetnsRef }): Promise<{ added: boolean }> {
  check.oneArgument(arguments);
  const req = isolationRequest(spec);
  return { added: await callNative(() => native.natIsolationAdd(req)) };
}

/** Ends a bridge's isolation (its rule and set element); one that is not isolated is fine. */
export async function removeNetworkIsolation(spec: { bridge: string; netns?: NetnsRef }): Promise<{ removed: boolean }> {
  check.oneArgument(arguments);
  const req = isolationRequest(spec);
  return { removed: await callNative(() => native.natIsolationRemove(req)) };
}

function isolationRequest(spec: { bridge: string; netns?: NetnsRef }) {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ['bridge', 'netns'], '');
  return { netns: toNative(s.netns as NetnsRef | undefined, 'netns'), table: natTable(), bridge: check.ifname(s.bridge, 'bridge') };
}

/**
 * Removes nlkit's table with everything in it, but for the localnet guard when the table held it
 * (made again in the same batch: route_localnet stays on). Other tables are never touched.
 */
export async function flushNat(opts?: NetnsOption): Promise<void> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  await callNative(() => native.natFlush({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), table: natTable() }));
}

function portMappingRequest(spec: PortMappingSpec, forRemoval: boolean): NativePortMappingRequest {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ['protocol', 'hostIp', 'hostPort', 'containerIp', 'containerPort', 'owner', 'netns'], '');
  const owner = check.optional(s, 'owner', '', check.owner);
  const protocol = check.oneOf(s.protocol, 'protocol', ['tcp', 'udp'] as const);
  const containerIp = check.ipAddress(s.containerIp, 'containerIp');
  const family: 4 | 6 = containerIp.includes(':') ? 6 : 4;
  const givenHostIp = check.optional(s, 'hostIp', '', (v, a) => check.ipAddress(v, a));
  if (givenHostIp !== undefined && (givenHostIp.includes(':') ? 6 : 4) !== family) {
    check.reject('hostIp', `is IPv${family === 4 ? 6 : 4} but containerIp is IPv${family}: one mapping is one family`);
  }
  // '0.0.0.0' and '::' mean every address, as in `docker run -p 0.0.0.0:8080:80`: the same mapping
  // as no hostIp (an element keyed on the unspecified address would never match a packet).
  const canonicalHost = givenHostIp === undefined ? undefined : check.canonicalIp(givenHostIp);
  const hostIp = canonicalHost === '0.0.0.0' || canonicalHost === '::' ? undefined : givenHostIp;
  // Traffic the host sends to its IPv4 loopback can be sent on to a container (the localhost rule,
  // with route_localnet); IPv6 has no such setting: a packet from ::1 never leaves lo.
  if (canonicalHost === '::1') check.reject('hostIp', '::1 cannot be published: IPv6 never routes loopback traffic off the host');
  const port = (v: unknown, a: string): number => check.integer(v, a, 1, 65535);
  const hostPort = check.optional(s, 'hostPort', '', port);
  if (forRemoval && hostPort === undefined) check.reject('hostPort', 'is needed to say which mapping to remove');
  return {
    netns: toNative(s.netns as NetnsOption['netns'], 'netns'),
    table: natTable(),
    protocol,
    family,
    ...(hostIp !== undefined ? { hostIp } : {}),
    ...(hostPort !== undefined ? { hostPort } : {}),
    containerIp,
    containerPort: port(s.containerPort, 'containerPort'),
    ...(owner !== undefined ? { owner } : {}),
  };
}

/**
 * Publishes a port: traffic to `hostIp:hostPort` (every local address when `hostIp` is absent),
 * from outside and from the host itself, goes to `containerIp:containerPort`. Only traffic
 * addressed to this host is captured, never traffic passing through to other machines. Without
 * `hostPort` nlkit picks a free one in 32768-60999 and returns it. The same protocol and host
 * port (on the same host address) twice is a NetlinkError EEXIST ("already mapped"). One map
 * element per mapping: the cost does not grow with the number of mappings.
 */
export async function addPortMapping(spec: PortMappingSpec): Promise<PortMapping> {
  check.oneArgument(arguments);
  const req = portMappingRequest(spec, false);
  return callNative(() => native.natPortMappingAdd(req));
}

/**
 * Removes a mapping: protocol, hostIp and hostPort name it, and it goes only if it still sends
 * them to `containerIp:containerPort` (and carries `owner`, when given). A host port is a key
 * another container may hold by now: a late or repeated cleanup, or a sweep working through a
 * list it read earlier, leaves that one alone. Read and removed under one nftables generation.
 * A missing mapping, or another container's, is `{ removed: false }`.
 */
export async function removePortMapping(spec: PortMappingSpec): Promise<{ removed: boolean }> {
  check.oneArgument(arguments);
  const req = portMappingRequest(spec, true);
  return callNative(() => native.natPortMappingRemove(req));
}

/** Every port mapping in nlkit's table, read back from the kernel's maps. */
export async function listPortMappings(opts?: NetnsOption): Promise<PortMapping[]> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  return callNative(() => native.natPortMappingList({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), table: natTable() }));
}

/**
 * Everything nlkit installed in its NAT table, read back from the kernel: whether the table
 * exists, its base chains, its maps, the rules (as listNat) and the port mappings.
 */
export async function inspectNat(opts?: NetnsOption): Promise<NatInspection> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  const where = o.netns === undefined ? {} : { netns: o.netns as NetnsOption['netns'] };
  const table = natTable();
  const base = await callNative(() => native.natInspect({ netns: toNative(where.netns, 'opts.netns'), table }));
  const [rules, portMappings] = await Promise.all([listNat(where), listPortMappings(where)]);
  return { table, ...base, rules, portMappings };
}
