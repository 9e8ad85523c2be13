// `nlkit demo`: the single-host container network of container-networking.md, built through the
// public API in namespaces the demo makes, then proven path by path with real traffic, and torn
// down. bin/nlkit.js runs it inside fresh user+network+mount namespaces, so the machine's own
// network is never touched.
//
//   outside (192.0.2.1) --- wan0 <-> uplink0 --- host (192.0.2.2, default via 192.0.2.1)
//                                                 br0 10.88.0.1/16, masquerade 10.88.0.0/16 ! -o br0
//                                                 tcp :8080 -> ctr1:80, udp :5353 -> ctr3:53
//                                  ctr1 10.88.0.2, ctr2 10.88.0.3, ctr3 10.88.0.4 (eth0 on br0)
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as nl from '../index';
import { native } from '../native';
import { toNative } from '../netns';
import type { NetnsHandle } from '../netns';
import { json, paint, table, type Out } from './format';
import { Progress } from './progress';

/** What `--break` can sabotage, to show that a broken path is reported as one. */
export const BREAKABLE = {
  masquerade: 'leave out the masquerade rule: the outside cannot answer the containers',
  forwarding: 'turn IPv4 forwarding off in the host after setting up: nothing crosses the host',
  bridge: "take ctr2's bridge port down: ctr2 is cut off",
} as const;
export type Breakable = keyof typeof BREAKABLE;

export interface DemoReport {
  steps: { step: string; ms: number }[];
  paths: { path: string; ok: boolean; expected: string; got: string }[];
  teardown: { step: string; ms: number }[];
  leftovers: string[];
  passed: number;
  failed: number;
  broken?: Breakable;
}

const PREFIX = 'nlkit-demo-';
const HOST_IP = '192.0.2.2';
const OUTSIDE_IP = '192.0.2.1';
const TIMEOUT_MS = 3000;

type Ns = NetnsHandle & { name: string };

/** A TCP server inside `netns` that answers each connection with reply(remote address) and closes. */
async function serve(netns: Ns, address: string, port: number, reply: (remote: string) => string): Promise<net.Server> {
  const { fd } = await nl.openSocket(netns, { type: 'tcp', address, port });
  const server = net.createServer((s) => s.end(reply(s.remoteAddress ?? '?')));
  await new Promise<void>((ok) => server.listen({ fd }, ok));
  return server;
}

/** Connects from inside `netns` and returns what the server said, or the error code. */
async function ask(netns: Ns, host: string, port: number): Promise<string> {
  const { fd } = await nl.openSocket(netns, { type: 'tcp', family: 4 });
  return new Promise((resolve) => {
    const s = new net.Socket({ fd });
    let data = '';
    let settled = false;
    const done = (v: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('timeout'), TIMEOUT_MS);
    s.on('data', (d) => (data += d));
    s.on('end', () => done(data));
    s.on('close', () => done(data || 'closed'));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.connect(port, host);
  });
}

