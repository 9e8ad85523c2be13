// Crash leftovers: what nlkit makes for a container given an owner carries its id (the host veth's
// alias, the port mapping's element comment), and sweep({ keep }) removes what belongs to
// containers that no longer exist, and nothing else. Witnessed with ip -j and nft. Also: sweep and
// ensureBridge, each several calls, hold one namespace when given it by name.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  addPortMapping,
  attachContainer,
  createNetns,
  createVethPair,
  deleteNetns,
  detachContainer,
  ensureBridge,
  listLinks,
  listPortMappings,
  NetlinkError,
  sweep,
  type NetnsHandle,
} from '../lib/index';
import { native } from '../lib/native';
import { expectInvalidArgument } from './helpers/expect';
import { ipLinkOrThrow, ipLinks } from './helpers/ip';
import { namer } from './helpers/names';
import type { Ns } from './helpers/nat-topology';
import { expectNoLeftovers, Resources } from './helpers/resources';

// listLinks and getLink, with a hook a test can set to run once right after the first of them
// answers: the moment a namespace re-created by name would split a multi-call operation (sweep,
// ensureBridge) between two namespaces.
const hooks = vi.hoisted(() => ({ afterRead: undefined as undefined | (() => Promise<void>) }));
vi.mock('../lib/links', async (importOriginal) => {
  const links = await importOriginal<typeof import('../lib/links')>();
  const thenHook = async <T>(read: Promise<T>): Promise<T> => {
    try {
      return await read;
    } finally {
      const hook = hooks.afterRead;
      hooks.afterRead = undefined;
      if (hook) await hook();
    }
  };
  return {
    ...links,
    listLinks: ((...args) => thenHook(links.listLinks(...args))) as typeof links.listLinks,
    getLink: ((...args) => thenHook(links.getLink(...args))) as typeof links.getLink,
  };
});

const names = namer('qsw');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

