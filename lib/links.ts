// Links: bridges, veth pairs and the other kinds runtimes use, created, changed, read and
// deleted through RTM_*LINK requests in any namespace.

import { callNative, InvalidArgumentError } from './errors';
import { native, type NativeLinkChanges, type NativeLinkRequest } from './native';
import { netnsDir } from './config';
import { toNative } from './netns';
import type {
  BridgeOptions,
  CreateLinkSpec,
  Link,
  LinkChanges,
  LinkKind,
  LinkRef,
  ListLinksOptions,
  NetnsOption,
  Peer,
  VethPair,
  VethPairOptions,
} from './types';
import * as check from './validate';

export const LINK_KINDS: readonly LinkKind[] = ['dummy', 'bridge', 'veth', 'vlan', 'macvlan', 'ipvlan', 'vxlan'];

const COMMON_KEYS = ['kind', 'name', 'netns', 'mtu', 'mac', 'up', 'master', 'txQueueLen', 'alias'];
const KIND_KEYS: Record<LinkKind, string[]> = {
  dummy: [],
  bridge: ['stp', 'vlanFiltering', 'forwardDelay', 'ageingTime'],
  veth: ['peer'],
  vlan: ['parent', 'id', 'protocol'],
  macvlan: ['parent', 'mode'],
  ipvlan: ['parent', 'mode', 'flag'],
  vxlan: ['vni', 'local', 'remote', 'group', 'port', 'device', 'ttl', 'learning'],
};

function netnsOf(o: Record<string, unknown>, argument: string): ReturnType<typeof toNative> {
  return toNative(o.netns as NetnsOption['netns'], argument);
}

/** Validates a create spec and turns it into the addon's request. @internal (tests use it too) */
export function toNativeLinkRequest(spec: CreateLinkSpec): NativeLinkRequest {
  const s = check.optionsObject(spec, 'spec');
  const kind = check.oneOf(s.kind, 'kind', LINK_KINDS);
  check.onlyKeys(s, [...COMMON_KEYS, ...KIND_KEYS[kind]], '');
  const req: NativeLinkRequest = { kind, name: check.ifname(s.name, 'name') };
  req.netns = netnsOf(s, 'netns');
  req.mtu = check.optional(s, 'mtu', '', check.mtu);
  req.mac = check.optional(s, 'mac', '', check.mac);
  req.up = check.optional(s, 'up', '', check.bool);
  req.master = check.optional(s, 'master', '', check.linkRef);
  req.txQueueLen = check.optional(s, 'txQueueLen', '', (v, a) => check.integer(v, a, 0, 0xffffffff));
  req.alias = check.optional(s, 'alias', '', (v, a) => check.text(v, a, 255));

  switch (kind) {
    case 'bridge':
      req.bridge = {
        stp: check.optional(s, 'stp', '', check.bool),
        vlanFiltering: check.optional(s, 'vlanFiltering', '', check.bool),
        forwardDelay: check.optional(s, 'forwardDelay', '', (v, a) => check.integer(v, a, 0, 0xffffffff)),
        ageingTime: check.optional(s, 'ageingTime', '', (v, a) => check.integer(v, a, 0, 0xffffffff)),
      };
      break;
    case 'veth': {
      const p = check.optionsObject(s.peer, 'peer');
      if (s.peer === undefined) throw new InvalidArgumentError('peer', 'a veth needs a peer: { name }');
      check.onlyKeys(p, ['name', 'netns', 'mac', 'mtu', 'txQueueLen'], 'peer');
      req.peer = {
        name: check.ifname(p.name, 'peer.name'),
        netns: netnsOf(p, 'peer.netns'),
        mac: check.optional(p, 'mac', 'peer', check.mac),
        mtu: check.optional(p, 'mtu', 'peer', check.mtu),
        txQueueLen: check.optional(p, 'txQueueLen', 'peer', (v, a) => check.integer(v, a, 0, 0xffffffff)),
      };
      if (req.peer.netns === undefined && req.peer.name === req.name) {
        throw new InvalidArgumentError('peer.name', 'both ends of a veth in one namespace need different names');
      }
      break;
    }
    case 'vlan':
      req.parent = check.linkRef(s.parent, 'parent');
      req.vlanId = check.integer(s.id, 'id', 1, 4094);
      req.vlanProtocol = check.optional(s, 'protocol', '', (v, a) => check.oneOf(v, a, ['802.1Q', '802.1ad'] as const));
      break;
    case 'macvlan':
      req.parent = check.linkRef(s.parent, 'parent');
      req.macvlanMode = check.optional(s, 'mode', '', (v, a) =>
        check.oneOf(v, a, ['private', 'vepa', 'bridge', 'passthru', 'source'] as const),
      );
      break;
    case 'ipvlan':
      req.parent = check.linkRef(s.parent, 'parent');
      req.ipvlanMode = check.optional(s, 'mode', '', (v, a) => check.oneOf(v, a, ['l2', 'l3', 'l3s'] as const));
      req.ipvlanFlag = check.optional(s, 'flag', '', (v, a) => check.oneOf(v, a, ['bridge', 'private', 'vepa'] as const));
      break;
    case 'vxlan': {
      const group = check.optional(s, 'group', '', check.ipAddress);
      const remote = check.optional(s, 'remote', '', check.ipAddress);
      if (group !== undefined && remote !== undefined) {
        throw new InvalidArgumentError('remote', 'a vxlan has either a remote or a multicast group, not both');
      }
      // Both go to the kernel in one attribute (IFLA_VXLAN_GROUP), which takes a multicast address
      // as a group and any other as the unicast peer: a mix-up would silently make the other kind.
      if (group !== undefined && !check.isMulticast(group)) check.reject('group', `${group} is not a multicast address; a unicast peer is 'remote'`);
      if (remote !== undefined && check.isMulticast(remote)) check.reject('remote', `${remote} is a multicast address; a multicast group is 'group'`);
      req.vxlan = {
        vni: check.integer(s.vni, 'vni', 0, 0xffffff),
        local: check.optional(s, 'local', '', check.ipAddress),
        remote,
        group,
        port: check.optional(s, 'port', '', (v, a) => check.integer(v, a, 1, 65535)),
        device: check.optional(s, 'device', '', check.linkRef),
        ttl: check.optional(s, 'ttl', '', (v, a) => check.integer(v, a, 0, 255)),
        learning: check.optional(s, 'learning', '', check.bool),
      };
      break;
    }
    default:
      break;
  }
  return req;
}

