// Case "profile": where the time of one attachContainer goes, stage by stage, from timestamps the
// addon takes on every call (native.lastJobTiming: CLOCK_MONOTONIC, the clock process.hrtime
// reads) and the bench's own clock around the call. The C floor's phases, interleaved in the
// same run, give the kernel's cost of the same work.
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('../..');
const { native } = require('../../dist/native');
const { attachRequest } = require('../../dist/containers');
const { measureHandoff, startFloor } = require('../lib/floor');
const { containerNetns, dropNamespaces, settle } = require('../lib/machine');
const { median, ratio, seededRandom, shuffled, table, us } = require('../lib/stats');
const { WAYS: ATTACH_WAYS, hostAddress } = require('./attach');
const { startExecRunner } = require('../lib/exec-runner');

const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

// For the split by predecessor: what kind of work ran just before a sample.
const KIND = { viaNlkit: 'nlkit', viaBinding: 'nlkit', viaFloor: 'floor', viaIp: 'ip' };
const KINDS = [
  ['nlkit', "nlkit's own call"],
  ['floor', 'the C floor (1 ms, another process)'],
  ['ip', '`ip` commands (about 25 ms of processes)'],
];

async function profileCase({ quick, log }) {
  const n = quick ? 20 : 300;
  const floor = startFloor();
  const exec = startExecRunner();
  const stages = { js: [], read: [], queue: [], syscalls: [], worker: [], back: [], materialize: [], settle: [], total: [] };
  // Per call: whether the worker started on the CPU the JS thread queued the call on, and whether
  // the JS thread took the result on the CPU the worker finished on.
  const sameCpu = { queue: [], back: [] };
  const floorPhases = { veth: [], socket: [], batch: [], total: [] };
  const bindingAlone = [];
  // The kind of way that ran just before each attachContainer and floor sample ('setup' first).
  const nlkitAfter = [];
  const floorAfter = [];
  let previous = 'setup';
  const made = [];
  const bridges = [];
  const random = seededRandom(n);
  try {
    for (let k = 0; k < 4; k++) bridges.push((await nl.ensureBridge({ name: `benchpr${k}`, addresses: [`10.${90 + k}.0.1/16`] })).link);
    await settle();
    // Namespaces are made a block of rounds ahead (as in the attach case): made right before a
    // round, they were nlkit calls that woke nlkit's threads for whichever way ran first. A block's
    // first call follows that setup and is left out of the split by predecessor.
    const BLOCK = 10;
    const nss = [];
    for (let i = 0; i < n; i++) {
      if (i % BLOCK === 0) {
        nss.length = 0;
        for (let j = i; j < Math.min(n, i + BLOCK); j++) {
          const four = [];
          for (const tag of ['a', 'f', 'b', 'i']) four.push(await containerNetns(`p-${tag}${j}`));
          made.push(...four);
          nss.push(four);
        }
        previous = 'setup';
      }
      const [nsA, nsF, nsB, nsI] = nss[i % BLOCK];
      const viaNlkit = async () => {
        const spec = { netns: nsA, bridge: bridges[0].index, hostIfname: `pa${i}`, addresses: [`${hostAddress('10.90', i)}/16`], gateway: '10.90.0.1' };
        const t0 = nowUs();
        await nl.attachContainer(spec);
        const t1 = nowUs();
        const t = native.lastJobTiming();
        stages.js.push(t.entered - t0);
        stages.read.push(t.submitted - t.entered);
        stages.queue.push(t.started - t.submitted);
        stages.syscalls.push(t.syscalls);
        stages.worker.push(t.finished - t.started - t.syscalls);
        stages.back.push(t.delivered - t.finished);
        stages.materialize.push(t.settled - t.delivered);
        stages.settle.push(t1 - t.settled);
        stages.total.push(t1 - t0);
        sameCpu.queue.push(t.startedCpu === t.submittedCpu);
        sameCpu.back.push(t.deliveredCpu === t.finishedCpu);
        nlkitAfter.push(previous);
      };
      const viaFloor = async () => {
        const r = await floor.attach({ netnsPath: nsF.path, hostIfname: `pf${i}`, bridgeIndex: bridges[1].index, address: hostAddress('10.91', i), prefixLength: 16, gateway: '10.91.0.1' });
        floorPhases.veth.push(r.phases.vethCreated * 1e3);
        floorPhases.socket.push((r.phases.socketOpen - r.phases.vethCreated) * 1e3);
        floorPhases.batch.push((r.phases.batchDone - r.phases.socketOpen) * 1e3);
        floorPhases.total.push(r.ms * 1e3);
        floorAfter.push(previous);
      };
      // The addon's binding called directly, with the arguments attachContainer's own validation
      // makes, prepared before the clock: nlkit without its JS layer (no validation, no result
      // object), so what that layer costs shows.
      const viaBinding = async () => {
        const { args } = attachRequest({ netns: nsB, bridge: bridges[2].index, hostIfname: `pb${i}`, addresses: [`${hostAddress('10.92', i)}/16`], gateway: '10.92.0.1' });
        const t0 = nowUs();
        await native.containerAttach(...args);
        bindingAlone.push(nowUs() - t0);
      };
      // The attach case's `ip` way, here only to give the other ways a predecessor that is
      // processes: how each stage pays for sleeping through them.
      const viaIp = () => ATTACH_WAYS.ipCommands({ ns: nsI, bridge: bridges[3], host: `pi${i}`, address: hostAddress('10.93', i), gateway: '10.93.0.1' }, { exec });
      for (const way of shuffled([viaNlkit, viaFloor, viaBinding, viaIp], random)) {
        await way();
        previous = KIND[way.name];
      }
    }
  } finally {
    await floor.close();
    await exec.close();
    await dropNamespaces(made);
    for (const b of bridges) await nl.deleteLink(b.index).catch(() => {});
    await settle();
  }

  const total = median(stages.total);
  const row = (label, xs, where) => [label, where, us(median(xs)), `${((100 * median(xs)) / total).toFixed(0)}%`];
  log('## profile: where one attachContainer spends its time\n');
  log(`${n} calls, each interleaved (in shuffled order) with the C floor doing the same, the bare binding and \`ip\`;`);
  log('medians per stage (they need not add up to the median total). "system calls" is the worker\'s time inside');
  log('sendmsg/recvmsg/setns/socket: the kernel\'s work.\n');
  log(
    table(
      ['stage', 'where', 'median', 'share of total'],
      [
        row('validation, request building', stages.js, 'JS'),
        row('reading the request', stages.read, 'addon, JS thread'),
        row('queue to a worker', stages.queue, 'thread hand-off'),
        row('system calls', stages.syscalls, 'kernel'),
        row('encoding, decoding, bookkeeping', stages.worker, 'addon, worker'),
        row('back to the JS thread', stages.back, 'thread hand-off'),
        row('building the result object', stages.materialize, 'addon, JS thread'),
        row('promise to the caller', stages.settle, 'JS'),
        ['**total**', '', `**${us(total)}**`, '100%'],
      ],
    ),
  );
  log('');
  log(
    table(
      ['C floor phase', 'median'],
      [
        ['veth created (round trip 1)', us(median(floorPhases.veth))],
        ['setns + socket in the container', us(median(floorPhases.socket))],
        ['container batch (round trip 2)', us(median(floorPhases.batch))],
        ['**total**', `**${us(median(floorPhases.total))}**`],
      ],
    ),
  );
  log('');
  const floorTotal = median(floorPhases.total);
  log('The whole call against the addon\'s binding called alone, with arguments prepared before the clock');
  log('(nlkit without its JS layer: no validation, no result object), in the same interleave:\n');
  log(
    table(
      ['way', 'median', 'vs floor'],
      [
        ['attachContainer', us(total), ratio(total, floorTotal)],
        ['the binding alone', us(median(bindingAlone)), ratio(median(bindingAlone), floorTotal)],
        ['floor', us(floorTotal), ratio(floorTotal, floorTotal)],
      ],
    ),
  );
  log('');

  // The same stages split by what ran just before: which of them pay for a cold machine.
  const split = (xs, after, kind) => median(xs.filter((_, j) => after[j] === kind));
  const splitRow = (label, xs) => [label, ...KINDS.map(([kind]) => us(split(xs, nlkitAfter, kind)))];
  log('The same medians by what ran just before the call: nlkit\'s own (the bare binding or attachContainer, about');
  log('half the calls: the ways are shuffled every round), the floor, or `ip`. The floor\'s by the same:\n');
  log(
    table(
      ['stage', ...KINDS.map(([, label]) => `after ${label}`)],
      [
        splitRow('JS before the binding (validation)', stages.js),
        splitRow('addon on the JS thread (request, result)', stages.read.map((x, j) => x + stages.materialize[j])),
        splitRow('JS after the addon (promise, result)', stages.settle),
        splitRow('thread hand-offs (queue and back)', stages.queue.map((x, j) => x + stages.back[j])),
        splitRow('addon on the worker', stages.worker),
        splitRow('system calls', stages.syscalls),
        splitRow('**attachContainer, total**', stages.total),
        ['C floor, total', ...KINDS.map(([kind]) => us(split(floorPhases.total, floorAfter, kind)))],
        ['attachContainer vs floor', ...KINDS.map(([kind]) => ratio(split(stages.total, nlkitAfter, kind), split(floorPhases.total, floorAfter, kind)))],
      ],
    ),
  );
  log('');

  // What the two hand-offs cost on this machine with nothing of nlkit's: the same in C.
  const rounds = quick ? 20 : 200;
  const handoff = { same: measureHandoff(rounds, 1000, 'same'), other: measureHandoff(rounds, 1000, 'other') };
  // nlkit's own hand-offs of this run, by whether the woken thread ran on its waker's CPU.
  const byCpu = (xs, same, want) => {
    const picked = xs.filter((_, j) => same[j] === want);
    return picked.length === 0 ? '-' : `${us(median(picked))} (${picked.length})`;
  };
  const cOnly = (where, key) => (handoff[where] === undefined ? '-' : us(handoff[where][key]));
  log('The two thread hand-offs by where the woken thread ran: nlkit\'s in this run (median, and how many');
  log('calls), from the CPU each thread reported; and the same two hand-offs in C with nothing else');
  log(`(bench/handoff.c: a condition variable, the worker busy for 1 ms, both threads idle 1 ms between rounds,`);
  log(`the threads pinned; medians of ${rounds}). A thread woken on another, idle CPU pays for waking that CPU:\n`);
  log(
    table(
      ['hand-off', 'nlkit, on the same CPU', 'nlkit, on another CPU', 'C, same CPU', 'C, two CPUs'],
      [
        ['to the worker', byCpu(stages.queue, sameCpu.queue, true), byCpu(stages.queue, sameCpu.queue, false), cOnly('same', 'toWorkerUs'), cOnly('other', 'toWorkerUs')],
        ['back to the JS thread', byCpu(stages.back, sameCpu.back, true), byCpu(stages.back, sameCpu.back, false), cOnly('same', 'backUs'), cOnly('other', 'backUs')],
      ],
    ),
  );
  log('');
  return { stages, floorPhases, bindingAlone, nlkitAfter, floorAfter, handoff };
}

module.exports = { profileCase };
