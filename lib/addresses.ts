// Addresses: IPv4 and IPv6, on any link in any namespace (RTM_NEWADDR / RTM_DELADDR / dumps).

import { callNative } from './errors';
import { native, type NativeAddressRequest } from './native';
import { toNative } from './netns';
import type { AddAddressOptions, Address, LinkRef, ListAddressesOptions, NetnsOption } from './types';
import * as check from './validate';

function addressRequest(link: LinkRef, cidrText: string, opts: Record<string, unknown>): NativeAddressRequest {
  const ref = check.linkRef(link, 'link');
  const c = check.cidr(cidrText, 'cidr');
  const req: NativeAddressRequest = {
    netns: toNative(opts.netns as NetnsOption['netns'], 'opts.netns'),
    link: ref,
    address: c.address,
    prefixLength: c.prefixLength,
  };
  return req;
}

/**
 * Adds an address ('10.88.0.1/16', 'fd00::1/64') to a link and returns it as the kernel reports
 * it. An address that exists already rejects with EEXIST.
 */
export async function addAddress(link: LinkRef, cidr: string, opts?: AddAddressOptions): Promise<Address> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'peer', 'broadcast', 'scope', 'label', 'validLifetime', 'preferredLifetime', 'noDad'], 'opts');
  const req = addressRequest(link, cidr, o);
  const family = check.cidr(cidr, 'cidr').family;
  // The kernel acknowledges 0.0.0.0 and drops it: the call would succeed with nothing added.
  if (req.address === '0.0.0.0') check.reject('cidr', '0.0.0.0 is no address a link can have (the kernel would ignore it)');
  req.peer = check.optional(o, 'peer', 'opts', (v, a) => check.ipAddress(v, a, family));
  req.broadcast = check.optional(o, 'broadcast', 'opts', (v, a) => check.ipAddress(v, a, 4));
  if (req.broadcast !== undefined && family !== 4) check.reject('opts.broadcast', 'is for IPv4 addresses only');
  req.scope = check.optional(o, 'scope', 'opts', (v, a) => check.oneOf(v, a, check.SCOPES));
  if (req.scope !== undefined && family !== 4) check.reject('opts.scope', 'the kernel derives an IPv6 address\'s scope from the address itself');
  req.label = check.optional(o, 'label', 'opts', (v, a) => check.text(v, a, 15));
  if (req.label !== undefined && family !== 4) check.reject('opts.label', 'is for IPv4 addresses only');
  const lifetime = (v: unknown, a: string): number => check.integer(v, a, 0, 0xffffffff);
  req.validLifetime = check.optional(o, 'validLifetime', 'opts', lifetime);
  req.preferredLifetime = check.optional(o, 'preferredLifetime', 'opts', lifetime);
  if (req.validLifetime === 0) check.reject('opts.validLifetime', 'must be at least 1 second (0 would expire it at once)');
  if (req.preferredLifetime !== undefined && req.preferredLifetime > (req.validLifetime ?? 0xffffffff)) {
    check.reject('opts.preferredLifetime', 'cannot be longer than validLifetime');
  }
  req.noDad = check.optional(o, 'noDad', 'opts', check.bool);
  return callNative(() => native.addressAdd(req));
}

/**
 * Removes an address from a link. An IPv4 point-to-point address is matched by its peer too, so
 * give the same `peer` it was added with. A missing address rejects with EADDRNOTAVAIL.
 */
export async function deleteAddress(link: LinkRef, cidr: string, opts?: NetnsOption & { peer?: string }): Promise<void> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'peer'], 'opts');
  const req = addressRequest(link, cidr, o);
  req.peer = check.optional(o, 'peer', 'opts', (v, a) => check.ipAddress(v, a, check.cidr(cidr, 'cidr').family));
  await callNative(() => native.addressDelete(req));
}

/** Addresses of a namespace, or of one link (filtered by the kernel), of one or both families. */
export async function listAddresses(opts?: ListAddressesOptions): Promise<Address[]> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns', 'link', 'family'], 'opts');
  const link = check.optional(o, 'link', 'opts', check.linkRef);
  const fam = check.optional(o, 'family', 'opts', check.family);
  return callNative(() =>
    native.addressList({
      netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'),
      ...(link !== undefined ? { link } : {}),
      ...(fam !== undefined ? { family: fam } : {}),
    }),
  );
}