export async function runDemo(opts: { broken?: Breakable }, out: Out, asJson: boolean): Promise<number> {
  const progress = new Progress();
  const report: DemoReport = { steps: [], paths: [], teardown: [], leftovers: [], passed: 0, failed: 0 };
  if (opts.broken) report.broken = opts.broken;
  const timed = async <T>(into: { step: string; ms: number }[], step: string, fn: () => Promise<T>): Promise<T> => {
    progress.update(step);
    const t0 = performance.now();
    const r = await fn();
    into.push({ step, ms: +(performance.now() - t0).toFixed(3) });
    return r;
  };
  const made: Ns[] = [];
  const servers: net.Server[] = [];
  const netns = async (name: string) => {
    const h = (await timed(report.steps, `createNetns ${name}`, () => nl.createNetns(PREFIX + name))) as Ns;
    made.push(h);
    return h;
  };
  try {
    // The machine: a host with an uplink to the outside world, and its bridge network.
    const host = await netns('host');
    const outside = await netns('outside');
    await timed(report.steps, 'lo up in host and outside', async () => {
      await nl.setLink('lo', { up: true }, { netns: host });
      await nl.setLink('lo', { up: true }, { netns: outside });
    });
    await timed(report.steps, 'uplink: veth uplink0 (host) <-> wan0 (outside)', () =>
      nl.createVethPair({ name: 'uplink0', up: true, netns: host, peer: { name: 'wan0', netns: outside } }),
    );
    await timed(report.steps, `uplink addresses ${HOST_IP}/24, ${OUTSIDE_IP}/24; host default route`, async () => {
      await nl.setLink('wan0', { up: true }, { netns: outside });
      await nl.addAddress('uplink0', `${HOST_IP}/24`, { netns: host });
      await nl.addAddress('wan0', `${OUTSIDE_IP}/24`, { netns: outside });
      await nl.addRoute({ to: 'default', via: OUTSIDE_IP, netns: host });
    });
    const { link: bridge } = await timed(report.steps, 'ensureBridge br0 10.88.0.1/16 (forwarding on)', () =>
      nl.ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16'], netns: host }),
    );
    if (opts.broken !== 'masquerade') {
      await timed(report.steps, 'addMasquerade 10.88.0.0/16 ! -o br0', () =>
        nl.addMasquerade({ source: '10.88.0.0/16', excludeInterface: 'br0', netns: host }),
      );
    }
    const ctrs: { name: string; ns: Ns; ip: string; hostIfname: string }[] = [];
    for (let i = 1; i <= 3; i++) {
      const ns = await netns(`ctr${i}`);
      const ip = `10.88.0.${i + 1}`;
      const r = await timed(report.steps, `attachContainer ctr${i} ${ip}/16 via 10.88.0.1`, () =>
        nl.attachContainer({ netns: ns, hostNetns: host, bridge: bridge.index, addresses: [`${ip}/16`], gateway: '10.88.0.1', owner: `demo-ctr${i}` }),
      );
      ctrs.push({ name: `ctr${i}`, ns, ip, hostIfname: r.host.name });
    }
    const [ctr1, ctr2, ctr3] = ctrs as [(typeof ctrs)[0], (typeof ctrs)[0], (typeof ctrs)[0]];
    await timed(report.steps, `addPortMapping tcp :8080 -> ${ctr1.ip}:80`, () =>
      nl.addPortMapping({ protocol: 'tcp', hostPort: 8080, containerIp: ctr1.ip, containerPort: 80, owner: 'demo-ctr1', netns: host }),
    );
    await timed(report.steps, `addPortMapping udp :5353 -> ${ctr3.ip}:53`, () =>
      nl.addPortMapping({ protocol: 'udp', hostPort: 5353, containerIp: ctr3.ip, containerPort: 53, owner: 'demo-ctr3', netns: host }),
    );
    if (opts.broken === 'forwarding') await nl.setSysctl('net.ipv4.ip_forward', 0, { netns: host });
    if (opts.broken === 'bridge') await nl.setLink(ctr2.hostIfname, { up: false }, { netns: host });

    // Servers: each container on :80 names itself; the gateway and the outside say who called.
    progress.update('starting servers');
    for (const c of ctrs) servers.push(await serve(c.ns, c.ip, 80, () => c.name));
    servers.push(await serve(host, '10.88.0.1', 80, () => 'gateway'));
    servers.push(await serve(outside, OUTSIDE_IP, 80, (remote) => `outside saw ${remote}`));

    const paths: [string, () => Promise<string>, string][] = [
      ['ctr1 -> ctr2 (same bridge)', () => ask(ctr1.ns, ctr2.ip, 80), 'ctr2'],
      ['ctr1 -> gateway 10.88.0.1', () => ask(ctr1.ns, '10.88.0.1', 80), 'gateway'],
      [`ctr1 -> outside ${OUTSIDE_IP}, as the host's ${HOST_IP} (masquerade)`, () => ask(ctr1.ns, OUTSIDE_IP, 80), `outside saw ${HOST_IP}`],
      [`outside -> published tcp ${HOST_IP}:8080 -> ctr1`, () => ask(outside, HOST_IP, 8080), 'ctr1'],
      [
        `outside -> published udp ${HOST_IP}:5353 -> ctr3`,
        async () => (await native.udpProbe({ serverNetns: toNative(ctr3.ns), serverAddress: ctr3.ip, serverPort: 53, clientNetns: toNative(outside), target: HOST_IP, targetPort: 5353, timeoutMs: TIMEOUT_MS })).clientGot || 'timeout',
        `probe from ${OUTSIDE_IP}`,
      ],
      [`host -> its own ${HOST_IP}:8080 -> ctr1`, () => ask(host, HOST_IP, 8080), 'ctr1'],
      [`ctr2 -> ${HOST_IP}:8080 -> ctr1 (hairpin)`, () => ask(ctr2.ns, HOST_IP, 8080), 'ctr1'],
    ];
    for (const [k, [path, run, expected]] of paths.entries()) {
      progress.update(`checking ${path}`, k, paths.length);
      const got = await run();
      report.paths.push({ path, ok: got === expected, expected, got });
    }
  } finally {
    progress.update('tearing down');
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
    for (const h of made.reverse()) {
      h.close();
      // A failed delete shows in the leftovers check below.
      await timed(report.teardown, `deleteNetns ${h.name.slice(PREFIX.length)}`, () => nl.deleteNetns(h.name)).catch(() => {});
    }
    progress.stop();
  }
  report.leftovers.push(...(await nl.listNetns()).filter((n) => n.startsWith(PREFIX)));
  report.failed = report.paths.filter((p) => !p.ok).length + (report.leftovers.length > 0 ? 1 : 0);
  report.passed = report.paths.length - report.paths.filter((p) => !p.ok).length;
  out.stdout(asJson ? json(report) : render(report, out));
  return report.failed === 0 ? 0 : 1;
}

