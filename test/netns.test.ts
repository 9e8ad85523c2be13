// Namespaces: named (bind-mounted under the netns dir like `ip netns add`), anonymous (held by a
// handle), opened by every kind of reference, deleted, closed; and the errors for missing ones.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  configure,
  createBridge,
  createNetns,
  deleteNetns,
  getLink,
  listLinks,
  listNetns,
  NlkitError,
  openNetns,
  type NetnsHandle,
} from '../lib/index';
import { expectInvalidArgument, expectNlkitError, expectSystemError, rejectionOf } from './helpers/expect';
import { ipLink, ipLinkOrThrow, ipLinks, ipNetnsList } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qns');
const res = new Resources(names);
const NETNS_DIR = '/run/netns';

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  configure({ netnsDir: NETNS_DIR });
  await expectNoLeftovers(names);
});

/** The namespace inode a path (bind mount, /proc/.../ns/net, /proc/self/fd/N) refers to. */
function nsInode(path: string): number {
  return statSync(path).ino;
}

function selfNsInode(): number {
  const m = /^net:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/net'));
  if (!m) throw new Error('cannot read /proc/self/ns/net');
  return Number(m[1]);
}

describe('named namespaces', () => {
  it('createNetns(name) is visible to ip netns list, listNetns and ip -n NAME; it starts with only lo', async () => {
    const name = names.netns();
    res.trackNetnsName(name);
    const h = res.trackHandle(await createNetns(name));
    expect(h.name).toBe(name);
    expect(h.closed).toBe(false);
    expect(typeof h.path).toBe('string');
    expect(existsSync(`${NETNS_DIR}/${name}`)).toBe(true);
    // The handle, the bind mount and a fresh namespace: the same, and not ours.
    expect(nsInode(h.path)).toBe(nsInode(`${NETNS_DIR}/${name}`));
    expect(nsInode(h.path)).not.toBe(selfNsInode());
    expect(ipNetnsList()).toContain(name);
    expect(await listNetns()).toContain(name);
    const links = ipLinks(name);
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect((await listLinks({ netns: h })).map((l) => l.name)).toEqual(['lo']);
  });

  it('deleteNetns removes it from ip netns list, listNetns and the netns dir; using it then gives ENOENT', async () => {
    const name = names.netns();
    res.trackNetnsName(name);
    const h = await createNetns(name);
    h.close();
    await createBridge('br0', { netns: name });
    expect(ipLinkOrThrow('br0', name).linkinfo?.info_kind).toBe('bridge');
    await deleteNetns(name);
    expect(ipNetnsList()).not.toContain(name);
    expect(await listNetns()).not.toContain(name);
    expect(existsSync(`${NETNS_DIR}/${name}`)).toBe(false);
    await expectSystemError(() => getLink('lo', { netns: name }), 'ENOENT');
    await expectSystemError(() => openNetns(name), 'ENOENT');
    await expectSystemError(() => deleteNetns(name), 'ENOENT');
  });

  it('closing the handle of a named namespace does not delete the namespace', async () => {
    const ns = await res.netns();
    await createBridge('br0', { netns: ns });
    ns.close();
    expect(ns.closed).toBe(true);
    expect(ipNetnsList()).toContain(ns.name);
    expect(ipLinkOrThrow('br0', ns.name).linkinfo?.info_kind).toBe('bridge');
    expect((await getLink('br0', { netns: ns.name })).kind).toBe('bridge');
  });

  it('createNetns on an existing name fails with EEXIST and leaves the existing namespace intact', async () => {
    const ns = await res.netns();
    const br = await createBridge('br0', { netns: ns });
    const err = await expectNlkitError(() => createNetns(ns.name));
    expect(err.code).toBe('EEXIST');
    // Still the same namespace, with its bridge.
    expect(ipLinkOrThrow('br0', ns.name).ifindex).toBe(br.index);
    expect((await getLink('br0', { netns: ns.name })).index).toBe(br.index);
    expect(nsInode(`${NETNS_DIR}/${ns.name}`)).toBe(nsInode(ns.path));
  });

  it('two named namespaces are separate', async () => {
    const a = await res.netns('a');
    const b = await res.netns('b');
    expect(nsInode(a.path)).not.toBe(nsInode(b.path));
    await createBridge('only-a', { netns: a });
    expect(ipLink('only-a', a.name)).toBeDefined();
    expect(ipLink('only-a', b.name)).toBeUndefined();
    expect((await listLinks({ netns: b })).map((l) => l.name)).toEqual(['lo']);
  });
});

