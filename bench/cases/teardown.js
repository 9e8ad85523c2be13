// Case "teardown": removing a container's network (detachContainer against the C floor's one
// RTM_DELLINK and `ip link del`), and creating and deleting a named namespace (nlkit against
// `ip netns add` / `ip netns del`). Interleaved sample by sample.
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('../..');
const { startFloor } = require('../lib/floor');
const { startExecRunner } = require('../lib/exec-runner');
const { containerNetns, dropNamespaces, settle } = require('../lib/machine');
const { seededRandom, shuffled, waysTable } = require('../lib/stats');
const { hostAddress } = require('./attach');

const DETACH = {
  async detachContainer(host) {
    const t0 = performance.now();
    await nl.detachContainer({ hostIfname: host });
    return performance.now() - t0;
  },
  async floor(host, floor) {
    return floor.detach(host);
  },
  async ipLinkDel(host, floor, exec) {
    return (await exec.ip(['link', 'del', host])).ms;
  },
};

const NETNS = {
  async nlkit(name) {
    const t0 = performance.now();
    const ns = await nl.createNetns(name);
    const t1 = performance.now();
    ns.close();
    const t2 = performance.now();
    await nl.deleteNetns(name);
    return { create: t1 - t0, remove: performance.now() - t2 };
  },
  async ipNetns(name, exec) {
    const create = (await exec.ip(['netns', 'add', name])).ms;
    const remove = (await exec.ip(['netns', 'del', name])).ms;
    return { create, remove };
  },
};

async function teardownCase({ quick, log }) {
  const n = quick ? 6 : 60;
  const floor = startFloor();
  const exec = startExecRunner(); // ip runs there: a fork in this process would charge the next nlkit call
  const detach = Object.fromEntries(Object.keys(DETACH).map((w) => [w, []]));
  const create = { nlkit: [], ipNetns: [] };
  const remove = { nlkit: [], ipNetns: [] };
  const { link: bridge } = await nl.ensureBridge({ name: 'benchtd0', addresses: ['10.62.0.1/16'] });
  const made = [];
  try {
    await settle();
    const ways = Object.keys(DETACH);
    const random = seededRandom(n); // a new order every round, as in the attach case
    // The containers are attached a block of rounds ahead, not right before each detach: that
    // attach is nlkit's own call, and would leave nlkit's threads awake for detachContainer only.
    const BLOCK = 10;
    for (let first = 0; first < n; first += BLOCK) {
      const rounds = [];
      for (let i = first; i < Math.min(n, first + BLOCK); i++) {
        for (const [j] of ways.entries()) {
          const ns = await containerNetns(`td-${j}-${i}`);
          made.push(ns);
          await nl.attachContainer({ netns: ns, bridge: bridge.index, hostIfname: `td${j}x${i}`, addresses: [`${hostAddress('10.62', i * 3 + j)}/16`], gateway: '10.62.0.1' });
        }
        rounds.push(i);
      }
      await settle();
      for (const i of rounds) {
        for (const way of shuffled(ways, random)) detach[way].push(await DETACH[way](`td${ways.indexOf(way)}x${i}`, floor, exec));
      }
    }
    await settle();
    const nsWays = Object.keys(NETNS);
    for (let i = 0; i < n * 2; i++) {
      for (const way of shuffled(nsWays, random)) {
        const r = await NETNS[way](`tn-${way}-${i}`, exec);
        create[way].push(r.create);
        remove[way].push(r.remove);
      }
    }
  } finally {
    await floor.close();
    await exec.close();
    await dropNamespaces(made);
    await nl.deleteLink(bridge.index).catch(() => {});
    await settle();
  }
  log('## teardown\n');
  log('Removing a container\'s veth from the host side (the kernel deletes both ends; device unregistration waits');
  log('for RCU grace periods, so this is the kernel\'s cost almost entirely):\n');
  log(waysTable(detach, 'floor'));
  log('\nCreating a named namespace (bind-mounted under /run/netns, as `ip netns add` does):\n');
  log(waysTable({ 'nlkit createNetns': create.nlkit, 'ip netns add': create.ipNetns }, 'nlkit createNetns'));
  log('\nDeleting it (unmount and unlink; the kernel frees the namespace later, asynchronously):\n');
  log(waysTable({ 'nlkit deleteNetns': remove.nlkit, 'ip netns del': remove.ipNetns }, 'nlkit deleteNetns'));
  log('');
  return { detach, create, remove };
}

module.exports = { teardownCase };