function render(r: DemoReport, out: Out): string {
  const ms = (x: number) => x.toFixed(2);
  const total = (xs: { ms: number }[]) => xs.reduce((a, s) => a + s.ms, 0);
  const lines = [
    paint(out, 'bold', 'nlkit demo: a Docker-style bridge network in scratch namespaces'),
    r.broken ? paint(out, 'yellow', `broken on purpose (--break ${r.broken}): ${BREAKABLE[r.broken]}`) : '',
    '',
    'setup',
    table(['ms', 'step'], [...r.steps.map((s) => [ms(s.ms), s.step]), [ms(total(r.steps)), 'total']]).trimEnd(),
    '',
    'paths (real traffic between the namespaces)',
    table(
      r.paths.every((p) => p.ok) ? ['result', 'path'] : ['result', 'path', 'detail'],
      r.paths.map((p) => [p.ok ? paint(out, 'green', 'PASS') : paint(out, 'red', 'FAIL'), p.path, p.ok ? undefined : `expected '${p.expected}', got '${p.got}'`]),
    ).trimEnd(),
    '',
    `teardown: ${r.teardown.length} namespaces deleted in ${ms(total(r.teardown))} ms${r.leftovers.length ? paint(out, 'red', `; LEFT BEHIND: ${r.leftovers.join(', ')}`) : ', nothing left behind'}`,
    '',
    r.failed === 0
      ? paint(out, 'green', `all ${r.paths.length} paths passed`)
      : r.passed < r.paths.length
        ? paint(out, 'red', `${r.paths.length - r.passed} of ${r.paths.length} paths FAILED: ${r.paths.filter((p) => !p.ok).map((p) => p.path).join('; ')}`)
        : paint(out, 'red', `all ${r.paths.length} paths passed, but namespaces were LEFT BEHIND`),
  ];
  return `${lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n')}\n`;
}
