#!/usr/bin/env node
// nlkit benchmark: per-container link setup through nlkit vs the same setup through `ip`
// commands, interleaved in one process run, reported as medians, p90, p99 and ratios.
// `npm run bench` runs it inside scratch namespaces (scripts/isolated.js); see bench/README.md.
'use strict';
const { execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const nl = require('..');

const N = Number(process.env.NLKIT_BENCH_N || 200);

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) };
}
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });

// One container's link layer: veth with its peer born in the container namespace as eth0, the
// host end enslaved to the bridge and up; then lo and eth0 up inside the container.
const cases = {
  async nlkit(i, ns) {
    await nl.createVethPair({ name: `vn${i}`, master: 'benchbr0', up: true, peer: { name: 'eth0', netns: ns.handle } });
    await Promise.all([
      nl.setLink('lo', { up: true }, { netns: ns.handle }),
      nl.setLink('eth0', { up: true }, { netns: ns.handle }),
    ]);
  },
  async ip(i, ns) {
    ip('link', 'add', `vi${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    ip('link', 'set', `vi${i}`, 'master', 'benchbr0', 'up');
    ip('-n', ns.name, 'link', 'set', 'lo', 'up');
    ip('-n', ns.name, 'link', 'set', 'eth0', 'up');
  },
};

async function main() {
  await nl.createBridge('benchbr0', { up: true });
  const samples = { nlkit: [], ip: [] };
  const made = [];
  try {
    for (let i = 0; i < N; i++) {
      // Interleaved, alternating order, each into its own fresh namespace made outside the timing.
      const order = i % 2 === 0 ? ['nlkit', 'ip'] : ['ip', 'nlkit'];
      for (const name of order) {
        const nsName = `b${name[0]}${i}`;
        const handle = await nl.createNetns(nsName);
        made.push({ handle, nsName, host: name === 'nlkit' ? `vn${i}` : `vi${i}` });
        const t0 = performance.now();
        await cases[name](i, { handle, name: nsName });
        samples[name].push(performance.now() - t0);
      }
    }
  } finally {
    for (const m of made) {
      await nl.deleteLink(m.host).catch(() => {});
      m.handle.close();
      await nl.deleteNetns(m.nsName).catch(() => {});
    }
    await nl.deleteLink('benchbr0').catch(() => {});
  }

  const base = summary(samples.nlkit).median;
  const rows = Object.entries(samples).map(([name, s]) => ({ name, ...summary(s) }));
  const fmt = (ms) => `${ms.toFixed(3)} ms`;
  console.log(`per-container link setup (veth with peer in the container netns, host end on a bridge and up, lo+eth0 up), N=${N}, interleaved\n`);
  console.log('| way | median | p90 | p99 | median vs nlkit |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.name} | ${fmt(r.median)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${(r.median / base).toFixed(2)}x |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
