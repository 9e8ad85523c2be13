// Faults at every step. Each multi-step operation runs once per netlink round trip it makes, with
// that round trip failing (native.injectFault, netlink/fault_injection.h: the request never
// reaches the kernel and comes back refused with EBUSY), and must then leave nothing half-made:
// checked with ip -j and nft -j in the namespaces involved.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as nl from '../lib/index';
import { addPortMapping, attachContainer, createBridge, ensureBridge, getLink, getSysctl, listPortMappings, NetlinkError } from '../lib/index';
import { native } from '../lib/native';
import { ipAddrsOf, ipLinkOrThrow, ipLinks } from './helpers/ip';
import { namer } from './helpers/names';
import type { Ns } from './helpers/nat-topology';
import { expectNoLeftovers, Resources } from './helpers/resources';

const EBUSY = 16;
const names = namer('qfi');
const res = new Resources(names);
afterEach(async () => {
  native.injectFault({ after: 0, errno: 0 });
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/**
 * Runs `op` with its k-th round trip failing, for k = 1, 2, ... until a run makes fewer than k
 * round trips (and so succeeds untouched). After each failed run, `check` looks at what is left.
 * Returns the number of round trips the operation makes.
 */
async function failEachStep(
  op: (k: number) => Promise<unknown>,
  check: (k: number) => Promise<void> | void,
  operation?: string,
): Promise<number> {
  for (let k = 1; k <= 64; k++) {
    native.injectFault({ after: k, errno: EBUSY });
    let error: unknown;
    try {
      await op(k);
    } catch (e) {
      error = e;
    }
    const notReached = native.injectFault({ after: 0, errno: 0 });
    if (error === undefined) {
      expect(notReached, `step ${k}: succeeded, so the fault was never reached`).toBeGreaterThan(0);
      return k - 1;
    }
    // The injected refusal itself, not some other failure it caused.
    expect(error, `step ${k}`).toBeInstanceOf(NetlinkError);
    expect((error as NetlinkError).code, `step ${k}`).toBe('EBUSY');
    // Named by the caller's operation, whichever internal step failed (reading the generation,
    // dumping rules, the batch).
    if (operation !== undefined) expect((error as NetlinkError).operation, `step ${k}`).toBe(operation);
    expect(notReached, `step ${k}`).toBe(0);
    await check(k);
  }
  throw new Error('no operation makes 64 round trips');
}

function linkNames(ns: Ns): string[] {
  return ipLinks(ns.name).map((l) => l.ifname).sort();
}

function nftRuleset(ns: Ns): unknown[] {
  const out = execFileSync('ip', ['netns', 'exec', ns.name, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' });
  return (JSON.parse(out) as { nftables: Record<string, unknown>[] }).nftables.filter((e) => !('metainfo' in e));
}

describe('a failure at any step leaves nothing half-made', () => {
  it('attachContainer (bridge by name, hairpin, isolation and an owner tag: four round trips)', async () => {
    const host = await res.netns('h');
    await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host });
    const before = linkNames(host);
    const containers: Ns[] = [];
    for (let k = 1; k <= 8; k++) containers.push(await res.netns(`c${k}`));
    const steps = await failEachStep(
      (k) =>
        attachContainer({
          netns: containers[k - 1]!, hostNetns: host, bridge: 'br0', hostIfname: `vfi${k}`,
          addresses: ['10.88.0.2/16'], gateway: '10.88.0.1', hairpin: true, isolated: true, owner: `ctr-${k}`,
        }),
      (k) => {
        expect(linkNames(host), `host after step ${k} failed`).toEqual(before);
        expect(linkNames(containers[k - 1]!), `container after step ${k} failed`).toEqual(['lo']);
      },
    );
    expect(steps).toBe(4);
  });

  it('ensureBridge creating the bridge (up to the localnet guard: nine round trips)', async () => {
    const hosts: Ns[] = [];
    for (let k = 1; k <= 12; k++) hosts.push(await res.netns(`e${k}`));
    const steps = await failEachStep(
      (k) => ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', 'fd00::1/64'], routeLocalnet: true, netns: hosts[k - 1]! }),
      (k) => {
        expect(linkNames(hosts[k - 1]!), `after step ${k} failed`).toEqual(['lo']);
        expect(nftRuleset(hosts[k - 1]!), `after step ${k} failed`).toEqual([]);
      },
    );
    // getLink, create, list addresses, two adds, up, and the guard's generation, rules and batch.
    expect(steps).toBe(9);
  });

  it('ensureBridge on an existing bridge removes only the addresses it added', async () => {
    const host = await res.netns('x');
    await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host });
    const addresses = () =>
      (JSON.parse(execFileSync('ip', ['-j', '-n', host.name, 'addr', 'show', 'dev', 'br0'], { encoding: 'utf8' })) as { addr_info: { local: string; scope: string }[] }[])[0]!
        .addr_info.filter((a) => a.scope === 'global')
        .map((a) => a.local)
        .sort();
    const steps = await failEachStep(
      () => ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', '10.89.0.1/16', 'fd00::1/64'], netns: host }),
      (k) => expect(addresses(), `after step ${k} failed`).toEqual(['10.88.0.1']),
    );
    expect(steps).toBe(5); // getLink, list addresses, two adds, the change pinning its MAC (already up)
    expect(addresses()).toEqual(['10.88.0.1', '10.89.0.1', 'fd00::1']);
  });

  it('ensureBridge on an existing bridge puts back what it changed: up, MTU, forwarding, route_localnet', async () => {
    const host = await res.netns('r');
    await createBridge('br0', { netns: host, mtu: 1500 });
    const state = async () => ({
      up: (await getLink('br0', { netns: host })).up,
      mtu: ipLinkOrThrow('br0', host.name).mtu,
      forward: await getSysctl('net.ipv4.ip_forward', { netns: host }),
      localnet: await getSysctl(['net', 'ipv4', 'conf', 'br0', 'route_localnet'], { netns: host }),
    });
    const before = await state();
    expect(before).toEqual({ up: false, mtu: 1500, forward: '0', localnet: '0' });
    const steps = await failEachStep(
      () => ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], mtu: 1400, routeLocalnet: true, netns: host }),
      async (k) => {
        expect(await state(), `after step ${k} failed`).toEqual(before);
        expect(ipAddrsOf('br0', host.name).filter((a) => a.scope === 'global'), `after step ${k} failed`).toEqual([]);
      },
    );
    // getLink, list addresses, the add, up and MTU, then the localnet guard's generation, rules and batch.
    expect(steps).toBe(7);
    expect(await state()).toEqual({ up: true, mtu: 1400, forward: '1', localnet: '1' });
  });

  it('addPortMapping, the first one (which creates the table, chains, maps and rules)', async () => {
    const host = await res.netns('p');
    const spec = { protocol: 'tcp' as const, hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, netns: host };
    const steps = await failEachStep(
      () => addPortMapping(spec),
      (k) => expect(nftRuleset(host), `after step ${k} failed`).toEqual([]),
      'addPortMapping',
    );
    expect(steps).toBe(3); // generation, rules, one atomic batch
    expect(await listPortMappings({ netns: host })).toHaveLength(1);

    const removeSteps = await failEachStep(
      () => nl.removePortMapping(spec),
      async (k) => expect(await listPortMappings({ netns: host }), `after step ${k} failed`).toHaveLength(1),
      'removePortMapping',
    );
    expect(removeSteps).toBe(3); // generation, the element, one atomic batch
    expect(await listPortMappings({ netns: host })).toEqual([]);
  });

  it('addMasquerade, removeMasquerade and the isolation calls name themselves in errors at every step', async () => {
    const host = await res.netns('m');
    const spec = { source: '10.88.0.0/16', excludeInterface: 'br0', netns: host };
    const kinds = async () => (await nl.listNat({ netns: host })).map((r) => r.kind).sort();
    expect(await failEachStep(() => nl.addMasquerade(spec), async () => expect(nftRuleset(host)).toEqual([]), 'addMasquerade')).toBe(3);
    expect(await kinds()).toEqual(['hairpin', 'masquerade']);
    expect(await failEachStep(() => nl.removeMasquerade(spec), async () => expect(await kinds()).toEqual(['hairpin', 'masquerade']), 'removeMasquerade')).toBe(3);
    expect(await kinds()).toEqual([]);
    await failEachStep(() => nl.addNetworkIsolation({ bridge: 'br0', netns: host }), () => {}, 'addNetworkIsolation');
    await failEachStep(() => nl.removeNetworkIsolation({ bridge: 'br0', netns: host }), () => {}, 'removeNetworkIsolation');
  });
});

