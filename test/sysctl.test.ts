// Sysctls under net.*, read and written inside fresh namespaces. Witnesses: `ip -j netconf show`
// (per-interface forwarding and rp_filter) and the test process's own /proc/sys, which must never
// change when another namespace's value does.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createVethPair, getSysctl, setSysctl, type NetnsRef, type SysctlKey } from '../lib/index';
import { expectInvalidArgument, expectSystemError } from './helpers/expect';
import { ipLinkOrThrow, ipNetconf } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qsy');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** The test process's own value, straight from its /proc/sys. */
function ownValue(path: string): string {
  return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
}

/** ip netconf's entry for the namespace-wide "all" settings. */
function allConf(ns: string, family: 4 | 6) {
  const c = ipNetconf(ns, undefined, family).find((x) => x.interface === 'all');
  expect(c, `ip netconf all IPv${family}`).toBeDefined();
  return c!;
}

function netconfOf(ns: string, dev: string, family: 4 | 6) {
  const c = ipNetconf(ns, dev, family);
  expect(c, `ip netconf ${dev} IPv${family}`).toHaveLength(1);
  return c[0]!;
}

describe('global keys, per namespace', () => {
  it('net.ipv4.ip_forward is written in one namespace only', async () => {
    const own = ownValue('net/ipv4/ip_forward');
    expect(await getSysctl('net.ipv4.ip_forward')).toBe(own);
    const other = own === '1' ? '0' : '1';
    const a = await res.netns('a');
    const b = await res.netns('b');
    await setSysctl('net.ipv4.ip_forward', other, { netns: a });
    await setSysctl('net.ipv4.ip_forward', own, { netns: b });
    expect(await getSysctl('net.ipv4.ip_forward', { netns: a })).toBe(other);
    expect(await getSysctl('net.ipv4.ip_forward', { netns: b })).toBe(own);
    // The same namespace named every way a NetnsRef can.
    for (const ref of [a.name, { name: a.name }, `/run/netns/${a.name}`, { path: `/run/netns/${a.name}` }] as NetnsRef[]) {
      expect(await getSysctl('net.ipv4.ip_forward', { netns: ref })).toBe(other);
    }
    // The test process's namespace is untouched, as its own /proc/sys and nlkit both say.
    expect(ownValue('net/ipv4/ip_forward')).toBe(own);
    expect(await getSysctl('net.ipv4.ip_forward')).toBe(own);
    expect(await getSysctl('net.ipv4.ip_forward', { netns: { pid: process.pid } })).toBe(own);
    // ip_forward is the IPv4 "all" forwarding switch: ip netconf shows it per namespace.
    expect(allConf(a.name, 4).forwarding).toBe(other === '1');
    expect(allConf(b.name, 4).forwarding).toBe(own === '1');

    await setSysctl('net.ipv4.ip_forward', own, { netns: a });
    expect(await getSysctl('net.ipv4.ip_forward', { netns: a })).toBe(own);
    expect(allConf(a.name, 4).forwarding).toBe(own === '1');
  });

  it('net.ipv6.conf.all.forwarding, with boolean and number values', async () => {
    const own = ownValue('net/ipv6/conf/all/forwarding');
    const ns = await res.netns('six');
    await setSysctl('net.ipv6.conf.all.forwarding', true, { netns: ns });
    expect(await getSysctl('net.ipv6.conf.all.forwarding', { netns: ns })).toBe('1');
    expect(allConf(ns.name, 6).forwarding).toBe(true);
    await setSysctl(['net', 'ipv6', 'conf', 'all', 'forwarding'], false, { netns: ns });
    expect(await getSysctl(['net', 'ipv6', 'conf', 'all', 'forwarding'], { netns: ns })).toBe('0');
    expect(allConf(ns.name, 6).forwarding).toBe(false);
    await setSysctl('net.ipv6.conf.all.forwarding', 1, { netns: ns });
    expect(await getSysctl('net.ipv6.conf.all.forwarding', { netns: ns })).toBe('1');
    expect(allConf(ns.name, 6).forwarding).toBe(true);
    expect(ownValue('net/ipv6/conf/all/forwarding')).toBe(own);
  });

  it('multi-field values keep their inner spacing; numbers are written in decimal', async () => {
    const ns = await res.anonNetns();
    await setSysctl('net.ipv4.ip_local_port_range', '40000 50000', { netns: ns });
    expect((await getSysctl('net.ipv4.ip_local_port_range', { netns: ns })).split(/\s+/)).toEqual(['40000', '50000']);
    await setSysctl('net.ipv4.tcp_fin_timeout', 17, { netns: ns });
    expect(await getSysctl('net.ipv4.tcp_fin_timeout', { netns: ns })).toBe('17');
    expect(ownValue('net/ipv4/tcp_fin_timeout')).not.toBe('17');
  });
});

