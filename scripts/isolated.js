#!/usr/bin/env node
// Runs a command inside fresh user + network + mount namespaces, so that tests and benchmarks
// need no root and can never touch this machine's own interfaces, routes or firewall.
//
// Inside: we are root of a new user namespace that owns a new, empty network namespace; a private
// tmpfs covers the netns directory, so named namespaces made there (as `ip netns add` does) vanish
// with the run. NLKIT_ISOLATED=1 tells the command (and nested calls of this script) where it is.
//
// This is test tooling: it starts `unshare`, which is allowed here and nowhere under lib/.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const argv = process.argv.slice(2);
if (argv.length === 0) {
  console.error('usage: node scripts/isolated.js <command> [args...]');
  process.exit(2);
}

if (process.env.NLKIT_ISOLATED === '1') {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

// Mount over /run/netns when the machine has it, else over /run itself (a private mount namespace:
// the machine's /run is untouched either way), then make the netns directory.
const netnsDir = '/run/netns';
const mountPoint = fs.existsSync(netnsDir) ? netnsDir : '/run';
const setup = [
  'set -e',
  `mount -t tmpfs -o mode=0755 nlkit-scratch ${mountPoint}`,
  `mkdir -p ${netnsDir}`,
  'exec "$@"',
].join('\n');

const r = spawnSync(
  'unshare',
  ['--user', '--map-root-user', '--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup, 'sh', ...argv],
  { stdio: 'inherit', env: { ...process.env, NLKIT_ISOLATED: '1' } },
);
if (r.error) {
  console.error(`nlkit: cannot start unshare (${r.error.message}); install util-linux`);
  process.exit(1);
}
process.exit(r.status ?? 1);
