// Runs a command inside fresh user + network + mount namespaces, so that tests, benchmarks and the
// demo need no root and can never touch this machine's own interfaces, routes or firewall.
//
// Inside: we are root of a new user namespace that owns a new, empty network namespace; a private
// tmpfs covers /run and so the netns directory, so named namespaces made there (as `ip netns add`
// does) vanish with the run. NLKIT_ISOLATED=1 tells the command (and nested isolation requests)
// where it is.
//
// This is tooling: it starts `unshare`, which the library itself (lib/) never does.
'use strict';
const { spawnSync } = require('node:child_process');

function isolated() {
  return process.env.NLKIT_ISOLATED === '1';
}

/** Runs argv (command and arguments) isolated, with inherited stdio; returns its exit status. */
function runIsolated(argv) {
  if (isolated()) {
    const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
    if (r.error) {
      console.error(`nlkit: cannot start ${argv[0]} (${r.error.message})`);
      return 1;
    }
    return exitCodeOf(r);
  }
  // Mount over /run (a private mount namespace: the machine's /run is untouched), then make the
  // netns directory there; tests also get scratch room outside it, which listNetns never shows.
  const setup = ['set -e', 'mount -t tmpfs -o mode=0755 nlkit-scratch /run', 'mkdir -p /run/netns', 'exec "$@"'].join('\n');
  const r = spawnSync(
    'unshare',
    ['--user', '--map-root-user', '--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup, 'sh', ...argv],
    { stdio: 'inherit', env: { ...process.env, NLKIT_ISOLATED: '1' } },
  );
  if (r.error) {
    console.error(`nlkit: cannot start unshare (${r.error.message}); install util-linux`);
    return 1;
  }
  return exitCodeOf(r);
}

/** The child's exit status, or 128 + the signal number that ended it, as a shell reports it. */
function exitCodeOf(r) {
  if (r.signal) return 128 + (require('node:os').constants.signals[r.signal] ?? 0);
  return r.status ?? 1;
}

module.exports = { isolated, runIsolated };
