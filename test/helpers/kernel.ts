// Probes, through nlkit itself, which optional link kinds this kernel has. Each probe works in a
// throw-away anonymous namespace, so it leaves nothing behind.
import { constants } from 'node:os';
import { createLink, createNetns, createVethPair, NetlinkError, type CreateLinkSpec, type NetnsHandle } from '../../lib/index';

export type OptionalFeature = 'dummy' | 'vlan' | 'ipvlan' | 'bridge-vlan-filtering';

export interface Probe {
  /** True: the kernel created it. False: it answered EOPNOTSUPP. Undefined: the probe itself failed. */
  supported: boolean | undefined;
  error?: unknown;
}

async function withScratchNetns<T>(fn: (ns: NetnsHandle) => Promise<T>): Promise<T> {
  const ns = await createNetns();
  try {
    return await fn(ns);
  } finally {
    ns.close();
  }
}

export function specFor(feature: OptionalFeature, name: string, parent: string, netns?: NetnsHandle): CreateLinkSpec {
  switch (feature) {
    case 'dummy':
      return { kind: 'dummy', name, netns };
    case 'vlan':
      return { kind: 'vlan', name, parent, id: 10, netns };
    case 'ipvlan':
      return { kind: 'ipvlan', name, parent, mode: 'l2', netns };
    case 'bridge-vlan-filtering':
      return { kind: 'bridge', name, vlanFiltering: true, netns };
  }
}

export async function probe(feature: OptionalFeature): Promise<Probe> {
  try {
    return await withScratchNetns(async (ns) => {
      await createVethPair({ name: 'pp0', peer: { name: 'pp1' }, netns: ns });
      try {
        await createLink(specFor(feature, 'probe0', 'pp0', ns));
        return { supported: true };
      } catch (e) {
        // Classified by errno (95 on Linux, which Node may name ENOTSUP or EOPNOTSUPP), so that the
        // gating works even if the error's `code` spelling is wrong; the tests check the spelling.
        if (e instanceof NetlinkError && Math.abs(e.errno) === constants.errno.EOPNOTSUPP) {
          return { supported: false, error: e };
        }
        return { supported: undefined, error: e };
      }
    });
  } catch (e) {
    return { supported: undefined, error: e };
  }
}

/** Kernel release as [major, minor]. */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`cannot parse kernel release ${release}`);
  return [Number(m[1]), Number(m[2])];
}
