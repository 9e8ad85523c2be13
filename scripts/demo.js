#!/usr/bin/env node
// The single-host container network of container-networking.md, built and checked through
// nlkit's public API in scratch namespaces (`npm run demo` runs it inside fresh user+net+mount
// namespaces): a host namespace with a bridge and gateway addresses, three containers attached,
// and real TCP traffic over IPv4 and IPv6 on every path: container -> gateway, container ->
// container, host -> container. NAT and published ports come with the nftables issue.
'use strict';
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const nl = require('..');

const CONTAINERS = 3;

async function timed(steps, label, fn) {
  const t0 = performance.now();
  const out = await fn();
  steps.push({ step: label, ms: +(performance.now() - t0).toFixed(3) });
  return out;
}

// A TCP server inside `netns` on address:any-port that answers with `reply`.
async function serve(netns, address, reply) {
  const { fd, port } = await nl.openSocket(netns, { type: 'tcp', address, port: 0 });
  const server = net.createServer((s) => s.end(reply));
  await new Promise((ok) => server.listen({ fd }, ok));
  return { port, close: () => new Promise((ok) => server.close(ok)) };
}

// Connects from inside `netns` and returns the answer, or the error's text.
async function fetchFrom(netns, host, port) {
  const { fd } = await nl.openSocket(netns, { type: 'tcp', family: host.includes(':') ? 6 : 4 });
  return new Promise((ok) => {
    const s = new net.Socket({ fd });
    let data = '';
    const timer = setTimeout(() => (s.destroy(), ok('timeout')), 3000);
    s.on('data', (d) => (data += d));
    s.on('end', () => (clearTimeout(timer), ok(data)));
    s.on('error', (e) => (clearTimeout(timer), ok(e.code || e.message)));
    s.connect(port, host);
  });
}

async function main() {
  const steps = [];
  const checks = [];
  const host = await timed(steps, 'createNetns host', () => nl.createNetns('demo-host'));
  const containers = [];
  const servers = [];
  try {
    const { link: bridge } = await timed(steps, 'ensureBridge br0 10.88.0.1/16 fd00::1/64', () =>
      nl.ensureBridge({ name: 'br0', addresses: ['10.88.0.1/16', 'fd00::1/64'], netns: host }),
    );
    for (let i = 1; i <= CONTAINERS; i++) {
      const netns = await timed(steps, `createNetns ctr${i}`, () => nl.createNetns(`demo-ctr${i}`));
      const v4 = `10.88.0.${i + 1}`;
      const v6 = `fd00::${i + 1}`;
      const attached = await timed(steps, `attachContainer ctr${i} (${v4}, ${v6})`, () =>
        nl.attachContainer({ netns, hostNetns: host, bridge: bridge.index, addresses: [`${v4}/16`, `${v6}/64`], gateways: ['10.88.0.1', 'fd00::1'] }),
      );
      containers.push({ name: `ctr${i}`, netns, v4, v6, attached });
    }

    const gw4 = await serve(host, '10.88.0.1', 'gateway');
    const gw6 = await serve(host, 'fd00::1', 'gateway');
    servers.push(gw4, gw6);
    for (const c of containers) {
      c.server4 = await serve(c.netns, c.v4, c.name);
      c.server6 = await serve(c.netns, c.v6, c.name);
      servers.push(c.server4, c.server6);
    }
    const path = async (what, fromNs, to, port, expected) => {
      const got = await fetchFrom(fromNs, to, port);
      checks.push({ what, ok: got === expected, detail: got === expected ? '' : `got ${got}` });
    };
    for (const [k, c] of containers.entries()) {
      const next = containers[(k + 1) % containers.length];
      await path(`${c.name} -> gateway 10.88.0.1`, c.netns, '10.88.0.1', gw4.port, 'gateway');
      await path(`${c.name} -> gateway fd00::1`, c.netns, 'fd00::1', gw6.port, 'gateway');
      await path(`${c.name} -> ${next.name} ${next.v4}`, c.netns, next.v4, next.server4.port, next.name);
      await path(`${c.name} -> ${next.name} ${next.v6}`, c.netns, next.v6, next.server6.port, next.name);
      await path(`host -> ${c.name} ${c.v4}`, host, c.v4, c.server4.port, c.name);
      const peer = await nl.findPeer('eth0', { netns: c.netns });
      checks.push({ what: `${c.name}: eth0 pairs with ${peer.link.name} in ${peer.netnsName}`, ok: peer.link.name === c.attached.host.name && peer.netnsName === 'demo-host' });
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    for (const c of containers) {
      await timed(steps, `detachContainer ${c.name}`, () => nl.detachContainer({ netns: c.netns }));
      c.netns.close();
      await nl.deleteNetns(`demo-${c.name}`);
    }
    host.close();
    await nl.deleteNetns('demo-host');
  }
  checks.push({ what: 'nothing left behind', ok: (await nl.listNetns()).length === 0 });

  const failed = checks.filter((c) => !c.ok).length;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ steps, checks, passed: checks.length - failed, failed }, null, 2));
  } else {
    console.log('setup and teardown steps (ms):');
    for (const s of steps) console.log(`  ${s.ms.toFixed(3).padStart(8)}  ${s.step}`);
    console.log('\nchecks (real TCP connections between namespaces):');
    for (const c of checks) console.log(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.what}${c.detail ? `  (${c.detail})` : ''}`);
    console.log(`\n${checks.length - failed} passed, ${failed} failed`);
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