describe('anonymous namespaces', () => {
  it('createNetns() without a name: usable through the handle, not listed anywhere', async () => {
    const before = await listNetns();
    const h = await res.anonNetns();
    expect(h.name).toBeUndefined();
    expect(h.closed).toBe(false);
    expect(typeof h.path).toBe('string');
    const name = res.link('an');
    const br = await createBridge(name, { netns: h });
    expect((await getLink(name, { netns: h })).index).toBe(br.index);
    // Not the default namespace, and no entry of the netns dir holds it (other files add and
    // remove theirs meanwhile, so look at each entry rather than compare the lists).
    expect(ipLink(name)).toBeUndefined();
    for (const n of [...before, ...(await listNetns())]) {
      let there = false;
      try {
        there = (await listLinks({ netns: n })).some((l) => l.name === name);
      } catch {
        there = false; // deleted by its file meanwhile
      }
      expect(there).toBe(false);
    }
  });

  it('close() releases it; the closed handle then rejects with a typed error', async () => {
    const h = await createNetns();
    await createBridge('br0', { netns: h });
    h.close();
    expect(h.closed).toBe(true);
    await expectNlkitError(() => getLink('br0', { netns: h }));
    await expectNlkitError(() => createBridge('br1', { netns: h }));
    await expectNlkitError(() => listLinks({ netns: h }));
    // The default namespace is not where the closed handle's calls went.
    expect(ipLink('br1')).toBeUndefined();
  });

  it('[Symbol.dispose]() closes it', async () => {
    const h = await createNetns();
    expect(typeof h[Symbol.dispose]).toBe('function');
    h[Symbol.dispose]();
    expect(h.closed).toBe(true);
    await expectNlkitError(() => getLink('lo', { netns: h }));
  });

  it('[Symbol.dispose]() on a named handle closes the handle, not the namespace', async () => {
    const ns = await res.netns();
    ns[Symbol.dispose]();
    expect(ns.closed).toBe(true);
    expect(ipNetnsList()).toContain(ns.name);
    expect(ipLinks(ns.name).map((l) => l.ifname)).toEqual(['lo']);
  });
});

describe('openNetns', () => {
  it('by name, absolute path, {path}, {name}, and by handle: all the same namespace', async () => {
    const ns = await res.netns();
    await createBridge('mark0', { netns: ns });
    const refs = [ns.name, `${NETNS_DIR}/${ns.name}`, { path: `${NETNS_DIR}/${ns.name}` }, { name: ns.name }, ns];
    for (const ref of refs) {
      const h: NetnsHandle = res.trackHandle(await openNetns(ref));
      expect(h.closed).toBe(false);
      expect(nsInode(h.path)).toBe(nsInode(`${NETNS_DIR}/${ns.name}`));
      expect((await getLink('mark0', { netns: h })).kind).toBe('bridge');
      if (h !== ns) {
        h.close();
        // Closing an opened handle leaves the namespace (and the creating handle) alone.
        expect(ipNetnsList()).toContain(ns.name);
        expect(ns.closed).toBe(false);
        expect((await getLink('mark0', { netns: ns })).kind).toBe('bridge');
      }
    }
  });

  it('by { pid: process.pid }: the namespace this process runs in', async () => {
    const h = res.trackHandle(await openNetns({ pid: process.pid }));
    expect(nsInode(h.path)).toBe(selfNsInode());
    const name = res.link('pid');
    const br = await createBridge(name, { netns: h });
    expect(ipLinkOrThrow(name).ifindex).toBe(br.index);
    expect((await getLink(name)).index).toBe(br.index);
  });

  it('by /proc/self/ns/net as a path', async () => {
    const h = res.trackHandle(await openNetns('/proc/self/ns/net'));
    expect(nsInode(h.path)).toBe(selfNsInode());
  });

  it('an opened handle keeps working after the named namespace is deleted', async () => {
    const name = names.netns();
    res.trackNetnsName(name);
    (await createNetns(name)).close();
    await createBridge('keep0', { netns: name });
    const h = res.trackHandle(await openNetns(name));
    await deleteNetns(name);
    expect(ipNetnsList()).not.toContain(name);
    // The namespace lives on through the handle's fd.
    expect((await getLink('keep0', { netns: h })).kind).toBe('bridge');
    h.close();
  });
});

