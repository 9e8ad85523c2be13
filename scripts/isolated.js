#!/usr/bin/env node
// `node scripts/isolated.js <command> [args...]`: runs the command inside fresh user + network +
// mount namespaces (see bin/isolate.js). npm test, bench and soak go through it.
'use strict';
const { runIsolated } = require('../bin/isolate');

const argv = process.argv.slice(2);
if (argv.length === 0) {
  console.error('usage: node scripts/isolated.js <command> [args...]');
  process.exit(2);
}
process.exit(runIsolated(argv));
