// openSocket: TCP and UDP sockets made inside a namespace and handed over as fds. Proven with real
// traffic between two namespaces joined by a veth pair, and by what a socket can and cannot reach
// or bind to in the namespace it was made in.
import { closeSync, fstatSync } from 'node:fs';
import * as net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addAddress,
  createVethPair,
  openSocket,
  setLink,
  type NetnsHandle,
  type NetnsRef,
  type OpenSocketOptions,
} from '../lib/index';
import { expectInvalidArgument, expectSystemError } from './helpers/expect';
import { ipAddrOf, ipLinkOrThrow } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qos');
const res = new Resources(names);

// Every fd, server and socket a test opens, closed after it whatever happened.
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // already closed
    }
  }
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

type Ns = NetnsHandle & { name: string };

/** Two named namespaces joined by a veth a0 (in a) / b0 (in b), with addresses, both ends up. */
async function twoJoined(): Promise<{ a: Ns; b: Ns }> {
  const a = await res.netns('a');
  const b = await res.netns('b');
  await createVethPair({ name: 'a0', peer: { name: 'b0', netns: b }, netns: a });
  await addAddress('a0', '10.81.0.1/24', { netns: a });
  await addAddress('a0', 'fd81::1/64', { netns: a, noDad: true });
  await addAddress('b0', '10.81.0.2/24', { netns: b });
  await addAddress('b0', 'fd81::2/64', { netns: b, noDad: true });
  await setLink('a0', { up: true }, { netns: a });
  await setLink('b0', { up: true }, { netns: b });
  expect(ipAddrOf('a0', '10.81.0.1', a.name)).toBeDefined();
  expect(ipAddrOf('b0', 'fd81::2', b.name)).toBeDefined();
  expect(ipLinkOrThrow('b0', b.name).link_index).toBe(ipLinkOrThrow('a0', a.name).ifindex);
  return { a, b };
}

/** An echo server listening on a socket nlkit made in `netns`: answers `<tag>:<peer address>:<data>`. */
async function echoServer(netns: NetnsRef, address: string, tag: string): Promise<{ port: number; server: net.Server }> {
  const { fd, port } = await openSocket(netns, { type: 'tcp', address, port: 0 });
  expect(port).toBeGreaterThan(0);
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (d) => s.end(`${tag}:${s.remoteAddress}:${d.toString()}`));
  });
  closers.push(() => new Promise<void>((ok) => server.close(() => ok())));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ fd }, ok);
  });
  return { port, server };
}

/** Connects from a socket nlkit made in `netns`, sends `msg`, returns the whole answer. */
async function exchange(netns: NetnsRef, host: string, port: number, msg: string, timeoutMs = 3000): Promise<{ answer: string; local: string }> {
  const { fd } = await openSocket(netns, { type: 'tcp', family: host.includes(':') ? 6 : 4 });
  return new Promise((ok, fail) => {
    const s = new net.Socket({ fd });
    closers.push(() => void s.destroy());
    let answer = '';
    const timer = setTimeout(() => {
      s.destroy();
      fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (d) => (answer += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      ok({ answer, local: s.localAddress ?? '' });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      fail(e);
    });
    s.connect(port, host, () => s.write(msg));
  });
}

/** A connect from a socket made in `netns`: resolves with the error code, or 'TIMEOUT'. */
async function connectFailure(netns: NetnsRef, host: string, port: number, timeoutMs = 1500): Promise<string> {
  const { fd } = await openSocket(netns, { type: 'tcp', family: host.includes(':') ? 6 : 4 });
  return new Promise((ok, fail) => {
    const s = new net.Socket({ fd });
    closers.push(() => void s.destroy());
    const timer = setTimeout(() => {
      s.destroy();
      ok('TIMEOUT');
    }, timeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      ok(e.code ?? String(e));
    });
    s.connect(port, host, () => {
      clearTimeout(timer);
      s.destroy();
      fail(new Error(`connected to ${host}:${port}, which must be unreachable from here`));
    });
  });
}

function closeLater(fd: number): void {
  closers.push(() => closeSync(fd));
}

