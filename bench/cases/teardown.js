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
    for (let i = 0; i < n; i++) {
      for (const way of shuffled(ways, random)) {
        const j = ways.indexOf(way);
        const ns = await containerNetns(`td-${j}-${i}`);
        made.push(ns);
        const host = `td${j}x${i}`;
        await nl.attachContainer({ netns: ns, bridge: bridge.index, hostIfname: host, addresses: [`${hostAddress('10.62', i * 3 + j)}/16`], gateway: '10.62.0.1' });
        detach[way].push(await DETACH[way](host, floor, exec));
      }
    }
    await settle();
    const nsWays = Object.keys(NETNS);
    for (let i = 0; i < n * 2; i++) {
      for (let j = 0; j < nsWays.length; j++) {
        const way = nsWays[(i + j) % nsWays.length];
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
