// One UDP exchange between namespaces (Node's dgram cannot adopt a socket made inside another
// namespace, so the native test hook does both ends): a server bound in `server`, a client in
// `client` sending to target:port. Empty strings mean nothing arrived within the timeout.
import type { NetnsHandle } from '../../lib/index';
import { native } from '../../lib/native';
import { toNative } from '../../lib/netns';

export async function udpExchange(
  server: NetnsHandle,
  serverAddress: string,
  serverPort: number,
  client: NetnsHandle,
  target: string,
  targetPort: number,
  clientPort?: number,
): Promise<{ serverSawFrom: string; clientGot: string }> {
  return native.udpProbe({
    serverNetns: toNative(server),
    serverAddress,
    serverPort,
    clientNetns: toNative(client),
    target,
    targetPort,
    payload: 'probe',
    timeoutMs: 1000,
    ...(clientPort !== undefined ? { clientPort } : {}),
  });
}
