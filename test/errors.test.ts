// Error paths and the shape of every error nlkit throws: NetlinkError for what the kernel refuses
// (with its errno name, the operation, the object and the kernel's extended-ack text when it sends
// one), InvalidArgumentError for input refused before anything reaches the kernel, SystemError for
// namespaces that cannot be opened.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addMasquerade,
  addNeighbor,
  addNetworkIsolation,
  addPortMapping,
  addRoute,
  attachContainer,
  createBridge,
  createLink,
  createVethPair,
  deleteLink,
  deleteNeighbor,
  deleteRoute,
  detachContainer,
  enslave,
  ensureBridge,
  getLink,
  InvalidArgumentError,
  NetlinkError,
  NlkitError,
  ProtocolError,
  removeMasquerade,
  removeNetworkIsolation,
  removePortMapping,
  replaceRoute,
  setLink,
  sweep,
  SystemError,
  type CreateLinkSpec,
} from '../lib/index';
import {
  expectInvalidArgument,
  expectNetlinkError,
  expectNetlinkShape,
  rejectionOf,
} from './helpers/expect';
import { fromNative } from '../lib/errors';
import { ipLink, ipLinkOrThrow, ipLinks, ipRoutes } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qer');
const res = new Resources(names);

afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

describe('error classes', () => {
  it('are exported and form a hierarchy under NlkitError', () => {
    for (const C of [InvalidArgumentError, NetlinkError, SystemError, ProtocolError]) {
      expect(typeof C).toBe('function');
      expect(C.prototype).toBeInstanceOf(NlkitError);
      expect(C.prototype).toBeInstanceOf(Error);
    }
  });

  it("name Linux errnos that libuv's table leaves out (ERESTART from a stale nftables batch, kernel-internal ENOTSUPP)", () => {
    const named = (errno: number) => new NetlinkError({ kind: 'netlink', errno, operation: 'op', object: 'obj' }).code;
    expect(named(85)).toBe('ERESTART');
    expect(named(524)).toBe('ENOTSUPP');
    expect(named(74)).toBe('EBADMSG');
    expect(named(95)).toBe('EOPNOTSUPP');
    expect(named(17)).toBe('EEXIST');
    expect(named(999)).toBe('E999'); // not an errno at all: still a code, never undefined
  });

  it('say plainly which privilege a permission refusal needs (the messages of an unprivileged run)', () => {
    // What a process without CAP_NET_ADMIN / CAP_SYS_ADMIN over the namespace gets (seen by running
    // nlkit under `unshare --user` inside the test namespace), as the native layer reports it.
    const link = new NetlinkError({ kind: 'netlink', errno: 1, operation: 'createLink', object: 'bridge br0' });
    expect(link.code).toBe('EPERM');
    expect(link.message).toMatch(/^createLink bridge br0: EPERM \(operation not permitted\); this needs CAP_NET_ADMIN in the user namespace that owns the network namespace/u);
    const sysctl = new SystemError({ kind: 'system', errno: 13, operation: 'setSysctl', object: 'net.ipv4.ip_forward = 1' });
    expect(sysctl.message).toContain('EACCES');
    expect(sysctl.message).toContain('CAP_NET_ADMIN');
    const netns = new SystemError({ kind: 'system', errno: 1, operation: 'mount --make-shared', object: '/run/netns' });
    expect(netns.message).toContain('needs CAP_SYS_ADMIN');
    // Any other refusal says nothing of privileges; nor does a netlink EACCES, which is the
    // kernel's answer to a route lookup that hits a prohibit route.
    expect(new NetlinkError({ kind: 'netlink', errno: 13, operation: 'getRoute', object: 'route to 10.82.1.1' }).message).not.toContain('CAP_');
    expect(new NetlinkError({ kind: 'netlink', errno: 17, operation: 'createLink', object: 'bridge br0' }).message).not.toContain('CAP_');
    // Nor binding a port below 1024 (CAP_NET_BIND_SERVICE, not a namespace matter) or a read.
    expect(new SystemError({ kind: 'system', errno: 13, operation: 'openSocket', object: 'tcp 0.0.0.0:80' }).message).not.toContain('CAP_');
    expect(new SystemError({ kind: 'system', errno: 13, operation: 'getSysctl', object: 'net.ipv4.ip_forward' }).message).not.toContain('CAP_');
    expect(new SystemError({ kind: 'system', errno: 1, operation: 'setns', object: 'netns /run/netns/x' }).message).toContain('needs CAP_SYS_ADMIN');
  });

  it('a ProtocolError names the call and object, as the other classes do', () => {
    const e = fromNative({ kind: 'protocol', operation: 'listLinks', object: 'links', detail: 'truncated ifinfomsg' });
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).message).toBe("listLinks links: nlkit could not decode the kernel's reply: truncated ifinfomsg");
  });
});

