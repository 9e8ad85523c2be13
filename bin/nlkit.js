#!/usr/bin/env node
// The `nlkit` command. `demo` and `bench` build networks of their own, so they first move into
// fresh user+network+mount namespaces (bin/isolate.js) unless already in one; the machine's own
// network is never touched. Everything else acts where it is asked to (--netns) through the
// library's public API (dist/cli/main.js).
'use strict';
const path = require('node:path');
const { isolated, runIsolated } = require('./isolate');

const argv = process.argv.slice(2);
const [command] = argv;
const wantsHelp = argv.includes('--help') || argv.includes('-h');

if (command === 'bench' && !wantsHelp) {
  if (argv.length > 1) {
    console.error(`nlkit bench: unexpected argument '${argv[1]}' (choose cases with NLKIT_BENCH_CASES=attach,profile)`);
    process.exit(2);
  }
  // The suite runs in a node of its own: it needs --expose-gc for its RSS readings.
  process.exit(runIsolated([process.execPath, '--expose-gc', path.join(__dirname, '..', 'bench', 'run.js')]));
}
if (command === 'demo' && !wantsHelp && !isolated()) {
  process.exit(runIsolated([process.execPath, __filename, ...argv]));
}

let main;
try {
  ({ main } = require('../dist/cli/main'));
} catch (e) {
  // The module missing is dist/ itself only when the message's first line names it (a dependency
  // missing from inside dist/ has dist/cli/main in its require stack, further down).
  const notBuilt = e.code === 'MODULE_NOT_FOUND' && String(e.message).split('\n')[0].includes('dist/cli/main');
  console.error(notBuilt ? 'nlkit: the package is not built (no dist/); run npm run build:all' : `nlkit: cannot load: ${e.message}`);
  process.exit(1);
}
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
