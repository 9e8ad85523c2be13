#!/usr/bin/env node
// nlkit benchmark: per-container network setup, three ways, interleaved sample by sample in one
// process run, reported as median, p90, p99 and ratios. `npm run bench` runs it inside scratch
// namespaces (scripts/isolated.js); bench/README.md says what each case measures.
'use strict';
const { execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const nl = require('..');

const N = Number(process.env.NLKIT_BENCH_N || 200);
const BRIDGE = 'benchbr0';

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) };
}
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });

// Container i gets 10.88.x.y/16 and a default route via the bridge's 10.88.0.1. The host end's
// name is <prefix><i>; the container end is eth0.
const addressOf = (i) => `10.88.${1 + (i >> 8)}.${(i & 255) || 1}`;

const cases = {
  // One call: veth created with its peer in the container, host end enslaved and up; then lo up,
  // address, eth0 up and the default route in one batch inside the container.
  async attachContainer(i, ns, bridgeIndex) {
    await nl.attachContainer({ netns: ns.handle, bridge: bridgeIndex, hostIfname: `va${i}`, addresses: [`${addressOf(i)}/16`], gateway: '10.88.0.1' });
  },
  // The same with nlkit's individual calls, one request each.
  async individualCalls(i, ns, bridgeIndex) {
    const netns = ns.handle;
    await nl.createVethPair({ name: `vc${i}`, master: bridgeIndex, up: true, peer: { name: 'eth0', netns } });
    await nl.setLink('lo', { up: true }, { netns });
    await nl.addAddress('eth0', `${addressOf(i)}/16`, { netns });
    await nl.setLink('eth0', { up: true }, { netns });
    await nl.addRoute({ to: 'default', via: '10.88.0.1', dev: 'eth0', netns });
  },
  // The same with ip(8), one process per step, as shell-script runtimes do it.
  async ipCommands(i, ns) {
    ip('link', 'add', `vi${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    ip('link', 'set', `vi${i}`, 'master', BRIDGE, 'up');
    ip('-n', ns.name, 'link', 'set', 'lo', 'up');
    ip('-n', ns.name, 'addr', 'add', `${addressOf(i)}/16`, 'dev', 'eth0');
    ip('-n', ns.name, 'link', 'set', 'eth0', 'up');
    ip('-n', ns.name, 'route', 'add', 'default', 'via', '10.88.0.1');
  },
};
const hostName = { attachContainer: 'va', individualCalls: 'vc', ipCommands: 'vi' };

async function main() {
  const { link: bridge } = await nl.ensureBridge({ name: BRIDGE, addresses: ['10.88.0.1/16'] });
  const names = Object.keys(cases);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  const made = [];
  try {
    for (let i = 0; i < N; i++) {
      // Rotate which way goes first, so no way always runs on a warmer or colder kernel.
      const order = names.map((_, k) => names[(i + k) % names.length]);
      for (const name of order) {
        const nsName = `b-${hostName[name]}${i}`;
        const handle = await nl.createNetns(nsName);
        made.push({ handle, nsName, host: `${hostName[name]}${i}` });
        const t0 = performance.now();
        await cases[name](i, { handle, name: nsName }, bridge.index);
        samples[name].push(performance.now() - t0);
      }
    }
  } finally {
    for (const m of made) {
      await nl.deleteLink(m.host).catch(() => {});
      m.handle.close();
      await nl.deleteNetns(m.nsName).catch(() => {});
    }
    await nl.deleteLink(BRIDGE).catch(() => {});
  }

  const base = summary(samples.attachContainer).median;
  const fmt = (ms) => `${ms.toFixed(3)} ms`;
  console.log(`per-container setup: veth (peer born in the container as eth0, host end on a bridge and up), lo up,`);
  console.log(`an IPv4 address, eth0 up, default route. N=${N} per way, interleaved, fresh namespace per sample.\n`);
  console.log('| way | median | p90 | p99 | median vs attachContainer |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const name of names) {
    const r = summary(samples[name]);
    console.log(`| ${name} | ${fmt(r.median)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${(r.median / base).toFixed(2)}x |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