describe('missing namespaces and bad references', () => {
  it('unknown name, path, {name}, {path}, {pid}: SystemError ENOENT (not a NetlinkError)', async () => {
    const missing = `${names.nsPrefix}missing`;
    await expectSystemError(() => openNetns(missing), 'ENOENT');
    await expectSystemError(() => openNetns({ name: missing }), 'ENOENT');
    await expectSystemError(() => openNetns(`${NETNS_DIR}/${missing}`), 'ENOENT');
    await expectSystemError(() => openNetns({ path: '/nonexistent/ns/net' }), 'ENOENT');
    await expectSystemError(() => openNetns({ pid: 2147483646 }), 'ENOENT');
    await expectSystemError(() => getLink('lo', { netns: missing }), 'ENOENT');
    await expectSystemError(() => listLinks({ netns: { name: missing } }), 'ENOENT');
    await expectSystemError(() => createBridge(res.link('x'), { netns: missing }), 'ENOENT');
    await expectSystemError(() => deleteNetns(missing), 'ENOENT');
    const err = await expectSystemError(() => openNetns(missing), 'ENOENT');
    expect(`${err.object} ${err.message}`).toContain(missing);
  });

  it('a namespace name with a slash, or empty, is an invalid argument for createNetns/deleteNetns', async () => {
    await expectInvalidArgument(() => createNetns('a/b'), /name/);
    await expectInvalidArgument(() => createNetns(''), /name/);
    await expectInvalidArgument(() => deleteNetns('a/b'), /name/);
    expect(ipNetnsList()).not.toContain('a');
  });

  it('an object reference names exactly one of pid, path or name; a handle of another nlkit copy is refused', async () => {
    const name = `${names.nsPrefix}one`;
    res.trackNetnsName(name);
    (await createNetns(name)).close();
    // Each of these once opened some namespace: the pid's (the process's own), or the path's.
    const e = await expectInvalidArgument(() => openNetns({ name, pid: process.pid } as never), /^ref$/);
    expect(e.message).toMatch(/one of pid, path or name, got 2/u);
    await expectInvalidArgument(() => openNetns({ name, path: '/proc/self/ns/net' } as never), /^ref$/);
    await expectInvalidArgument(() => openNetns({ pid: process.pid, nmae: 'x' } as never), /^ref\.nmae$/);
    await expectInvalidArgument(() => openNetns({} as never), /^ref$/);
    await expectInvalidArgument(() => listLinks({ netns: { name, pid: process.pid } as never }), /^opts\.netns$/);
    // What a NetnsHandle of a second copy looks like here: not this copy's class, a public path.
    const foreign = { name, path: `${NETNS_DIR}/${name}`, nativeId: () => 1 };
    const f = await expectInvalidArgument(() => listLinks({ netns: foreign as never }), /^opts\.netns$/);
    expect(f.message).toMatch(/another copy of nlkit/u);
    // One key, with others present but undefined, is still that one.
    const h = await openNetns({ name, path: undefined } as never);
    expect(nsInode(h.path)).toBe(nsInode(`${NETNS_DIR}/${name}`));
    h.close();
  });

  it('a path with a NUL is an invalid argument, not a shorter path opened', async () => {
    // open() would stop at the NUL: '/proc/self/ns/net\0x' would open the process's own namespace.
    await expectInvalidArgument(() => openNetns('/proc/self/ns/net\0x'), /^ref$/);
    await expectInvalidArgument(() => openNetns({ path: '/proc/self/ns/net\0x' }), /^ref\.path$/);
    await expectInvalidArgument(() => openNetns('relative/path'), /^ref$/);
    await expectInvalidArgument(async () => configure({ netnsDir: '/run/netns\0x' }), /^config\.netnsDir$/);
  });

  it('a non-integer or negative pid is an invalid argument', async () => {
    await expectInvalidArgument(() => openNetns({ pid: 1.5 }), /pid/);
    await expectInvalidArgument(() => openNetns({ pid: -4 }), /pid/);
  });

  it('errors are NlkitErrors with a code', async () => {
    const e = await rejectionOf(() => openNetns(`${names.nsPrefix}nope`));
    expect(e).toBeInstanceOf(NlkitError);
    expect((e as NlkitError).code).toBe('ENOENT');
  });
});

