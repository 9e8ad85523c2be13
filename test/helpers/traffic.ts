// Real TCP traffic between namespaces, with sockets nlkit makes inside them (openSocket): a
// server that answers every connection, and a client that reads the answer.
import * as net from 'node:net';
import { openSocket, type NetnsRef } from '../../lib/index';

export interface Served {
  port: number;
  close: () => Promise<void>;
}

/**
 * A TCP server bound to address:port (0: any free port) inside `netns`, answering every connection
 * with `reply`, or with what `reply` makes of the client's address as the server saw it.
 */
export async function serve(
  netns: NetnsRef,
  address: string,
  reply: string | ((remoteAddress: string) => string),
  port = 0,
): Promise<Served> {
  const bound = await openSocket(netns, { type: 'tcp', address, port });
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(typeof reply === 'string' ? reply : reply(s.remoteAddress ?? '?'));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ fd: bound.fd }, ok);
  });
  return { port: bound.port, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/**
 * Servers a test file starts, closed together after each test (servers.closeAll() in afterEach):
 * `start` serves `reply` on address:port (0: any free port) in `netns` and returns the port.
 */
export class Servers {
  private readonly closers: (() => Promise<void>)[] = [];
  async start(netns: NetnsRef, address: string, reply: string, port = 0): Promise<number> {
    const served = await serve(netns, address, reply, port);
    this.closers.push(served.close);
    return served.port;
  }
  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0)) await close();
  }
}

/**
 * Connects from inside `netns` to host:port and returns what the server sent, or 'timeout' / the
 * error's code (ECONNREFUSED...) when no answer came: tests assert on either.
 */
export async function ask(netns: NetnsRef, host: string, port: number, timeoutMs = 1500): Promise<string> {
  const { fd } = await openSocket(netns, { type: 'tcp', family: host.includes(':') ? 6 : 4 });
  return new Promise<string>((ok) => {
    const s = new net.Socket({ fd });
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      ok('timeout');
    }, timeoutMs);
    s.on('data', (d) => (data += d.toString()));
    // Settled when the socket is closed, not at the server's FIN: by then this side's FIN is out
    // too, so a test that changes the firewall next cannot strand the server's end half-closed.
    s.on('close', () => {
      clearTimeout(timer);
      ok(data);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      ok(e.code ?? e.message);
    });
    s.connect(port, host);
  });
}
