// Neighbours: ARP/NDP entries and bridge forwarding-database entries (VXLAN overlays).

import { callNative } from './errors';
import { native, type NativeNeighborRequest } from './native';
import { toNative } from './netns';
import type { ListNeighborsOptions, Neighbor, NeighborSpec, NeighborState, NetnsOption } from './types';
import * as check from './validate';

const STATES: readonly NeighborState[] = ['incomplete', 'reachable', 'stale', 'delay', 'probe', 'failed', 'noarp', 'permanent'];
const KEYS = ['netns', 'dev', 'address', 'mac', 'state', 'bridge', 'dst', 'vlan', 'vni', 'self', 'master', 'replace', 'append'];

/** A link-layer address as neighbour tables hold them: any 6 bytes, all-zero and multicast included. */
function lladdr(v: unknown, argument: string): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/iu.test(v)) {
    return check.reject(argument, `must look like 02:42:ac:11:00:02, got ${check.show(v)}`);
  }
  return v.toLowerCase();
}

function neighborRequest(spec: NeighborSpec, adding: boolean): NativeNeighborRequest {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, KEYS, '');
  const address = check.optional(s, 'address', '', check.ipAddress);
  const bridge = check.optional(s, 'bridge', '', check.bool) ?? address === undefined;
  if (bridge && address !== undefined) check.reject('address', 'an FDB entry (bridge: true) has a mac and maybe a dst, not an address');
  if (!bridge && address === undefined) check.reject('address', 'is needed for an ARP/NDP entry (bridge: false)');
  const req: NativeNeighborRequest = {
    netns: toNative(s.netns as NetnsOption['netns'], 'netns'),
    family: bridge ? 'bridge' : address!.includes(':') ? '6' : '4',
    dev: check.linkRef(s.dev, 'dev'),
    address,
    mac: check.optional(s, 'mac', '', lladdr),
    dst: check.optional(s, 'dst', '', check.ipAddress),
    vlan: check.optional(s, 'vlan', '', (v, a) => check.integer(v, a, 1, 4094)),
    vni: check.optional(s, 'vni', '', (v, a) => check.integer(v, a, 0, 0xffffff)),
    self: check.optional(s, 'self', '', check.bool),
    master: check.optional(s, 'master', '', check.bool),
  };
  if (s.state !== undefined) {
    const states = Array.isArray(s.state) ? s.state : [s.state];
    req.state = states.map((st, i) => check.oneOf(st, `state[${i}]`, STATES));
  }
  if (bridge && req.self === undefined && req.master === undefined) req.self = true; // `bridge fdb add` default
  // The kernel's ARP/NDP path ignores these (NDA_VLAN, NTF_SELF/NTF_MASTER): refused rather than
  // accepted and silently dropped.
  if (!bridge) {
    for (const key of ['dst', 'vni', 'vlan', 'self', 'master'] as const) {
      if (req[key] !== undefined) check.reject(key, 'belongs to FDB entries (bridge: true)');
    }
  }
  if (adding && req.mac === undefined) check.reject('mac', 'is needed to add an entry');
  const replace = check.optional(s, 'replace', '', check.bool);
  const append = check.optional(s, 'append', '', check.bool);
  if (replace && append) check.reject('append', 'cannot be combined with replace');
  req.mode = replace ? 'replace' : append ? 'append' : 'create';
  return req;
}

/** Adds an ARP/NDP entry, or an FDB entry (`bridge fdb add`; `append` for several VXLAN remotes). */
export async function addNeighbor(spec: NeighborSpec): Promise<void> {
  check.oneArgument(arguments);
  const req = neighborRequest(spec, true);
  await callNative(() => native.neighborAdd(req));
}

/** Deletes an entry. A missing one rejects with ENOENT. */
export async function deleteNeighbor(spec: NeighborSpec): Promise<void> {
  check.oneArgument(arguments);
  const req = neighborRequest(spec, false);
  await callNative(() => native.neighborDelete(req));
}

/** Neighbour entries of a namespace, of one device, of one family ('bridge' for the FDB). */
export async function listNeighbors(opts?: ListNeighborsOptions): Promise<Neighbor[]> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'dev', 'family'], 'opts');
  const dev = check.optional(o, 'dev', 'opts', check.linkRef);
  const fam = check.optional(o, 'family', 'opts', (v, a) => (v === 'bridge' ? 'bridge' : String(check.family(v, a))));
  return callNative(() =>
    native.neighborList({
      netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'),
      ...(dev !== undefined ? { dev } : {}),
      ...(fam !== undefined ? { family: fam } : {}),
    }),
  );
}