describe('many namespaces at once', () => {
  it('concurrent writes and reads in eight namespaces each land in their own namespace', async () => {
    const spaces = await Promise.all(Array.from({ length: 8 }, () => res.anonNetns()));
    const own = ownValue('net/ipv4/tcp_fin_timeout');
    await Promise.all(spaces.map((ns, i) => setSysctl('net.ipv4.tcp_fin_timeout', 21 + i, { netns: ns })));
    const read = await Promise.all(
      [...spaces, ...spaces].map((ns) => getSysctl('net.ipv4.tcp_fin_timeout', { netns: ns })),
    );
    expect(read).toEqual([...spaces, ...spaces].map((_, i) => String(21 + (i % 8))));
    expect(ownValue('net/ipv4/tcp_fin_timeout')).toBe(own);
    expect(await getSysctl('net.ipv4.tcp_fin_timeout')).toBe(own);
  });

  it('a closed handle is refused', async () => {
    const ns = await res.anonNetns();
    ns.close();
    await expectInvalidArgument(() => getSysctl('net.ipv4.ip_forward', { netns: ns }), /^opts\.netns$/);
    await expectInvalidArgument(() => setSysctl('net.ipv4.ip_forward', 1, { netns: ns }), /^opts\.netns$/);
  });
});

describe('per-interface keys', () => {
  it('route_localnet and forwarding of an interface whose name has a dot, in segment form', async () => {
    const ns = await res.netns('if');
    await createVethPair({ name: 'v0.5', peer: { name: 'v1' }, netns: ns });
    expect(ipLinkOrThrow('v0.5', ns.name).ifname).toBe('v0.5');

    const key = ['net', 'ipv4', 'conf', 'v0.5', 'route_localnet'];
    expect(await getSysctl(key, { netns: ns })).toBe('0');
    await setSysctl(key, true, { netns: ns });
    expect(await getSysctl(key, { netns: ns })).toBe('1');
    // Only that interface changed.
    expect(await getSysctl(['net', 'ipv4', 'conf', 'v1', 'route_localnet'], { netns: ns })).toBe('0');
    expect(await getSysctl('net.ipv4.conf.all.route_localnet', { netns: ns })).toBe('0');

    // forwarding of the same interface, witnessed by ip netconf.
    const fwd = ['net', 'ipv4', 'conf', 'v0.5', 'forwarding'];
    expect(netconfOf(ns.name, 'v0.5', 4).forwarding).toBe(false);
    await setSysctl(fwd, 1, { netns: ns });
    expect(await getSysctl(fwd, { netns: ns })).toBe('1');
    expect(netconfOf(ns.name, 'v0.5', 4).forwarding).toBe(true);
    expect(netconfOf(ns.name, 'v1', 4).forwarding).toBe(false);
    await setSysctl(['net', 'ipv6', 'conf', 'v0.5', 'forwarding'], 1, { netns: ns });
    expect(netconfOf(ns.name, 'v0.5', 6).forwarding).toBe(true);
    expect(netconfOf(ns.name, 'v1', 6).forwarding).toBe(false);

    // rp_filter takes 0, 1 or 2; ip prints it by name.
    await setSysctl(['net', 'ipv4', 'conf', 'v0.5', 'rp_filter'], 2, { netns: ns });
    expect(await getSysctl(['net', 'ipv4', 'conf', 'v0.5', 'rp_filter'], { netns: ns })).toBe('2');
    expect(netconfOf(ns.name, 'v0.5', 4).rp_filter).toBe('loose');
    await setSysctl(['net', 'ipv4', 'conf', 'v0.5', 'rp_filter'], '1', { netns: ns });
    expect(netconfOf(ns.name, 'v0.5', 4).rp_filter).toBe('strict');

    // The dotted form splits the name at its dot: a key that does not exist.
    await expectSystemError(() => getSysctl('net.ipv4.conf.v0.5.route_localnet', { netns: ns }), 'ENOENT');
    await expectSystemError(() => setSysctl('net.ipv4.conf.v0.5.route_localnet', 0, { netns: ns }), 'ENOENT');
    expect(await getSysctl(key, { netns: ns })).toBe('1');
  });

  it('the keys of an interface exist only in the namespace it is in', async () => {
    const a = await res.netns('ia');
    const b = await res.netns('ib');
    await createVethPair({ name: 'va', peer: { name: 'vb', netns: b }, netns: a });
    await setSysctl('net.ipv4.conf.va.route_localnet', 1, { netns: a });
    expect(await getSysctl('net.ipv4.conf.va.route_localnet', { netns: a })).toBe('1');
    await expectSystemError(() => getSysctl('net.ipv4.conf.va.route_localnet', { netns: b }), 'ENOENT');
    await expectSystemError(() => getSysctl('net.ipv4.conf.vb.route_localnet', { netns: a }), 'ENOENT');
    expect(await getSysctl('net.ipv4.conf.vb.route_localnet', { netns: b })).toBe('0');
    await expectSystemError(() => getSysctl('net.ipv4.conf.va.route_localnet'), 'ENOENT');
  });
});