/** Creates a link of any supported kind, in one RTM_NEWLINK, and returns it as the kernel reports it. */
export async function createLink(spec: CreateLinkSpec): Promise<Link> {
  check.oneArgument(arguments);
  const req = toNativeLinkRequest(spec);
  const { link } = await callNative(() => native.linkCreate(req));
  return link;
}

/** Creates a bridge (a virtual switch: `docker0`, `cni0`). */
export async function createBridge(name: string, opts?: BridgeOptions): Promise<Link> {
  const o = check.optionsObject(opts, 'opts');
  if ('kind' in o || 'name' in o) throw new InvalidArgumentError('opts', 'kind and name are given by the call');
  return createLink({ ...o, kind: 'bridge', name } as CreateLinkSpec);
}

/**
 * Creates a veth pair in one request: the peer born directly inside `peer.netns`, this end
 * enslaved to `master` and set up when asked. Resolves to both ends.
 */
export async function createVethPair(opts: VethPairOptions): Promise<VethPair> {
  check.oneArgument(arguments);
  const o = check.optionsObject(opts, 'opts');
  if ('kind' in o) throw new InvalidArgumentError('opts.kind', 'is given by the call');
  const req = toNativeLinkRequest({ ...o, kind: 'veth' } as CreateLinkSpec);
  const { link, peerMac } = await callNative(() => native.linkCreate(req));
  const peer = opts.peer;
  return {
    link,
    peer: {
      index: link.peer?.index ?? link.link ?? 0,
      name: peer.name,
      mac: peerMac ?? '',
      ...(peer.netns !== undefined ? { netns: peer.netns } : {}),
      ...(link.linkNetnsId !== undefined ? { netnsId: link.linkNetnsId } : {}),
    },
  };
}

function callOptions(opts: NetnsOption | undefined): { netns: ReturnType<typeof toNative> } {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  return { netns: netnsOf(o, 'opts.netns') };
}

/**
 * Changes a link in one request (plus a bridge-port request when port flags are set) and
 * returns it as it is afterwards. `changes.netns` moves the link there.
 */
