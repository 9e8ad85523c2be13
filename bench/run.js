#!/usr/bin/env node
// nlkit's benchmark suite. `npm run bench` runs it inside scratch user+net+mount namespaces (as
// the tests run), so it needs no root and touches nothing on the machine. bench/README.md says
// what each case measures.
//
//   NLKIT_BENCH_CASES=attach,burst   only these cases (default: all, in the order below)
//   NLKIT_BENCH_QUICK=1              small sizes: a smoke run that the suite works (CI runs it)
//   NLKIT_BENCH_JSON=file            also write every sample as JSON
'use strict';
const fs = require('node:fs');
const { Progress } = require('../dist/cli/progress');
const { describeMachine, quietIpv6 } = require('./lib/machine');

const CASES = {
  attach: () => require('./cases/attach').attachCase,
  profile: () => require('./cases/profile').profileCase,
  growth: () => require('./cases/growth').growthCase,
  burst: () => require('./cases/burst').burstCase,
  churn: () => require('./cases/churn').churnCase,
  teardown: () => require('./cases/teardown').teardownCase,
  nat: () => require('./cases/nat').natCase,
};

async function main() {
  if (process.env.NLKIT_ISOLATED !== '1') {
    console.error('bench: run it through `npm run bench` (scratch namespaces), never on the machine itself');
    process.exit(2);
  }
  const wanted = (process.env.NLKIT_BENCH_CASES || Object.keys(CASES).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of wanted) {
    if (!CASES[name]) {
      console.error(`bench: unknown case '${name}' (cases: ${Object.keys(CASES).join(', ')})`);
      process.exit(2);
    }
  }
  const quick = process.env.NLKIT_BENCH_QUICK === '1';
  // On a terminal, a progress line on stderr says which case runs and how far along it is.
  const bar = new Progress();
  const log = (line = '') => {
    bar.clear();
    console.log(line);
  };
  log(`# nlkit bench${quick ? ' (quick)' : ''}\n`);
  log(`${describeMachine()}. Medians of per-operation samples; ratios are of medians measured in this run.\n`);
  await quietIpv6(); // lib/machine.js says why
  const results = {};
  for (const [i, name] of wanted.entries()) {
    const started = Date.now();
    const progress = (label = name, done = 0, total = 0) => bar.update(`bench ${i + 1}/${wanted.length}: ${label}`, done, total);
    progress();
    results[name] = await CASES[name]()({ quick, log, progress });
    log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  bar.stop();
  if (process.env.NLKIT_BENCH_JSON) fs.writeFileSync(process.env.NLKIT_BENCH_JSON, JSON.stringify(results, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
