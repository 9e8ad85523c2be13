// Case "burst": B attachContainer calls issued at once (a launcher starting a batch of containers),
// against the same B calls one after another, in rounds that alternate which goes first. Reports
// the burst's completion time against the serial total, the p99 of one call inside the burst, and
// every error by code: none may fail (no EINTR, EBUSY or interrupted dump).
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('../..');
const { containerNetns, dropNamespaces, settle } = require('../lib/machine');
const { median, ms, summary, table } = require('../lib/stats');
const { hostAddress } = require('./attach');

async function round(size, mode, tag) {
  const bridge = (await nl.ensureBridge({ name: `benchbu${mode === 'burst' ? 0 : 1}`, addresses: [`10.${mode === 'burst' ? 70 : 71}.0.1/16`] })).link;
  const prefix = mode === 'burst' ? '10.70' : '10.71';
  const nss = [];
  try {
    for (let i = 0; i < size; i++) nss.push(await containerNetns(`bu-${tag}-${i}`));
    return await timedRound(nss, bridge, prefix, mode, tag);
  } finally {
    // Also when making a namespace failed half-way.
    await dropNamespaces(nss);
    await nl.deleteLink(bridge.index).catch(() => {});
    await settle();
  }
}

async function timedRound(nss, bridge, prefix, mode, tag) {
  const size = nss.length;
  const perCall = [];
  const errors = {};
  const one = async (i) => {
    const t0 = performance.now();
    try {
      await nl.attachContainer({ netns: nss[i], bridge: bridge.index, hostIfname: `bu${tag}x${i}`, addresses: [`${hostAddress(prefix, i)}/16`], gateway: `${prefix}.0.1` });
    } catch (e) {
      const code = e?.code ?? String(e);
      errors[code] = (errors[code] ?? 0) + 1;
    }
    perCall.push(performance.now() - t0);
  };
  const t0 = performance.now();
  if (mode === 'burst') {
    await Promise.all(nss.map((_, i) => one(i)));
  } else {
    for (let i = 0; i < size; i++) await one(i);
  }
  const total = performance.now() - t0;
  return { total, perCall, errors };
}

async function burstCase({ quick, log }) {
  const sizes = [16, 64];
  // Rounds in pairs (a burst and a serial run back to back, alternating which goes first); the
  // ratio reported is the median of the pairs' ratios, so that the machine's drift over the case
  // (up to 1.5x on a VM) cancels within each pair. 7 rounds gave medians of totals that moved by 0.1x
  // between runs.
  const rounds = quick ? 1 : 15;
  const rows = [];
  const results = {};
  await settle();
  for (const size of sizes) {
    const burst = [];
    const serial = [];
    const pairRatios = [];
    const perCall = [];
    const errors = {};
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? ['serial', 'burst'] : ['burst', 'serial'];
      for (const mode of order) {
        const out = await round(size, mode, `${size}${mode[0]}${r}`);
        (mode === 'burst' ? burst : serial).push(out.total);
        if (mode === 'burst') perCall.push(...out.perCall);
        for (const [code, count] of Object.entries(out.errors)) errors[`${mode} ${code}`] = (errors[`${mode} ${code}`] ?? 0) + count;
      }
      pairRatios.push(burst[burst.length - 1] / serial[serial.length - 1]);
    }
    results[size] = { burst, serial, pairRatios, perCall, errors };
    const errorText = Object.keys(errors).length ? Object.entries(errors).map(([k, v]) => `${v} ${k}`).join(', ') : 'none';
    rows.push([`${size}`, ms(median(serial)), ms(median(burst)), `${median(pairRatios).toFixed(2)}x`, ms(summary(perCall).median), ms(summary(perCall).p99), errorText]);
  }
  log('## burst: concurrent attachContainer calls\n');
  log(`B calls issued at once vs the same B one after another; ${rounds} pairs of rounds, alternating which goes first,`);
  log('fresh namespaces and bridge per round. The kernel serialises attaches on RTNL, and nlkit runs them one at a time');
  log('(other calls beside them): what a burst can save is nlkit\'s own overhead between them.\n');
  log(table(['B', 'serial total', 'burst total', 'burst vs serial (median of pairs)', 'per call in burst: median', 'p99', 'errors'], rows));
  log('');
  return results;
}

module.exports = { burstCase };
