#!/usr/bin/env node
// NAT benchmark: the cost of adding a masquerade rule, and of adding the 10th and the 10,000th
// port mapping (one map element each: the cost must not grow with the number of mappings).
// Run inside scratch namespaces by `npm run bench` (after run.js) or on its own:
//   node scripts/isolated.js node bench/nat.js
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('..');

const MAPPINGS = Number(process.env.NLKIT_BENCH_MAPPINGS || 10000);
const WINDOW = 20; // samples around each point of interest

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const ns = await nl.createNetns();
  try {
    // Masquerade: add and remove the same rule, timing the add (a generation read, a rule dump,
    // one batch).
    const masq = [];
    for (let i = 0; i < 100; i++) {
      const spec = { source: '172.17.0.0/16', excludeInterface: 'docker0', netns: ns };
      const t0 = performance.now();
      await nl.addMasquerade(spec);
      masq.push(performance.now() - t0);
      await nl.removeMasquerade(spec);
    }

    // Port mappings: add MAPPINGS one after another, timing each.
    const times = [];
    for (let i = 0; i < MAPPINGS; i++) {
      const t0 = performance.now();
      await nl.addPortMapping({ protocol: 'tcp', hostPort: 1024 + i, containerIp: `10.88.${(i >> 8) & 255}.${(i & 255) || 1}`, containerPort: 80, netns: ns });
      times.push(performance.now() - t0);
    }
    const around = (n) => times.slice(Math.max(1, n - WINDOW / 2), n + WINDOW / 2); // sample 0 creates the maps
    const tenth = median(around(10));
    const last = median(around(MAPPINGS - WINDOW / 2));
    console.log(`\nNAT in nlkit's nftables table (median of ${WINDOW} adds around each point)\n`);
    console.log('| operation | median | vs 10th mapping |');
    console.log('| --- | --- | --- |');
    console.log(`| addMasquerade | ${median(masq).toFixed(3)} ms | |`);
    console.log(`| addPortMapping, the 10th | ${tenth.toFixed(3)} ms | 1.00x |`);
    console.log(`| addPortMapping, the ${MAPPINGS.toLocaleString('en')}th | ${last.toFixed(3)} ms | ${(last / tenth).toFixed(2)}x |`);
  } finally {
    await nl.flushNat({ netns: ns }).catch(() => {});
    ns.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