describe('the world changing underneath: a clear error or a bounded retry, never a hang', () => {
  it('ENOBUFS on a dump (the kernel dropped replies) is a NetlinkError, and the next call works', async () => {
    const ns = await res.netns('nb');
    const ENOBUFS = 105;
    native.injectFault({ after: 1, errno: ENOBUFS });
    const err = await nl.listLinks({ netns: ns }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('ENOBUFS');
    expect((await nl.listLinks({ netns: ns })).map((l) => l.name)).toEqual(['lo']);
  });

  it('a namespace deleted while in use: its handle keeps it working; by path it is ENOENT; a closed handle says so', async () => {
    const ns = await res.netns('gone');
    const path = ns.path;
    await nl.deleteNetns(ns.name!); // unmounted and unlinked, but this handle still holds it
    expect((await nl.getLink('lo', { netns: ns })).name).toBe('lo');
    await nl.createBridge('br0', { netns: ns });
    const byPath = await nl.getLink('lo', { netns: path }).catch((e: unknown) => e);
    expect(byPath).toBeInstanceOf(nl.SystemError);
    expect((byPath as nl.SystemError).code).toBe('ENOENT');
    ns.close();
    const closed = await nl.getLink('lo', { netns: ns }).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(nl.InvalidArgumentError); // refused before anything is sent
    expect((closed as nl.InvalidArgumentError).message).toMatch(/closed/u);
  });

  it('a bridge removed by someone else while ensureBridge and attachContainer run: success or ENODEV, nothing half-made', async () => {
    const host = await res.netns('race');
    const c = await res.netns('rc');
    const outcomes = new Set<string>();
    for (let round = 0; round < 15; round++) {
      const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host });
      const results = await Promise.allSettled([
        ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', '10.89.0.1/16'], netns: host }),
        attachContainer({ netns: c, hostNetns: host, bridge: link.index, hostIfname: 'vr0', addresses: ['10.88.0.2/16'] }),
        nl.deleteLink(link.index, { netns: host }),
      ]);
      for (const r of results.slice(0, 2)) {
        if (r.status === 'fulfilled') outcomes.add('ok');
        else {
          expect(r.reason).toBeInstanceOf(nl.NlkitError);
          outcomes.add((r.reason as nl.NlkitError).code);
        }
      }
      // Whatever happened, the veth is whole (both ends) or absent (neither), and is then removed.
      const hostHas = linkNames(host).includes('vr0');
      const containerHas = linkNames(c).includes('eth0');
      expect(hostHas).toBe(containerHas);
      if (hostHas) await nl.deleteLink('vr0', { netns: host });
      await nl.deleteLink('br0', { netns: host }).catch(() => undefined);
    }
    for (const code of outcomes) expect(['ok', 'ENODEV', 'EEXIST', 'ENOENT', 'EINVAL']).toContain(code);
  }, 60_000);
});
