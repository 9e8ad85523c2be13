// Real TCP traffic between namespaces, with sockets nlkit makes inside them (openSocket): a
// server that answers with its own name, and a client that reads the answer.
import * as net from 'node:net';
import { openSocket, type NetnsRef } from '../../lib/index';

export interface Served {
  port: number;
  close: () => Promise<void>;
}

/** A TCP server bound to `address` inside `netns`, answering every connection with `reply`. */
export async function serve(netns: NetnsRef, address: string, reply: string): Promise<Served> {
  const { fd, port } = await openSocket(netns, { type: 'tcp', address, port: 0 });
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(reply);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ fd }, ok);
  });
  return { port, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** Connects from inside `netns` to host:port and returns what the server sent. */
export async function fetchFrom(netns: NetnsRef, host: string, port: number, timeoutMs = 3000): Promise<string> {
  const { fd } = await openSocket(netns, { type: 'tcp', family: host.includes(':') ? 6 : 4 });
  return new Promise<string>((ok, fail) => {
    const s = new net.Socket({ fd });
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      ok(data);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      fail(e);
    });
    s.connect(port, host);
  });
}
