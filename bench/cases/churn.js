// Case "churn": attach + detach cycles sustained, as a launcher with high container turnover
// does. One lane per nlkit worker thread, each with its own container namespace, cycling
// attachContainer and detachContainer. Reports cycles per second at the start and the end of the
// run (sustained means the end is no slower), and the process's RSS (after a forced GC) and fd
// count after a warm-up and at the end: both must stay flat.
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('../..');
const { native } = require('../../dist/native');
const { containerNetns, dropNamespaces, fdCount, rssMiB, settle } = require('../lib/machine');
const { ms, summary, table } = require('../lib/stats');

async function churnCase({ quick, log, progress }) {
  const cycles = Number(process.env.NLKIT_BENCH_CHURN || (quick ? 200 : 10_000));
  const warmup = quick ? 20 : 200;
  const lanes = native.threads;
  const { link: bridge } = await nl.ensureBridge({ name: 'benchch0', addresses: ['10.60.0.1/16'] });
  const nss = [];
  for (let k = 0; k < lanes; k++) nss.push(await containerNetns(`ch-${k}`));
  const done = []; // completion time of each cycle, in order of completion
  const perCycle = [];
  let next = 0;
  const lane = async (k, limit) => {
    while (next < limit) {
      next++;
      const t0 = performance.now();
      await nl.attachContainer({ netns: nss[k], bridge: bridge.index, hostIfname: `ch${k}`, addresses: [`10.60.1.${k + 2}/16`], gateway: '10.60.0.1' });
      await nl.detachContainer({ hostIfname: `ch${k}` });
      const t1 = performance.now();
      perCycle.push(t1 - t0);
      done.push(t1);
      if (done.length % 100 === 0) progress?.('churn', done.length, limit);
    }
  };
  let before;
  let after;
  try {
    await settle();
    await Promise.all(nss.map((_, k) => lane(k, warmup)));
    done.length = 0;
    perCycle.length = 0;
    next = 0;
    before = { rss: await rssMiB(), fds: fdCount() };
    const t0 = performance.now();
    await Promise.all(nss.map((_, k) => lane(k, cycles)));
    const elapsed = performance.now() - t0;
    after = { rss: await rssMiB(), fds: fdCount() };
    const tenth = Math.max(1, Math.floor(cycles / 10));
    const rate = (from, to) => (to - from) / ((done[to - 1] - (from === 0 ? t0 : done[from - 1])) / 1000);
    const s = summary(perCycle);
    log('## churn: attach + detach, sustained\n');
    log(`${cycles.toLocaleString('en')} cycles on ${lanes} lanes (one per worker thread), after ${warmup} warm-up cycles. A cycle is attachContainer`);
    log('then detachContainer of the same container; the kernel\'s veth deletion (tens of ms, an RCU grace period) dominates.\n');
    log(
      table(
        ['cycles/s overall', 'first 10%', 'last 10%', 'cycle median', 'p90', 'p99', 'RSS before → after', 'fds before → after'],
        [[
          (cycles / (elapsed / 1000)).toFixed(0),
          rate(0, tenth).toFixed(0),
          rate(cycles - tenth, cycles).toFixed(0),
          ms(s.median),
          ms(s.p90),
          ms(s.p99),
          `${before.rss.toFixed(1)} → ${after.rss.toFixed(1)} MiB (${after.rss - before.rss >= 0 ? '+' : ''}${(after.rss - before.rss).toFixed(1)})`,
          `${before.fds} → ${after.fds} (${after.fds - before.fds >= 0 ? '+' : ''}${after.fds - before.fds})`,
        ]],
      ),
    );
    if (typeof global.gc !== 'function') log('\n(RSS without a forced GC: run node with --expose-gc, as `npm run bench` does.)');
    log('');
  } finally {
    await dropNamespaces(nss);
    await nl.deleteLink(bridge.index).catch(() => {});
    await settle();
  }
  return { cycles, perCycle, before, after };
}

module.exports = { churnCase };