describe('a handle dropped without close()', () => {
  it('is closed when garbage-collected, with a warning: its namespace fd does not outlive it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warnings: (Error & { code?: string })[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      // Fds of namespaces other than the process's own (nlkit's threads hold that one too).
      const own = readlinkSync('/proc/self/ns/net');
      const otherNsFds = (): string[] => readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const to = readlinkSync(`/proc/self/fd/${fd}`);
          return to.startsWith('net:') && to !== own ? [`${fd} ${to}`] : [];
        } catch {
          return []; // closed meanwhile
        }
      });
      const before = otherNsFds().length;
      await (async () => {
        await createNetns(); // anonymous: only the handle holds it
      })();
      expect(otherNsFds().length).toBe(before + 1);
      for (let i = 0; i < 50 && warnings.length === 0; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(warnings.map((w) => w.code)).toContain('NLKIT_UNCLOSED_NETNS_HANDLE');
      expect(otherNsFds().length).toBe(before);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('deleteNetns never follows a symbolic link', () => {
  it('a link in the netns directory to a namespace: refused with EINVAL, and the namespace stays mounted', async () => {
    const target = `${names.nsPrefix}tgt`;
    const link = `${names.nsPrefix}lnk`;
    res.trackNetnsName(target);
    (await createNetns(target)).close();
    symlinkSync(`${NETNS_DIR}/${target}`, `${NETNS_DIR}/${link}`);
    try {
      const e = await expectSystemError(() => deleteNetns(link), 'EINVAL');
      expect(e.message).toMatch(/symbolic link/u);
      // umount2 would have followed the link and detached the target's mount.
      const h = await openNetns(target);
      expect(nsInode(h.path)).toBe(nsInode(`${NETNS_DIR}/${target}`));
      h.close();
      expect(ipNetnsList()).toContain(target);
      expect(lstatSync(`${NETNS_DIR}/${link}`).isSymbolicLink()).toBe(true);
    } finally {
      unlinkSync(`${NETNS_DIR}/${link}`);
    }
    await deleteNetns(target);
    expect(existsSync(`${NETNS_DIR}/${target}`)).toBe(false);
  });

  it('a handle names the directory the namespace was made in, even if configure() changes it meanwhile', async () => {
    const name = `${names.nsPrefix}cfg`;
    res.trackNetnsName(name);
    const creating = createNetns(name);
    configure({ netnsDir: '/nonexistent-nlkit-dir' });
    try {
      const h = await creating;
      expect(h.path).toBe(`${NETNS_DIR}/${name}`);
      h.close();
    } finally {
      configure({ netnsDir: NETNS_DIR });
    }
  });
});

/** Mount points of this process's mount namespace (the fifth field of mountinfo). */
function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' ')[4]!);
}

// `npm test` puts a private tmpfs over /run (bin/isolate.js): directories made there, and the
// self-bind mounts nlkit makes of a configured netns directory (as `ip netns add` does of its own),
// go with the test run's mount namespace. Outside the netns directory, so listNetns never shows them.
const SCRATCH = '/run';

describe('deleteNetns removes namespaces only', () => {
  it('a mount point that is not a namespace is refused and stays mounted; a leftover plain file goes', async () => {
    const parent = `${SCRATCH}/${names.nsPrefix}mnt`;
    const inner = `${parent}/inner`;
    const name = `${names.nsPrefix}in`;
    mkdirSync(inner, { recursive: true });
    try {
      configure({ netnsDir: inner });
      (await createNetns(name)).close(); // makes `inner` a mount point, as ip(8) does
      await deleteNetns(name);
      expect(mountPoints()).toContain(inner);
      // With netnsDir one level up, the name 'inner' is that mount: a detach would take it from
      // every process in this mount namespace.
      configure({ netnsDir: parent });
      const e = await expectSystemError(() => deleteNetns('inner'), 'EISDIR');
      expect(e.message).toMatch(/not a network namespace/u);
      expect(mountPoints()).toContain(inner);
      writeFileSync(`${parent}/leftover`, '');
      await deleteNetns('leftover');
      expect(existsSync(`${parent}/leftover`)).toBe(false);
    } finally {
      configure({ netnsDir: NETNS_DIR });
    }
  });
});

describe('configure({ netnsDir })', () => {
  it('named namespaces go to, are listed from, opened and deleted in the configured directory', async () => {
    const sub = `${names.nsPrefix}dir`;
    const dir = `${SCRATCH}/${sub}`;
    mkdirSync(dir);
    const name = `${names.nsPrefix}alt`;
    try {
      configure({ netnsDir: dir });
      const h = await createNetns(name);
      h.close();
      expect(existsSync(`${dir}/${name}`)).toBe(true);
      expect(existsSync(`${NETNS_DIR}/${name}`)).toBe(false);
      expect(await listNetns()).toEqual([name]);
      await createBridge('alt0', { netns: name });
      // iproute2 resolves `-n` under /run/netns, so `../sub/name` reaches the same mount.
      expect(ipLinkOrThrow('alt0', `../${sub}/${name}`).linkinfo?.info_kind).toBe('bridge');
      expect((await getLink('alt0', { netns: `${dir}/${name}` })).kind).toBe('bridge');
      await deleteNetns(name);
      expect(existsSync(`${dir}/${name}`)).toBe(false);
      expect(await listNetns()).toEqual([]);
    } finally {
      // Only when the test failed half-way is the namespace still there.
      if (existsSync(`${dir}/${name}`)) {
        configure({ netnsDir: dir });
        await deleteNetns(name).catch(() => undefined);
      }
      // The directory stays: like `ip netns add`, nlkit made it a (shared, self-bound) mount point,
      // which nlkit never unmounts and a test cannot; it goes with the run's scratch /run.
      configure({ netnsDir: NETNS_DIR });
    }
    expect(await listNetns()).not.toContain(name);
  });
});
