// NAT over nftables, in one inet table nlkit owns (configure({ natTable }), default 'nlkit'):
// masquerade for containers reaching the outside. Rules are identified by their comment, which
// `nft list ruleset` shows, so they can be found, listed and removed again after a restart.

import { callNative } from './errors';
import { natTable } from './config';
import { native, type NativeMasqueradeRequest } from './native';
import { toNative } from './netns';
import type { MasqueradeSpec, NatRule, NetnsOption } from './types';
import * as check from './validate';

function masqueradeRequest(spec: MasqueradeSpec): NativeMasqueradeRequest {
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ['source', 'outInterface', 'excludeInterface', 'netns'], '');
  const c = check.cidr(s.source, 'source');
  if (!check.isNetworkAddress(c)) check.reject('source', `'${String(s.source)}' has host bits set past /${c.prefixLength}`);
  return {
    netns: toNative(s.netns as NetnsOption['netns'], 'netns'),
    table: natTable(),
    source: c.address,
    prefixLength: c.prefixLength,
    outInterface: check.optional(s, 'outInterface', '', check.ifname),
    excludeInterface: check.optional(s, 'excludeInterface', '', check.ifname),
  };
}

/**
 * Source NAT for a subnet leaving through other interfaces: `{ source: '172.17.0.0/16',
 * excludeInterface: 'docker0' }` is Docker's `-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`.
 * IPv4 or IPv6. Idempotent: the same spec twice leaves one rule (`added` says whether this call
 * added it). The table and its base chains are created in the same atomic batch on first use.
 */
export async function addMasquerade(spec: MasqueradeSpec): Promise<{ added: boolean; comment: string }> {
  const req = masqueradeRequest(spec);
  return callNative(() => native.natMasqueradeAdd(req));
}

/** Removes the rule(s) `addMasquerade(spec)` made; a missing one is fine. */
export async function removeMasquerade(spec: MasqueradeSpec): Promise<{ removed: number }> {
  const req = masqueradeRequest(spec);
  return callNative(() => native.natMasqueradeRemove(req));
}

const MASQ = /^nlkit masquerade saddr (\S+)\/(\d+)(?: oifname (?!!=)(\S+))?(?: oifname != (\S+))?$/u;

/** The rules in nlkit's table, read back from the kernel, with what each one does. */
export async function listNat(opts?: NetnsOption): Promise<NatRule[]> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  const rules = await callNative(() => native.natList({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), table: natTable() }));
  return rules.map((r) => {
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

/** Removes nlkit's table with everything in it. Other tables are never touched. */
export async function flushNat(opts?: NetnsOption): Promise<void> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['netns'], 'opts');
  await callNative(() => native.natFlush({ netns: toNative(o.netns as NetnsOption['netns'], 'opts.netns'), table: natTable() }));
}