describe('EEXIST', () => {
  it('createBridge on an existing name: NetlinkError EEXIST naming the link; the existing one untouched', async () => {
    const name = res.link('br');
    const first = await createBridge(name, { mtu: 1400 });
    const err = await expectNetlinkError(() => createBridge(name, { mtu: 1300 }), 'EEXIST');
    expect(err.errno).not.toBe(0);
    expect(err.operation.length).toBeGreaterThan(0);
    expect(err.object).toContain(name);
    expect(err.message).toContain(name);
    expect(err.message).toContain('EEXIST');
    const ipl = ipLinkOrThrow(name);
    expect(ipl.ifindex).toBe(first.index);
    expect(ipl.mtu).toBe(1400);
    expect(ipLinks().filter((l) => l.ifname === name)).toHaveLength(1);
  });

  it('createVethPair whose peer name exists in the peer namespace: EEXIST, host end not created', async () => {
    const ns = await res.netns();
    await createBridge('eth0', { netns: ns });
    const host = res.link('vh');
    await expectNetlinkError(() => createVethPair({ name: host, peer: { name: 'eth0', netns: ns } }), 'EEXIST');
    expect(ipLink(host)).toBeUndefined();
    expect(ipLinkOrThrow('eth0', ns.name).linkinfo?.info_kind).toBe('bridge');
  });

  it('createLink of any kind on a taken name in a namespace: EEXIST', async () => {
    const ns = await res.netns();
    await createBridge('taken', { netns: ns });
    await expectNetlinkError(() => createLink({ kind: 'veth', name: 'taken', peer: { name: 'other' }, netns: ns }), 'EEXIST');
    await expectNetlinkError(() => createLink({ kind: 'vxlan', name: 'taken', vni: 1, netns: ns }), 'EEXIST');
    expect(ipLinks(ns.name).map((l) => l.ifname).sort()).toEqual(['lo', 'taken']);
  });
});

describe('ENODEV', () => {
  it('getLink, deleteLink, setLink on a missing name and a missing ifindex, in the default namespace and another', async () => {
    const ns = await res.netns();
    const missing = res.link('none');
    for (const opts of [{}, { netns: ns }]) {
      await expectNetlinkError(() => getLink(missing, opts), 'ENODEV');
      await expectNetlinkError(() => deleteLink(missing, opts), 'ENODEV');
      await expectNetlinkError(() => setLink(missing, { up: true }, opts), 'ENODEV');
      await expectNetlinkError(() => getLink(987654, opts), 'ENODEV');
      await expectNetlinkError(() => deleteLink(987654, opts), 'ENODEV');
      await expectNetlinkError(() => setLink(987654, { mtu: 1400 }, opts), 'ENODEV');
    }
    const err = await expectNetlinkError(() => getLink(missing), 'ENODEV');
    expect(err.object).toContain(missing);
    expect(err.message).toContain(missing);
  });

  it('a macvlan on a missing parent: ENODEV, nothing created', async () => {
    const ns = await res.netns();
    await expectNetlinkError(() => createLink({ kind: 'macvlan', name: 'mv0', parent: 'nosuch', netns: ns }), 'ENODEV');
    expect(ipLink('mv0', ns.name)).toBeUndefined();
  });

  it('a link deleted twice: the second delete is ENODEV', async () => {
    const name = res.link('br');
    await createBridge(name);
    await deleteLink(name);
    await expectNetlinkError(() => deleteLink(name), 'ENODEV');
  });
});

describe('extended ack', () => {
  it('enslaving a bridge to a bridge: ELOOP with the kernel\'s text in extack and in the message', async () => {
    const ns = await res.netns();
    await createBridge('br0', { netns: ns });
    await createBridge('br1', { netns: ns });
    const err = await expectNetlinkError(() => enslave('br1', 'br0', { netns: ns }), 'ELOOP');
    expect(typeof err.extack).toBe('string');
    expect(err.extack).toMatch(/can not enslave a bridge to a bridge/i);
    expect(err.message).toContain(err.extack ?? '\u0000');
    expect(ipLinkOrThrow('br1', ns.name).master).toBeUndefined();
  });

  it('a second vxlan with the same VNI and port: EEXIST with the kernel\'s text', async () => {
    const ns = await res.netns();
    await createLink({ kind: 'vxlan', name: 'vx0', vni: 77, port: 4789, netns: ns });
    const err = await expectNetlinkError(() => createLink({ kind: 'vxlan', name: 'vx1', vni: 77, port: 4789, netns: ns }), 'EEXIST');
    expect(err.extack).toMatch(/vni already exists/i);
    expect(err.message).toMatch(/vni already exists/i);
    expect(ipLink('vx1', ns.name)).toBeUndefined();
    expect(ipLinkOrThrow('vx0', ns.name).linkinfo?.info_kind).toBe('vxlan');
  });

  it('every NetlinkError collected from several refusals has code, errno, operation, object', async () => {
    const ns = await res.netns();
    await createBridge('br0', { netns: ns });
    await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns });
    const attempts: (() => Promise<unknown>)[] = [
      () => createBridge('br0', { netns: ns }),
      () => getLink('nope', { netns: ns }),
      () => deleteLink(4321, { netns: ns }),
      () => setLink('v0', { hairpin: true }, { netns: ns }),
      () => setLink('v0', { name: 'v1' }, { netns: ns }),
      () => enslave('v1', 'v0', { netns: ns }),
      () => enslave('br0', 'br0', { netns: ns }),
    ];
    for (const attempt of attempts) {
      const err = await rejectionOf(attempt);
      expectNetlinkShape(err);
      expect(err.stack).toBeTypeOf('string');
    }
  });
});