describe('TCP between two namespaces over a veth', () => {
  it('IPv4: a server in one namespace and a client in the other, data both ways', async () => {
    const { a, b } = await twoJoined();
    const { port } = await echoServer(a, '10.81.0.1', 'srv-a');
    const r = await exchange(b, '10.81.0.1', port, 'hello from b');
    // The server saw the client's address in b; the client's socket is bound there.
    expect(r.answer).toBe('srv-a:10.81.0.2:hello from b');
    expect(r.local).toBe('10.81.0.2');

    // And the other way round, by name as NetnsRef.
    const back = await echoServer(b.name, '10.81.0.2', 'srv-b');
    expect((await exchange(a.name, '10.81.0.2', back.port, 'hello from a')).answer).toBe('srv-b:10.81.0.1:hello from a');
  });

  it('IPv6 (noDad addresses): data both ways', async () => {
    const { a, b } = await twoJoined();
    const { port } = await echoServer(a, 'fd81::1', 'six');
    const r = await exchange(b, 'fd81::1', port, 'v6 hello');
    expect(r.answer).toBe('six:fd81::2:v6 hello');
    expect(r.local).toBe('fd81::2');
    const back = await echoServer(b, 'fd81::2', 'six-b');
    expect((await exchange(a, 'fd81::2', back.port, 'v6 back')).answer).toBe('six-b:fd81::1:v6 back');
  });

  it('a fixed port is bound as asked, and each namespace has its own port space', async () => {
    const { a, b } = await twoJoined();
    const inA = await openSocket(a, { type: 'udp', family: 4, port: 18081 });
    closeLater(inA.fd);
    const inB = await openSocket(b, { type: 'udp', family: 4, port: 18081 });
    closeLater(inB.fd);
    expect(inA.port).toBe(18081);
    expect(inB.port).toBe(18081);
    expect(inA.fd).not.toBe(inB.fd);
    expect(fstatSync(inA.fd).isSocket()).toBe(true);
    // The same port twice in one namespace is taken (no SO_REUSEADDR for UDP): the two above were
    // in two port spaces.
    await expectSystemError(() => openSocket(a, { type: 'udp', family: 4, port: 18081 }), 'EADDRINUSE');

    // A listening server holds its port in its namespace only.
    const { port, server } = await echoServer(a, '10.81.0.1', 'x');
    const again = await expectSystemError(() => openSocket(a, { type: 'tcp', address: '10.81.0.1', port }), 'EADDRINUSE');
    expect(again.operation).toBe('openSocket');
    const elsewhere = await openSocket(b, { type: 'tcp', address: '10.81.0.2', port });
    closeLater(elsewhere.fd);
    expect(elsewhere.port).toBe(port);
    expect(server.listening).toBe(true);
  });

  it('an unbound socket reports port 0 and connects from the namespace it was made in', async () => {
    const { a, b } = await twoJoined();
    const { port } = await echoServer(a, '0.0.0.0', 'any');
    const plain = await openSocket(b, { type: 'tcp' });
    closeLater(plain.fd);
    expect(plain.port).toBe(0);
    expect(Number.isInteger(plain.fd) && plain.fd > 2).toBe(true);
    expect((await exchange(b, '10.81.0.1', port, 'p')).answer).toBe('any:10.81.0.2:p');
  });
});

describe('UDP', () => {
  it('a bound UDP socket comes back as an fd with its port', async () => {
    const { a } = await twoJoined();
    const any = await openSocket(a, { type: 'udp', address: '10.81.0.1', port: 0 });
    closeLater(any.fd);
    expect(any.port).toBeGreaterThan(0);
    expect(fstatSync(any.fd).isSocket()).toBe(true);
    const fixed = await openSocket(a, { type: 'udp', address: 'fd81::1', port: 15353 });
    closeLater(fixed.fd);
    expect(fixed.port).toBe(15353);
    // Without address or port it is not bound: port 0.
    const unbound = await openSocket(a, { type: 'udp', family: 4 });
    closeLater(unbound.fd);
    expect(unbound.port).toBe(0);
    expect(fstatSync(unbound.fd).isSocket()).toBe(true);
  });

  // "Bound when `address` or `port` is given": an explicit port 0 means "bind, to any free port".
  it('an explicit port 0 without an address binds to a free port', async () => {
    const { a } = await twoJoined();
    const udp = await openSocket(a, { type: 'udp', port: 0 });
    closeLater(udp.fd);
    const tcp6 = await openSocket(a, { type: 'tcp', family: 6, port: 0 });
    closeLater(tcp6.fd);
    expect(udp.port).toBeGreaterThan(0);
    expect(tcp6.port).toBeGreaterThan(0);
  });

  it('UDP binds only to addresses of its own namespace', async () => {
    const { a, b } = await twoJoined();
    await expectSystemError(() => openSocket(a, { type: 'udp', address: '10.81.0.2', port: 0 }), 'EADDRNOTAVAIL');
    const ok = await openSocket(b, { type: 'udp', address: '10.81.0.2', port: 0 });
    closeLater(ok.fd);
    expect(ok.port).toBeGreaterThan(0);
  });
});

