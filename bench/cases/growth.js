// Case "growth": why per-container setup gets slower as containers accumulate (the attach case's
// N = 500 against N = 50). The C floor creates 400 veths, each with its peer in a fresh namespace,
// in three settings, and the veth-creation round trip is reported per 100: host ends enslaved to
// one bridge and kept (ports accumulate); no master; enslaved but deleted right after (the bridge
// never has more than one port). The kernel's work alone: nlkit is not involved.
'use strict';
const nl = require('../..');
const { startFloor } = require('../lib/floor');
const { containerNetns, settle } = require('../lib/machine');
const { ms, median, table } = require('../lib/stats');
const { hostAddress } = require('./attach');

const SETTINGS = {
  'on a bridge, kept': { master: true, remove: false },
  'no master': { master: false, remove: false },
  'on a bridge, removed after': { master: true, remove: true },
};

// One setting: n floor attaches on a fresh bridge; the veth creation's median per `step`. What
// it made goes when it ends, also when a step failed, before the next setting or case runs.
async function runSetting(setting, { n, step, floor }) {
  const { link: bridge } = await nl.ensureBridge({ name: 'benchgr0', addresses: ['10.64.0.1/16'] });
  const made = []; // namespaces still to delete
  const perStep = [];
  let window = [];
  try {
    await settle();
    for (let i = 0; i < n; i++) {
      const ns = await containerNetns(`gr-${i}`);
      made.push(ns.name);
      const r = await floor.attach({
        netnsPath: ns.path, hostIfname: `gr${i}`, bridgeIndex: setting.master ? bridge.index : 0,
        address: hostAddress('10.64', i), prefixLength: 16, gateway: '10.64.0.1',
      });
      window.push(r.phases.vethCreated);
      ns.close();
      if (setting.remove) {
        // The veth first, by its own request: that leaves the bridge before the next one is made.
        // Deleting only the namespace would take the veth with it later, in the kernel's batched
        // namespace cleanup: ports piled up to twenty-odd meanwhile, and the cleanup ran (under
        // RTNL) while the next veths were being timed.
        await nl.deleteLink(`gr${i}`);
        await nl.deleteNetns(made.pop());
      }
      if ((i + 1) % step === 0) {
        perStep.push(median(window));
        window = [];
      }
    }
  } finally {
    for (const name of made) await nl.deleteNetns(name).catch(() => {});
    await nl.deleteLink(bridge.index).catch(() => {});
  }
  await settle();
  return perStep;
}

async function growthCase({ quick, log }) {
  const n = quick ? 20 : 400;
  const step = quick ? 10 : 100;
  const floor = startFloor();
  const rows = [];
  const results = {};
  try {
    for (const [label, setting] of Object.entries(SETTINGS)) {
      const perStep = await runSetting(setting, { n, step, floor });
      results[label] = perStep;
      rows.push([label, ...perStep.map(ms)]);
    }
  } finally {
    await floor.close();
  }
  log('## growth: what makes setup slower as containers accumulate (kernel only)\n');
  log(`The C floor's veth creation (round trip 1), median per ${step} containers, ${n} in each setting.\n`);
  log(table(['host end', ...Array.from({ length: n / step }, (_, k) => `${k * step + 1}–${(k + 1) * step}`)], rows));
  log('');
  return results;
}

module.exports = { growthCase };