describe('invalid arguments are refused before anything reaches the kernel', () => {
  const sixteen = 'abcdefghijklmnop';

  it('a 16-byte name: InvalidArgumentError, nothing created (kernel would have said EINVAL)', async () => {
    expect(Buffer.byteLength(sixteen)).toBe(16);
    await expectInvalidArgument(() => createBridge(sixteen), /name/);
    expect(ipLink(sixteen.slice(0, 15))).toBeUndefined();
    // Bytes, not characters: 8 two-byte characters are 16 bytes.
    await expectInvalidArgument(() => createBridge('éééééééé'), /name/);
  });

  it('returns a rejected promise, it does not throw synchronously', async () => {
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = createBridge(sixteen);
    }).not.toThrow();
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("a call that takes one spec refuses a second argument: netns there would be ignored and the call would act on the caller's namespace", async () => {
    const ns = await res.netns('arg');
    // Without the check this would add the route here, in the test process's own namespace.
    // (Untyped, as a JavaScript caller has it: TypeScript refuses the second argument already.)
    const addRouteJs = addRoute as (...a: unknown[]) => Promise<void>;
    await expectInvalidArgument(() => addRouteJs({ to: '198.51.100.0/24', dev: 'lo' }, { netns: ns }), /^second argument$/);
    expect(ipRoutes(undefined, 4).filter((r) => r.dst === '198.51.100.0/24')).toEqual([]);
    expect(ipRoutes(ns.name, 4).filter((r) => r.dst === '198.51.100.0/24')).toEqual([]);
    const oneSpec = {
      attachContainer, detachContainer, ensureBridge, createLink, createVethPair, addMasquerade, removeMasquerade,
      addNetworkIsolation, removeNetworkIsolation, addPortMapping, removePortMapping, addNeighbor, deleteNeighbor,
      addRoute, replaceRoute, deleteRoute, sweep,
    } as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const [name, fn] of Object.entries(oneSpec)) {
      const e = await rejectionOf(() => fn({}, { netns: ns }));
      expect(e, name).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument, name).toBe('second argument');
    }
    // What JavaScript passes along without meaning an option is let through: map's index and array.
    await expectInvalidArgument(() => Promise.all([{}].map(addRouteJs)), /^to$/);
    // An explicit undefined is no argument.
    await setLink('lo', { up: true }, { netns: ns });
    await addRouteJs({ to: '198.51.100.0/24', dev: 'lo', netns: ns }, undefined);
    await deleteRoute({ to: '198.51.100.0/24', dev: 'lo', netns: ns });
  });

  it('is checked before the namespace is even opened: a bad name with a missing netns is InvalidArgumentError, not ENOENT', async () => {
    const missing = `${names.nsPrefix}missing`;
    await expectInvalidArgument(() => createBridge(sixteen, { netns: missing }), /name/);
    await expectInvalidArgument(() => createBridge(res.link('x'), { netns: missing, mac: 'zz:zz:zz:zz:zz:zz' }), /mac/);
    await expectInvalidArgument(() => getLink(1.5, { netns: missing }), /link|index/);
    await expectInvalidArgument(
      () => createLink({ kind: 'vxlan', name: 'vx0', vni: 1 << 24, netns: missing }),
      /vni/,
    );
  });

  it('interface names: empty, slash, whitespace, colon, too long; in every call that takes one', async () => {
    const bad = ['', 'a/b', 'a b', 'a\tb', 'a:b', sixteen];
    for (const name of bad) {
      await expectInvalidArgument(() => createBridge(name), /name/);
      await expectInvalidArgument(() => createLink({ kind: 'bridge', name }), /name/);
      await expectInvalidArgument(() => createVethPair({ name, peer: { name: res.link('ok') } }), /name/);
      await expectInvalidArgument(() => createVethPair({ name: res.link('ok'), peer: { name } }), /name/);
      await expectInvalidArgument(() => getLink(name), /link|name/);
      await expectInvalidArgument(() => deleteLink(name), /link|name/);
      await expectInvalidArgument(() => setLink(res.link('ok'), { name }), /name/);
    }
    // None of this file's names reached the kernel.
    expect(ipLinks().map((l) => l.ifname).filter((n) => n.startsWith(names.prefix))).toEqual([]);
  });

  it('link references: non-integer, negative or zero ifindex', async () => {
    for (const ref of [1.5, -1, 0, Number.NaN]) {
      await expectInvalidArgument(() => getLink(ref), /link|index/);
      await expectInvalidArgument(() => deleteLink(ref), /link|index/);
      await expectInvalidArgument(() => setLink(ref, { up: true }), /link|index/);
    }
  });

  it('MAC addresses: bad hex, wrong length, multicast', async () => {
    const bad = ['zz:zz:zz:zz:zz:zz', '02:00:00:00:00', '02:00:00:00:00:00:01', '01:00:5e:00:00:01', '0200.0000.0001x', ''];
    for (const mac of bad) {
      const name = res.link('m');
      await expectInvalidArgument(() => createBridge(name, { mac }), /mac/);
      expect(ipLink(name)).toBeUndefined();
      await expectInvalidArgument(() => createVethPair({ name, peer: { name: res.link('p'), mac } }), /mac/);
      expect(ipLink(name)).toBeUndefined();
    }
    const ns = await res.netns();
    await createBridge('br0', { netns: ns });
    await expectInvalidArgument(() => setLink('br0', { mac: '03:00:00:00:00:01' }, { netns: ns }), /mac/);
  });

  it('MTU: negative, non-integer, far above 65535', async () => {
    for (const mtu of [-1, 1500.5, 70000, 1e9, Number.NaN]) {
      const name = res.link('mtu');
      await expectInvalidArgument(() => createBridge(name, { mtu }), /mtu/);
      expect(ipLink(name)).toBeUndefined();
      await expectInvalidArgument(() => createVethPair({ name, peer: { name: res.link('p'), mtu } }), /mtu/);
    }
    const ns = await res.netns();
    await createBridge('br0', { netns: ns, mtu: 1400 });
    await expectInvalidArgument(() => setLink('br0', { mtu: -5 }, { netns: ns }), /mtu/);
    expect(ipLinkOrThrow('br0', ns.name).mtu).toBe(1400);
  });

  it('unknown kind', async () => {
    const spec = { kind: 'teapot', name: res.link('k') } as unknown as CreateLinkSpec;
    await expectInvalidArgument(() => createLink(spec), /kind/);
    await expectInvalidArgument(() => createLink({ name: res.link('k') } as unknown as CreateLinkSpec), /kind/);
  });

  it('vlan id outside 1..4094 (refused whether or not the kernel has vlan)', async () => {
    const ns = await res.netns();
    await createVethPair({ name: 'p0', peer: { name: 'p1' }, netns: ns });
    for (const id of [0, 4095, 5000, -1, 1.5]) {
      await expectInvalidArgument(() => createLink({ kind: 'vlan', name: 'vl0', parent: 'p0', id, netns: ns }), /id/);
    }
    expect(ipLink('vl0', ns.name)).toBeUndefined();
  });

  it('vxlan vni outside 0..16777215, and bad IP strings', async () => {
    const ns = await res.netns();
    for (const vni of [-1, 16777216, 2.5]) {
      await expectInvalidArgument(() => createLink({ kind: 'vxlan', name: 'vx0', vni, netns: ns }), /vni/);
    }
    await expectInvalidArgument(() => createLink({ kind: 'vxlan', name: 'vx0', vni: 1, local: '10.0.0.256', netns: ns }), /local/);
    await expectInvalidArgument(() => createLink({ kind: 'vxlan', name: 'vx0', vni: 1, remote: 'not-an-ip', netns: ns }), /remote/);
    await expectInvalidArgument(() => createLink({ kind: 'vxlan', name: 'vx0', vni: 1, group: '239.1.1', netns: ns }), /group/);
    await expectInvalidArgument(() => createLink({ kind: 'vxlan', name: 'vx0', vni: 1, port: 70000, netns: ns }), /port/);
    expect(ipLink('vx0', ns.name)).toBeUndefined();
  });

  it('InvalidArgumentError has its own code and no errno fields', async () => {
    const err = await expectInvalidArgument(() => createBridge(sixteen), /name/);
    expect(err.code).toBe('ERR_NLKIT_INVALID_ARGUMENT');
    expect(err).toBeInstanceOf(Error);
    expect(err.message.length).toBeGreaterThan(0);
  });
});