describe('owner tags and sweep', () => {
  it('detachContainer with owner is the whole teardown: the veth and the mappings added with that owner, nothing else', async () => {
    const host = await res.netns('dh');
    const { link } = await ensureBridge({ name: 'br0', addresses: ['10.87.0.1/16'], netns: host });
    const c1 = await res.netns('d1');
    const c2 = await res.netns('d2');
    const a1 = await attachContainer({ netns: c1, hostNetns: host, bridge: link.index, addresses: ['10.87.0.2/16'], owner: 'one' });
    await attachContainer({ netns: c2, hostNetns: host, bridge: link.index, addresses: ['10.87.0.3/16'], owner: 'two' });
    await addPortMapping({ protocol: 'tcp', hostPort: 8101, containerIp: '10.87.0.2', containerPort: 80, owner: 'one', netns: host });
    await addPortMapping({ protocol: 'udp', hostPort: 8102, containerIp: '10.87.0.2', containerPort: 53, owner: 'one', netns: host });
    await addPortMapping({ protocol: 'tcp', hostPort: 8103, containerIp: '10.87.0.3', containerPort: 80, owner: 'two', netns: host });
    await addPortMapping({ protocol: 'tcp', hostPort: 8104, containerIp: '10.87.0.2', containerPort: 81, netns: host }); // untagged

    const r = await detachContainer({ netns: c1, hostNetns: host, owner: 'one' });
    expect(r.portMappings.map((m) => m.hostPort).sort()).toEqual([8101, 8102]);
    expect(ipLinks(host.name).map((l) => l.ifname)).not.toContain(a1.host.name);
    expect((await listPortMappings({ netns: host })).map((m) => m.hostPort).sort()).toEqual([8103, 8104]);
    const ruleset = execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'table', 'inet', 'nlkit'], { encoding: 'utf8' });
    expect(ruleset).not.toContain('nlkit:one');
    expect(ruleset).toContain('nlkit:two');
    // Again (a retry after a failure): nothing left to do, no error.
    expect(await detachContainer({ netns: c1, hostNetns: host, owner: 'one' })).toEqual({ portMappings: [] });
    // From the host end, the same.
    const two = (await listLinks({ netns: host, kind: 'veth' }))[0]!;
    expect((await detachContainer({ hostIfname: two.name, hostNetns: host, owner: 'two' })).portMappings.map((m) => m.hostPort)).toEqual([8103]);
    expect(ipLinks(c2.name).map((l) => l.ifname)).toEqual(['lo']);
    await expectInvalidArgument(() => detachContainer({ netns: c1, hostNetns: host, owner: '' }), /^owner$/u);
  });

  it('tags host veths and port mappings with the container id; sweep removes those of containers not kept', async () => {
    const host = await res.netns('h');
    const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host });
    const made: Record<string, { ns: Ns; hostName: string }> = {};
    for (const [i, owner] of ['ctr-1', 'ctr-2', undefined].entries()) {
      const ns = await res.netns(`c${i}`);
      const r = await attachContainer({
        netns: ns, hostNetns: host, bridge: link.index, addresses: [`10.88.0.${i + 2}/16`], gateway: '10.88.0.1',
        ...(owner !== undefined ? { owner } : {}),
      });
      made[owner ?? 'none'] = { ns, hostName: r.host.name };
    }
    // The tag, as ip shows it.
    expect(ipLinkOrThrow(made['ctr-1']!.hostName, host.name).ifalias).toBe('nlkit:ctr-1');
    expect(ipLinkOrThrow(made.none!.hostName, host.name).ifalias).toBeUndefined();

    await addPortMapping({ protocol: 'tcp', hostPort: 8001, containerIp: '10.88.0.2', containerPort: 80, owner: 'ctr-1', netns: host });
    await addPortMapping({ protocol: 'tcp', hostPort: 8002, containerIp: '10.88.0.3', containerPort: 80, owner: 'ctr-2', netns: host });
    await addPortMapping({ protocol: 'udp', hostPort: 8003, containerIp: '10.88.0.4', containerPort: 53, netns: host });
    expect((await listPortMappings({ netns: host })).map((m) => [m.hostPort, m.owner]).sort()).toEqual([[8001, 'ctr-1'], [8002, 'ctr-2'], [8003, undefined]]);
    const map = execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'map', 'inet', 'nlkit', 'tcp4_any'], { encoding: 'utf8' });
    expect(map).toContain('8001 comment "nlkit:ctr-1" : 10.88.0.2 . 80');

    // The launcher restarts; only ctr-2 still runs.
    const swept = await sweep({ keep: ['ctr-2'], netns: host });
    expect(swept.links).toEqual([{ name: made['ctr-1']!.hostName, owner: 'ctr-1' }]);
    expect(swept.portMappings.map((m) => m.hostPort)).toEqual([8001]);
    const hostLinks = ipLinks(host.name).map((l) => l.ifname);
    expect(hostLinks).not.toContain(made['ctr-1']!.hostName);
    expect(hostLinks).toContain(made['ctr-2']!.hostName);
    expect(hostLinks).toContain(made.none!.hostName); // untagged: never the sweeper's
    expect(ipLinks(made['ctr-1']!.ns.name).map((l) => l.ifname)).toEqual(['lo']); // eth0 went with its peer
    expect((await listPortMappings({ netns: host })).map((m) => m.hostPort).sort()).toEqual([8002, 8003]);

    expect(await sweep({ keep: ['ctr-2'], netns: host })).toEqual({ links: [], portMappings: [], failed: [] });
    // Keeping none removes every tagged object, and still nothing untagged.
    const all = await sweep({ keep: [], netns: host });
    expect(all.links.map((l) => l.owner)).toEqual(['ctr-2']);
    expect((await listPortMappings({ netns: host })).map((m) => m.hostPort)).toEqual([8003]);
    expect(ipLinks(host.name).map((l) => l.ifname)).toContain(made.none!.hostName);
  });

  it('goes on past a removal the kernel refuses, and reports it with its error', async () => {
    const host = await res.netns('f');
    const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host });
    const hostNames: string[] = [];
    for (const i of [1, 2]) {
      const r = await attachContainer({ netns: await res.netns(`f${i}`), hostNetns: host, bridge: link.index, addresses: [`10.88.0.${i + 1}/16`], owner: `gone-${i}` });
      hostNames.push(r.host.name);
    }
    await addPortMapping({ protocol: 'tcp', hostPort: 8001, containerIp: '10.88.0.2', containerPort: 80, owner: 'gone-1', netns: host });
    // Round trip 1 lists the links, 2 deletes the first tagged one: refused.
    native.injectFault({ after: 2, errno: 16 /* EBUSY */ });
    let swept;
    try {
      swept = await sweep({ keep: [], netns: host });
    } finally {
      native.injectFault({ after: 0, errno: 0 });
    }
    expect(swept.failed).toHaveLength(1);
    const [failure] = swept.failed;
    expect(failure!.error).toBeInstanceOf(NetlinkError);
    expect((failure!.error as NetlinkError).code).toBe('EBUSY');
    // The other link and the mapping went all the same.
    expect(swept.links).toHaveLength(1);
    expect([...swept.links.map((l) => l.name), failure!.link].sort()).toEqual([...hostNames].sort());
    expect(swept.portMappings.map((m) => m.hostPort)).toEqual([8001]);
    expect(ipLinks(host.name).map((l) => l.ifname)).toContain(failure!.link);
    // What failed is what the next sweep removes.
    const again = await sweep({ keep: [], netns: host });
    expect(again).toEqual({ links: [{ name: failure!.link, owner: failure!.owner }], portMappings: [], failed: [] });
  });

  it('rejects bad owners and keep lists before anything is sent', async () => {
    const host = await res.netns('bad');
    await expectInvalidArgument(() => sweep({ keep: 'ctr-1' as never, netns: host }), /^keep$/u);
    await expectInvalidArgument(() => sweep({ keep: ['ok', ''], netns: host }), /^keep\[1\]$/u);
    await expectInvalidArgument(
      () => addPortMapping({ protocol: 'tcp', hostPort: 8001, containerIp: '10.88.0.2', containerPort: 80, owner: 'a\nb', netns: host }),
      /^owner$/u,
    );
    await expectInvalidArgument(() => attachContainer({ netns: host, bridge: 1, owner: 'x'.repeat(201) }), /^owner$/u);
    expect(execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }).trim()).toBe('');
  });
});

