// What the bench needs from the process and the machine: its RSS and fd count, a wait for the
// kernel to finish tearing down namespaces, quiet namespaces, and the facts printed in the
// report's header. (Baselines that are processes run from lib/exec-runner.js.)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const { performance } = require('node:perf_hooks');
const nl = require('../..');

/**
 * The process's RSS in MiB after full collections and pauses (when node runs with --expose-gc):
 * V8 hands emptied pages back to the system from a background thread, so RSS read right after
 * gc() still counts pages it is about to release. Used by the churn case and `npm run soak`.
 */
async function rssMiB() {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await sleep(100);
  }
  return process.memoryUsage().rss / (1 << 20);
}

function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until the kernel has finished what an earlier case left it: deleted namespaces and veths
 * are torn down asynchronously, holding the RTNL lock in long stretches, and would slow whatever
 * runs next. Probes with a cheap RTNL-taking request (lo up, in the bench's own namespace) every
 * 20 ms until it costs what it cost on the quiet kernel at the start (measured with the same
 * spacing: a probe after a pause costs more than one in a tight loop), five times in a row, or
 * 60 s pass.
 */
let quietProbe;
async function settle() {
  const probe = async () => {
    await sleep(20);
    const t0 = performance.now();
    await nl.setLink('lo', { up: true });
    return performance.now() - t0;
  };
  if (quietProbe === undefined) {
    const xs = [];
    for (let i = 0; i < 11; i++) xs.push(await probe());
    quietProbe = xs.sort((a, b) => a - b)[5];
  }
  const deadline = Date.now() + 60_000;
  let quiet = 0;
  while (quiet < 5 && Date.now() < deadline) {
    quiet = (await probe()) < 2 * quietProbe ? quiet + 1 : 0;
  }
}

/**
 * IPv6 off on every interface the bench makes, in its own (scratch) namespace and in each
 * container's. With IPv6 on, every new interface, a bridge port on the host side and eth0 in the
 * container, sends DAD, router solicitations and MLD reports, and the bridge floods each to all its
 * other ports: background work that grows with the square of the port count and lands on
 * whichever way happens to run. It is a property of the network, not of the tool that sets up a
 * container, so the bench keeps it out of the ratios. Measured at 500 containers with it on: the
 * floor's median tripled, p90 was four times the median, and nlkit's thread hand-offs (which give
 * the scheduler room to run that work in between) paid more for it than the single-threaded floor.
 */
async function quietIpv6() {
  await nl.setSysctl('net.ipv6.conf.default.disable_ipv6', 1);
  await nl.setSysctl('net.ipv6.conf.all.disable_ipv6', 1);
}

/**
 * A named namespace for one bench container, IPv6 off for the interfaces born in it (see
 * quietIpv6: a new namespace starts with the kernel's IPv6 defaults, not its creator's). Set
 * outside every clock, for every way alike.
 */
async function containerNetns(name) {
  const ns = await nl.createNetns(name);
  await nl.setSysctl('net.ipv6.conf.default.disable_ipv6', 1, { netns: ns });
  return ns;
}

/** Closes the handles and deletes the named namespaces (their veths go with them). */
async function dropNamespaces(handles) {
  for (const ns of handles) {
    ns.close();
    await nl.deleteNetns(ns.name).catch(() => {});
  }
}

function describeMachine() {
  const cpus = os.cpus();
  return [
    `kernel ${os.release()}, ${cpus.length} CPU${cpus.length === 1 ? '' : 's'} (${cpus[0]?.model.trim() ?? 'unknown'}),`,
    `node ${process.version}, nlkit worker threads ${require('../../dist/native').native.threads}`,
  ].join(' ');
}

/** True when `cmd` runs (`cmd --version` or the given probe arguments). */
function have(cmd, args = ['--version']) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = { rssMiB, fdCount, sleep, settle, quietIpv6, containerNetns, dropNamespaces, describeMachine, have };
