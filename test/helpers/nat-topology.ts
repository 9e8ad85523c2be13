// The topology the NAT tests share: a "host" namespace with an uplink to an "outside" namespace
// (192.0.2.2 / 2001:db8::2 <-> .1), br0 with the network's gateways, and one container behind it
// (10.88.0.2 / fd00::2). The outside has no route back to the container subnet.
import { addAddress, attachContainer, createVethPair, ensureBridge, setLink, waitForLink, type NetnsHandle } from '../../lib/index';
import type { Resources } from './resources';

export type Ns = NetnsHandle & { name: string };

export interface NatTopology {
  host: Ns;
  outside: Ns;
  container: Ns;
}

export async function natTopology(res: Resources): Promise<NatTopology> {
  const host = await res.netns('h');
  const outside = await res.netns('o');
  const container = await res.netns('c');
  // A real host has lo up: the host's connections to its own addresses go through it.
  await setLink('lo', { up: true }, { netns: host });
  await createVethPair({ name: 'up0', up: true, netns: host, peer: { name: 'wan0', netns: outside } });
  await setLink('wan0', { up: true }, { netns: outside });
  await addAddress('up0', '192.0.2.2/24', { netns: host });
  await addAddress('up0', '2001:db8::2/64', { netns: host, noDad: true });
  await addAddress('wan0', '192.0.2.1/24', { netns: outside });
  await addAddress('wan0', '2001:db8::1/64', { netns: outside, noDad: true });
  const { link } = await ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', 'fd00::1/64'], netns: host });
  const attached = await attachContainer({
    netns: container, hostNetns: host, bridge: link.index,
    addresses: ['10.88.0.2/16', 'fd00::2/64'], gateways: ['10.88.0.1', 'fd00::1'],
    waitForCarrier: { timeoutMs: 5000 },
  });
  // Carrier comes from the kernel's linkwatch queue, up to a second after a link is set up, and a
  // bridge port forwards only from then on: a test's first packet must not race it (a CI run lost
  // its first UDP datagram so). Every link on the path, both ends.
  const carrier = { operState: 'up' as const, timeoutMs: 5000 };
  await Promise.all([
    waitForLink('up0', { ...carrier, netns: host }),
    waitForLink('wan0', { ...carrier, netns: outside }),
    waitForLink(attached.host.index, { ...carrier, netns: host }),
    waitForLink('br0', { ...carrier, netns: host }),
  ]);
  return { host, outside, container };
}