describe('multi-call operations hold their namespace', () => {
  /** A named namespace that is deleted and made again (empty but for `then`) once the hook fires. */
  async function recreatedOnRead(tag: string, then: (fresh: NetnsHandle) => Promise<unknown>): Promise<{ name: string; old: NetnsHandle }> {
    const name = names.netns(tag);
    res.trackNetnsName(name);
    const old = await createNetns(name);
    hooks.afterRead = async () => {
      await deleteNetns(name);
      const fresh = await createNetns(name);
      await then(fresh);
      fresh.close();
    };
    return { name, old };
  }

  it('sweep: a namespace re-created by name meanwhile does not have its links deleted by the old ones\' ifindexes', async () => {
    // Same indexes as the old pair's (2 and 3 after lo), untagged: the user's, not nlkit's.
    const { name, old } = await recreatedOnRead('re', (fresh) => createVethPair({ name: 'user0', peer: { name: 'user1' }, netns: fresh }));
    await createVethPair({ name: 'old0', alias: 'nlkit:gone', peer: { name: 'old1' }, netns: old });
    old.close();
    const swept = await sweep({ keep: [], netns: name });
    expect(hooks.afterRead).toBeUndefined(); // the hook ran
    expect(swept.links).toEqual([{ name: 'old0', owner: 'gone' }]);
    expect(ipLinks(name).map((l) => l.ifname).sort()).toEqual(['lo', 'user0', 'user1']);
  });

  it('ensureBridge: every step acts in the namespace its first step looked in', async () => {
    const { name, old } = await recreatedOnRead('eb', async () => undefined);
    old.close();
    const r = await ensureBridge({ name: 'br0', addresses: ['10.89.0.1/16'], netns: name });
    expect(hooks.afterRead).toBeUndefined();
    expect(r.created).toBe(true);
    // Made in the namespace that was there when it looked (gone with it now), not in its successor.
    expect(ipLinks(name).map((l) => l.ifname)).toEqual(['lo']);
  });
});