describe('isolation', () => {
  // How a connect to a place with no route fails: no route, no source address (IPv6 with nothing
  // but a down lo), refused, or nothing at all.
  const UNREACHABLE = ['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ECONNREFUSED', 'TIMEOUT'];
  it('a namespace cannot reach an address that only exists in another, unconnected namespace', async () => {
    const { a } = await twoJoined();
    const lonely = await res.netns('l');
    // lo up: the namespace then has a local routing table (a brand-new namespace without one
    // treats every IPv4 address as bindable), but still no route towards a.
    await setLink('lo', { up: true }, { netns: lonely });
    const { port } = await echoServer(a, '10.81.0.1', 'a');
    const code = await connectFailure(lonely, '10.81.0.1', port);
    expect(UNREACHABLE).toContain(code);
    const code6 = await connectFailure(lonely, 'fd81::1', port);
    expect(UNREACHABLE).toContain(code6);
    // Nor from the test process's own namespace, which has no route there either.
    const own = await new Promise<string>((ok) => {
      const s = net.connect({ host: '10.81.0.1', port, timeout: 1500 });
      closers.push(() => void s.destroy());
      s.on('connect', () => ok('CONNECTED'));
      s.on('timeout', () => ok('TIMEOUT'));
      s.on('error', (e: NodeJS.ErrnoException) => ok(e.code ?? 'ERROR'));
    });
    expect(own).not.toBe('CONNECTED');
    // A socket can only be bound to an address of its own namespace.
    await expectSystemError(() => openSocket(lonely, { type: 'tcp', address: '10.81.0.1', port: 0 }), 'EADDRNOTAVAIL');
    await expectSystemError(() => openSocket(lonely, { type: 'tcp', address: 'fd81::1', port: 0 }), 'EADDRNOTAVAIL');
    // The server is still fine for its neighbour.
    expect(await connectFailure(a, '10.81.0.2', port)).toBe('ECONNREFUSED');
  });

  it('a closed port in the other namespace is refused (the packet got there)', async () => {
    const { b } = await twoJoined();
    expect(await connectFailure(b, '10.81.0.1', 9)).toBe('ECONNREFUSED');
    expect(await connectFailure(b, 'fd81::1', 9)).toBe('ECONNREFUSED');
  });
});

describe('invalid options', () => {
  it('type, family, address, port and unknown keys are InvalidArgumentError', async () => {
    const ns = await res.anonNetns();
    const cases: [unknown, RegExp][] = [
      [{ type: 'sctp' }, /^opts\.type$/],
      [{ type: 'TCP' }, /^opts\.type$/],
      [{}, /^opts\.type$/],
      [{ type: 'tcp', family: 4, address: 'fd00::1' }, /^opts\.address$/],
      [{ type: 'udp', family: 6, address: '10.0.0.1' }, /^opts\.address$/],
      [{ type: 'tcp', address: '10.0.0.256' }, /^opts\.address$/],
      [{ type: 'tcp', address: 'localhost' }, /^opts\.address$/],
      [{ type: 'tcp', port: 70000 }, /^opts\.port$/],
      [{ type: 'tcp', port: -1 }, /^opts\.port$/],
      [{ type: 'udp', port: 80.5 }, /^opts\.port$/],
      [{ type: 'udp', port: '80' }, /^opts\.port$/],
      [{ type: 'tcp', family: 5 }, /^opts\.family$/],
      [{ type: 'tcp', reuse: true }, /^opts\.reuse$/],
    ];
    for (const [opts, argument] of cases) {
      await expectInvalidArgument(() => openSocket(ns, opts as OpenSocketOptions), argument);
    }
    await expectInvalidArgument(() => openSocket(ns, 'tcp' as unknown as OpenSocketOptions), /^opts$/);
    await expectInvalidArgument(() => openSocket('not/absolute', { type: 'tcp' }), /^netns$/);
    const closed = await res.anonNetns();
    closed.close();
    await expectInvalidArgument(() => openSocket(closed, { type: 'tcp' }), /^netns$/);
  });

  it('a namespace that does not exist is a SystemError ENOENT', async () => {
    await expectSystemError(() => openSocket(`${names.nsPrefix}missing`, { type: 'tcp' }), 'ENOENT');
    await expectSystemError(() => openSocket({ path: `/run/netns/${names.nsPrefix}missing` }, { type: 'udp' }), 'ENOENT');
  });
});
