#!/usr/bin/env node
// A container network built and checked through nlkit's public API, in scratch namespaces
// (`npm run demo` runs it inside fresh user+net+mount namespaces): a bridge, three "containers"
// each with an eth0 whose peer is a port of the bridge, all read back from the kernel.
// Addresses, routes and NAT come with later issues; this shows the link layer working.
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('..');

const CONTAINERS = 3;

async function timed(label, steps, fn) {
  const t0 = performance.now();
  const out = await fn();
  steps.push({ step: label, ms: +(performance.now() - t0).toFixed(3) });
  return out;
}

async function main() {
  const steps = [];
  const checks = [];
  const check = (what, ok, detail = '') => checks.push({ what, ok, detail });

  const bridge = await timed('createBridge nlkit0', steps, () => nl.createBridge('nlkit0', { up: true }));
  const containers = [];
  try {
    for (let i = 1; i <= CONTAINERS; i++) {
      const netns = await timed(`createNetns ctr${i}`, steps, () => nl.createNetns(`ctr${i}`));
      const pair = await timed(`createVethPair veth-ctr${i}`, steps, () =>
        nl.createVethPair({ name: `veth-ctr${i}`, master: 'nlkit0', up: true, peer: { name: 'eth0', netns } }),
      );
      await timed(`lo + eth0 up in ctr${i}`, steps, () =>
        Promise.all([nl.setLink('lo', { up: true }, { netns }), nl.setLink('eth0', { up: true }, { netns })]),
      );
      containers.push({ netns, pair });
    }

    for (const [i, { netns, pair }] of containers.entries()) {
      const eth0 = await nl.getLink('eth0', { netns });
      const host = await nl.getLink(pair.link.index);
      check(`ctr${i + 1}: eth0's peer is ${host.name}`, eth0.peer?.index === host.index, `eth0@if${eth0.peer?.index}`);
      check(`ctr${i + 1}: ${host.name} is a port of nlkit0`, host.master === bridge.index);
      check(`ctr${i + 1}: eth0 is up with carrier`, eth0.operState === 'up', eth0.operState);
      check(`ctr${i + 1}: eth0 MAC is the one reported`, eth0.mac === pair.peer.mac, eth0.mac);
    }
    const ports = await nl.listLinks({ master: 'nlkit0' });
    check('nlkit0 has one port per container', ports.length === CONTAINERS, ports.map((p) => p.name).join(', '));
  } finally {
    for (const { netns, pair } of containers) {
      await timed(`deleteLink ${pair.link.name}`, steps, () => nl.deleteLink(pair.link.index));
      netns.close();
      await nl.deleteNetns(netns.name);
    }
    await timed('deleteLink nlkit0', steps, () => nl.deleteLink('nlkit0'));
  }
  const left = (await nl.listLinks()).filter((l) => l.name !== 'lo');
  check('nothing left behind', left.length === 0 && (await nl.listNetns()).length === 0);

  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ steps, checks }, null, 2));
  } else {
    console.log('setup steps (ms):');
    for (const s of steps) console.log(`  ${s.ms.toFixed(3).padStart(8)}  ${s.step}`);
    console.log('\nchecks:');
    for (const c of checks) console.log(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.what}${c.detail ? `  (${c.detail})` : ''}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`\n${checks.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
