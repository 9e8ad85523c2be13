// Sockets that live in another network namespace, for probing a container from the outside
// (health checks, port checks) and for the tests' real traffic between namespaces. The socket is
// made on an nlkit thread inside the namespace and handed over as an fd:
//   const { fd } = await openSocket(ctr, { type: 'tcp', family: 4 });
//   const s = new net.Socket({ fd }).connect(80, '10.88.0.2');
//   const { fd: lfd } = await openSocket(ctr, { type: 'tcp', family: 4, address: '10.88.0.2', port: 8080 });
//   net.createServer(onConn).listen({ fd: lfd });

import { callNative } from './errors';
import { native } from './native';
import { toNative } from './netns';
import type { NetnsRef } from './types';
import * as check from './validate';

export interface OpenSocketOptions {
  type: 'tcp' | 'udp';
  /** Default: the family of `address`, else 4. */
  family?: 4 | 6;
  /** Bind to this address (and `port`) inside the namespace. */
  address?: string;
  /** Bind to this port; 0 or absent with an address: any free port (returned). */
  port?: number;
}

/**
 * A TCP or UDP socket created inside `netns`, as a non-blocking, close-on-exec fd that the caller
 * owns (net.Socket({ fd }) and server.listen({ fd }) take it over). Bound when `address` or
 * `port` is given; `port` in the result is the bound port.
 */
export async function openSocket(netns: NetnsRef, opts: OpenSocketOptions): Promise<{ fd: number; port: number }> {
  const o = check.optionsObject(opts, 'opts');
  check.onlyKeys(o, ['type', 'family', 'address', 'port'], 'opts');
  const type = check.oneOf(o.type, 'opts.type', ['tcp', 'udp'] as const);
  const address = check.optional(o, 'address', 'opts', check.ipAddress);
  const family = check.optional(o, 'family', 'opts', check.family) ?? (address?.includes(':') ? 6 : 4);
  if (address !== undefined && (address.includes(':') ? 6 : 4) !== family) check.reject('opts.address', `must be IPv${family}`);
  const port = check.optional(o, 'port', 'opts', (v, a) => check.integer(v, a, 0, 65535));
  const where = toNative(netns, 'netns');
  return callNative(() =>
    native.socketOpen({ netns: where, type, family, ...(address !== undefined ? { address } : {}), ...(port !== undefined ? { port } : {}) }),
  );
}