export async function setLink(link: LinkRef, changes: LinkChanges, opts?: NetnsOption): Promise<Link> {
  const ref = check.linkRef(link, 'link');
  const c = check.optionsObject(changes, 'changes');
  check.onlyKeys(
    c,
    ['up', 'mtu', 'mac', 'name', 'alias', 'txQueueLen', 'master', 'netns', 'hairpin', 'isolated', 'learning'],
    'changes',
  );
  const where = callOptions(opts);
  const out: NativeLinkChanges = {
    up: check.optional(c, 'up', 'changes', check.bool),
    mtu: check.optional(c, 'mtu', 'changes', check.mtu),
    mac: check.optional(c, 'mac', 'changes', check.mac),
    name: check.optional(c, 'name', 'changes', check.ifname),
    alias: check.optional(c, 'alias', 'changes', (v, a) => check.text(v, a, 255)),
    txQueueLen: check.optional(c, 'txQueueLen', 'changes', (v, a) => check.integer(v, a, 0, 0xffffffff)),
    hairpin: check.optional(c, 'hairpin', 'changes', check.bool),
    isolated: check.optional(c, 'isolated', 'changes', check.bool),
    learning: check.optional(c, 'learning', 'changes', check.bool),
  };
  if (c.master === null) out.master = null;
  else if (c.master !== undefined) out.master = check.linkRef(c.master, 'changes.master');
  if (c.netns !== undefined) out.moveTo = toNative(c.netns as NetnsOption['netns'], 'changes.netns');
  if (out.moveTo !== undefined && (out.hairpin !== undefined || out.isolated !== undefined || out.learning !== undefined)) {
    // A link that leaves the namespace leaves its bridge too: its port flags would have no port.
    check.reject('changes.netns', 'cannot be combined with bridge-port flags (hairpin, isolated, learning)');
  }
  if (out.moveTo !== undefined && out.master != null) {
    // The kernel moves the link first and enslaves it after, in the namespace it moved to, where
    // an index or name looked up here names another link, or none.
    check.reject('changes.netns', 'cannot be combined with master: set the master after the move, in the namespace the link moved to');
  }
  return callNative(() => native.linkSet({ ...where, link: ref, changes: out }));
}

/** Makes `link` a port of the bridge `master`. */
export async function enslave(link: LinkRef, master: LinkRef, opts?: NetnsOption): Promise<Link> {
  return setLink(link, { master: check.linkRef(master, 'master') }, opts);
}

/** Takes `link` off its bridge. */
export async function release(link: LinkRef, opts?: NetnsOption): Promise<Link> {
  return setLink(link, { master: null }, opts);
}

/** Deletes a link; deleting either end of a veth deletes both. Rejects ENODEV when it is missing. */
export async function deleteLink(link: LinkRef, opts?: NetnsOption): Promise<void> {
  const ref = check.linkRef(link, 'link');
  const where = callOptions(opts);
  await callNative(() => native.linkDelete({ ...where, link: ref }));
}

/** Reads one link (RTM_GETLINK by name or index: no dump). Rejects ENODEV when it is missing. */
export async function getLink(link: LinkRef, opts?: NetnsOption): Promise<Link> {
  const ref = check.linkRef(link, 'link');
  const where = callOptions(opts);
  return callNative(() => native.linkGet({ ...where, link: ref }));
}

/** Lists the links of a namespace; `kind` and `master` are filtered by the kernel. */
export async function listLinks(opts?: ListLinksOptions): Promise<Link[]> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'kind', 'master'], 'opts');
  const kind = check.optional(o, 'kind', 'opts', (v, a) => check.text(v, a, 63));
  const master = check.optional(o, 'master', 'opts', check.linkRef);
  return callNative(() =>
    native.linkList({
      netns: netnsOf(o, 'opts.netns'),
      ...(kind !== undefined ? { kind } : {}),
      ...(master !== undefined ? { master } : {}),
    }),
  );
}

/**
 * The other end of a veth: its link (read in its own namespace) and which namespace that is —
 * "which host vethXXXX is my container's eth0?" in one call, without dumping every link.
 */
export async function findPeer(link: LinkRef, opts?: NetnsOption): Promise<Peer> {
  const ref = check.linkRef(link, 'link');
  const where = callOptions(opts);
  const dir = netnsDir();
  const names = await callNative(() => native.netnsList({ dir }));
  const found = await callNative(() =>
    native.linkFindPeer({ ...where, link: ref, candidates: names.map((n) => `${dir}/${n}`) }),
  );
  const { netnsPath, ...rest } = found;
  const name = netnsPath !== undefined ? netnsPath.slice(dir.length + 1) : found.sameNetns ? nameOf(opts?.netns, dir) : undefined;
  return name === undefined ? rest : { ...rest, netnsName: name };
}

/** The name under the netns directory a NetnsRef refers to, when it names one. */
function nameOf(ref: NetnsOption['netns'], dir: string): string | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref === 'string') return ref.includes('/') ? (ref.startsWith(`${dir}/`) ? ref.slice(dir.length + 1) : undefined) : ref;
  if ('name' in ref && typeof ref.name === 'string') return ref.name;
  if ('path' in ref && typeof ref.path === 'string' && ref.path.startsWith(`${dir}/`)) return ref.path.slice(dir.length + 1);
  return undefined;
}