describe('errors', () => {
  it('an unknown key is SystemError ENOENT, for reads and writes', async () => {
    const ns = await res.anonNetns();
    const e = await expectSystemError(() => getSysctl('net.ipv4.no_such_key', { netns: ns }), 'ENOENT');
    expect(e.operation).toBe('getSysctl');
    expect(e.object).toContain('net.ipv4.no_such_key');
    const w = await expectSystemError(() => setSysctl('net.ipv4.no_such_key', 1, { netns: ns }), 'ENOENT');
    expect(w.operation).toBe('setSysctl');
    await expectSystemError(() => getSysctl(['net', 'ipv4', 'conf', 'nosuch0', 'forwarding'], { netns: ns }), 'ENOENT');
  });

  it('a value the kernel refuses is a SystemError and leaves the old value', async () => {
    const ns = await res.anonNetns();
    await setSysctl('net.ipv4.ip_forward', 1, { netns: ns });
    await expectSystemError(() => setSysctl('net.ipv4.ip_forward', 'yes', { netns: ns }), 'EINVAL');
    expect(await getSysctl('net.ipv4.ip_forward', { netns: ns })).toBe('1');
    // A directory is no value.
    await expectSystemError(() => getSysctl('net.ipv4.conf', { netns: ns }), 'EISDIR');
  });

  it('keys outside net., with "/", "..", empty or non-string segments are InvalidArgumentError("key")', async () => {
    const ns = await res.anonNetns();
    const hostname = ownValue('kernel/hostname');
    const bad: unknown[] = [
      'kernel.hostname',
      'net/ipv4/ip_forward',
      'net.ipv4/ip_forward',
      '/proc/sys/net/ipv4/ip_forward',
      'net.ipv4.....',
      'net.ipv4..ip_forward',
      'net.ipv4.ip_forward.',
      '.net.ipv4.ip_forward',
      'net',
      'net.',
      '',
      'netx.ipv4.ip_forward',
      'NET.ipv4.ip_forward',
      ['net', '..', '..', 'kernel', 'hostname'],
      ['net', 'ipv4', 'conf', '..', '..', '..', 'kernel', 'hostname'],
      ['net', 'ipv4', '.', 'ip_forward'],
      ['net', 'ipv4', ''],
      ['net', 'ipv4/ip_forward'],
      ['net', 'ipv4', 'ip_forward\0'],
      ['kernel', 'hostname'],
      ['net'],
      [],
      ['net', 4, 'ip_forward'],
      ['net', 'ipv4', null],
      ['net', ['ipv4'], 'ip_forward'],
      42,
      null,
      undefined,
      { key: 'net.ipv4.ip_forward' },
    ];
    for (const key of bad) {
      await expectInvalidArgument(() => getSysctl(key as SysctlKey, { netns: ns }), /^key$/);
      await expectInvalidArgument(() => setSysctl(key as SysctlKey, '1', { netns: ns }), /^key$/);
    }
    // Nothing was written outside net.
    expect(ownValue('kernel/hostname')).toBe(hostname);
    expect(ownValue('kernel/hostname')).not.toBe('1');
  });

  it('bad values and options are InvalidArgumentError', async () => {
    const ns = await res.anonNetns();
    const before = await getSysctl('net.ipv4.ip_forward', { netns: ns });
    for (const value of ['1\n0', 'a\0b', 'x'.repeat(4097), Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}, [1]]) {
      await expectInvalidArgument(() => setSysctl('net.ipv4.ip_forward', value as string, { netns: ns }), /^value$/);
    }
    await expectInvalidArgument(() => getSysctl('net.ipv4.ip_forward', { netns: ns, extra: 1 } as never), /^opts\.extra$/);
    await expectInvalidArgument(() => getSysctl('net.ipv4.ip_forward', 'ns' as never), /^opts$/);
    await expectInvalidArgument(() => getSysctl('net.ipv4.ip_forward', { netns: 'relative/path' }), /^opts\.netns$/);
    expect(await getSysctl('net.ipv4.ip_forward', { netns: ns })).toBe(before);
  });
});
