// Builds the objects the addon returns: Link objects, and the two ends of a container attach. The
// addon hands over the decoded fields as plain arguments and these functions make the objects
// (lib/native.ts registers them with setFactories): an object literal made in JS costs a fraction
// of the same object assembled property by property through Node-API, which showed as the largest
// share of the addon's own time in a container attach (bench/cases/profile.js).

import type { AttachedEnd, Link, OperState } from './types';

// IFF_* bits in the order ip(8) prints them (linux/if.h): bit i is IFF_NAMES[i].
const IFF_NAMES: readonly string[] = [
  'UP', 'BROADCAST', 'DEBUG', 'LOOPBACK', 'POINTOPOINT', 'NOTRAILERS', 'RUNNING', 'NOARP', 'PROMISC', 'ALLMULTI',
  'MASTER', 'SLAVE', 'MULTICAST', 'PORTSEL', 'AUTOMEDIA', 'DYNAMIC', 'LOWER_UP', 'DORMANT', 'ECHO',
];
// IF_OPER_* (RFC 2863), by value.
export const OPER_STATES: readonly OperState[] = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

/** What the addon decoded besides the common fields: kind-specific info, present when set. */
export type LinkExtras = Pick<Link, 'bridgePort' | 'bridge' | 'vlan' | 'macvlan' | 'ipvlan' | 'vxlan'>;

/**
 * Called by the addon with one link's fields (undefined where the kernel sent none). `linkIndex`
 * is IFLA_LINK already filtered of a NIC's meaningless self-reference.
 */
export function makeLink(
  index: number,
  name: string,
  kind: string | undefined,
  mac: string | undefined,
  mtu: number,
  minMtu: number | undefined,
  maxMtu: number | undefined,
  txQueueLen: number | undefined,
  alias: string | undefined,
  flagBits: number,
  operState: number,
  master: number | undefined,
  linkIndex: number | undefined,
  linkNetnsId: number | undefined,
  extras: LinkExtras | undefined,
): Link {
  const flags: string[] = [];
  // An indexed loop: this runs once per link returned, mostly cold (see containers.ts).
  for (let i = 0; i < IFF_NAMES.length; i++) if (flagBits & (1 << i)) flags.push(IFF_NAMES[i]!);
  // Properties in the order ip(8) shows them; a fixed order of additions keeps the objects' shapes few.
  const l = { index, name } as Link;
  if (kind !== undefined) l.kind = kind;
  if (mac !== undefined) l.mac = mac;
  l.mtu = mtu;
  if (minMtu !== undefined) l.minMtu = minMtu;
  if (maxMtu !== undefined) l.maxMtu = maxMtu;
  if (txQueueLen !== undefined) l.txQueueLen = txQueueLen;
  if (alias !== undefined) l.alias = alias;
  l.flags = flags;
  l.up = (flagBits & 0x1) !== 0;
  l.operState = OPER_STATES[operState] ?? 'unknown';
  if (master !== undefined) l.master = master;
  if (linkIndex !== undefined) l.link = linkIndex;
  if (linkNetnsId !== undefined) l.linkNetnsId = linkNetnsId;
  if (kind === 'veth' && linkIndex !== undefined) l.peer = linkNetnsId === undefined ? { index: linkIndex } : { index: linkIndex, netnsId: linkNetnsId };
  if (extras !== undefined) Object.assign(l, extras);
  return l;
}

/** Both ends of an attached container's veth, as the addon reports them (containerAttach). */
export interface AttachedEnds {
  host: AttachedEnd;
  container: AttachedEnd;
}

/** Called by the addon with the host end's index, name, MAC and MTU, then the container end's. */
export function makeAttachedEnds(
  hostIndex: number,
  hostName: string,
  hostMac: string,
  hostMtu: number,
  index: number,
  name: string,
  mac: string,
  mtu: number,
): AttachedEnds {
  return { host: { index: hostIndex, name: hostName, mac: hostMac, mtu: hostMtu }, container: { index, name, mac, mtu } };
}
