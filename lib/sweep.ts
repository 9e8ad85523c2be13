// Crash leftovers. A launcher killed mid-start leaves veths and port mappings behind; what nlkit
// made for a container given an `owner` carries that id (the host veth's alias, the mapping's
// element comment: "nlkit:<id>"), so after a restart one call removes everything whose container
// no longer exists. Untagged objects, and tags that are not nlkit's, are never touched.

import { NetlinkError } from './errors';
import { deleteLink, listLinks } from './links';
import { listPortMappings, removePortMapping } from './nat';
import { withNetnsHeld } from './netns';
import type { NetnsRef, PortMapping, SweepFailure, SweepResult, SweepSpec } from './types';
import * as check from './validate';

const TAG = 'nlkit:';

/**
 * Removes what belongs to containers not in `keep`: host veth ends tagged with their owner (the
 * container end goes with them) and port mappings added with one. Returns what it removed, and
 * what it could not remove with the error for each: a janitor after a crash goes on past one
 * failure rather than leave the rest, and the caller learns exactly what remains. A link already
 * gone meanwhile is fine. Only listing what exists can make it reject.
 */
export async function sweep(spec: SweepSpec): Promise<SweepResult> {
  check.oneArgument(arguments);
  const s = check.optionsObject(spec, 'spec');
  check.onlyKeys(s, ['keep', 'netns'], '');
  if (!Array.isArray(s.keep)) check.reject('keep', 'must be an array of container ids (empty: keep none)');
  const keep = new Set<string>();
  for (let i = 0; i < s.keep.length; i++) keep.add(check.owner(s.keep[i], `keep[${i}]`));
  // Held for the whole sweep: a janitor runs after crashes, when names and pids are reused.
  return withNetnsHeld(s.netns as NetnsRef | undefined, 'netns', (netns) => sweepIn(keep, netns));
}

async function sweepIn(keep: ReadonlySet<string>, netns: NetnsRef | undefined): Promise<SweepResult> {
  const where = netns === undefined ? {} : { netns };
  const result: SweepResult = { links: [], portMappings: [], failed: [] };
  for (const link of await listLinks(where)) {
    if (link.alias === undefined || !link.alias.startsWith(TAG)) continue;
    const owner = link.alias.slice(TAG.length);
    if (keep.has(owner)) continue;
    try {
      await deleteLink(link.index, where);
      result.links.push({ name: link.name, owner });
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === 'ENODEV')) result.failed.push({ link: link.name, owner, error: asError(e) });
    }
  }
  const mappings = await removeMappingsOf((owner) => !keep.has(owner), netns);
  result.portMappings = mappings.removed;
  result.failed.push(...mappings.failed);
  return result;
}

/**
 * Removes the port mappings whose owner `doomed` accepts (untagged ones never), going on past a
 * removal the kernel refuses. Also detachContainer's, for one owner.
 */
export async function removeMappingsOf(
  doomed: (owner: string) => boolean,
  netns: NetnsRef | undefined,
): Promise<{ removed: PortMapping[]; failed: SweepFailure[] }> {
  const where = netns === undefined ? {} : { netns };
  const out: { removed: PortMapping[]; failed: SweepFailure[] } = { removed: [], failed: [] };
  for (const m of await listPortMappings(where)) {
    if (m.owner === undefined || !doomed(m.owner)) continue;
    const { protocol, hostIp, hostPort, containerIp, containerPort, owner } = m;
    try {
      // Removed only if it still points where it did, for the same owner: the host port may have
      // been freed and taken by a container starting now since the list was read.
      const { removed } = await removePortMapping({ protocol, ...(hostIp !== undefined ? { hostIp } : {}), hostPort, containerIp, containerPort, owner, ...where });
      if (removed) out.removed.push(m);
    } catch (e) {
      out.failed.push({ portMapping: m, owner, error: asError(e) });
    }
  }
  return out;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
