// Case "nat": adding a masquerade rule and port mappings in nlkit's nftables table, against the
// same changes made by `nft` commands (one process each) in a table of their own, interleaved in
// a shuffled order; then 10,000 port mappings one after another with nothing in between, comparing
// the adds around the 10th and the 10,000th (a mapping is one map element: its cost must not grow
// with the number of mappings).
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('../..');
const { startExecRunner } = require('../lib/exec-runner');
const { have, settle } = require('../lib/machine');
const { seededRandom, shuffled, waysTable } = require('../lib/stats');

async function natCase({ quick, log }) {
  const mappings = Number(process.env.NLKIT_BENCH_MAPPINGS || (quick ? 300 : 10_000));
  const samples = quick ? 10 : 100;
  const withNft = have('nft');
  const ns = await nl.createNetns('nat-bench');
  const exec = startExecRunner();
  const masq = { addMasquerade: [], 'nft add rule': [] };
  const mapping = { addPortMapping: [], 'nft add element': [] };
  const times = [];
  const growth = { small: [], big: [] };
  try {
    await settle();
    // nft's own table, made the way a script would: a postrouting nat chain and a port map.
    const script = [
      'add table inet benchnft',
      'add chain inet benchnft postrouting { type nat hook postrouting priority srcnat; }',
      'add map inet benchnft tcp4 { type inet_service : ipv4_addr . inet_service; }',
    ];
    // `ip netns exec` adds its own process; the nft rows include it, as a script's would. Run and
    // timed in lib/exec-runner.js's co-process: a fork in this process would charge nlkit's next call.
    const nftIn = async (...args) => {
      const { ms, results } = await exec.run([{ file: 'ip', args: ['netns', 'exec', 'nat-bench', 'nft', ...args] }]);
      return { ms, out: results[0].stdout };
    };
    if (withNft) for (const line of script) await nftIn(...line.split(' '));

    const random = seededRandom(samples); // a new order for every pair of samples
    for (let i = 0; i < samples; i++) {
      const spec = { source: '172.18.0.0/16', excludeInterface: 'docker1', netns: ns };
      const viaNlkit = async () => {
        const t0 = performance.now();
        await nl.addMasquerade(spec);
        masq.addMasquerade.push(performance.now() - t0);
        await nl.removeMasquerade(spec);
      };
      const viaNft = async () => {
        const { ms: took, out } = await nftIn('--echo', '--handle', 'add', 'rule', 'inet', 'benchnft', 'postrouting', 'ip', 'saddr', '172.18.0.0/16', 'oifname', '!=', 'docker1', 'masquerade');
        masq['nft add rule'].push(took);
        const handle = /# handle (\d+)/u.exec(out)?.[1];
        if (handle) await nftIn('delete', 'rule', 'inet', 'benchnft', 'postrouting', 'handle', handle);
      };
      for (const way of withNft ? shuffled([viaNlkit, viaNft], random) : [viaNlkit]) await way();
    }

    // One mapping against nft's element add, interleaved in a shuffled order (UDP mappings: a map
    // of their own, so the growth series below starts from an empty TCP map).
    for (let i = 0; i <= samples; i++) {
      const port = 1024 + i;
      const containerIp = `10.89.0.${(i & 255) || 1}`;
      const viaNlkit = async () => {
        const t0 = performance.now();
        await nl.addPortMapping({ protocol: 'udp', hostPort: port, containerIp, containerPort: 53, netns: ns });
        // The first creates nlkit's table, chains and maps: left out.
        if (i > 0) mapping.addPortMapping.push(performance.now() - t0);
      };
      const viaNft = async () => {
        const took = (await nftIn('add', 'element', 'inet', 'benchnft', 'tcp4', `{ ${port} : ${containerIp} . 80 }`)).ms;
        if (i > 0) mapping['nft add element'].push(took);
      };
      for (const way of withNft ? shuffled([viaNlkit, viaNft], random) : [viaNlkit]) await way();
    }

    // Growth. Adds measured at two different times (the 10th early in the run, the 10,000th at its
    // end) compared whatever the machine was doing then: windows of 20 consecutive adds moved
    // between 0.07 and 0.14 ms within one run. So the two sizes are measured side by side instead:
    // the IPv4 TCP map is filled to `mappings` elements, the IPv6 TCP map (another map in the same
    // table, the same path) holds 9; then, interleaved in a shuffled order, one add to each: the
    // 10,001st and after into the big map, the 10th and after into the small one. (Removing each
    // small add again, to stay at the 10th, made the next add pay for the removal's deferred
    // cleanup in the kernel: the add after a removal cost twice as much, whichever map.)
    const small = (k) => ({ protocol: 'tcp', hostPort: 20000 + k, containerIp: `fd00::${(k % 9000) + 1}`, containerPort: 80, netns: ns });
    for (let k = 0; k < 9; k++) await nl.addPortMapping(small(k));
    for (let i = 0; i < mappings; i++) {
      const port = 1024 + i;
      const containerIp = `10.88.${(i >> 8) & 255}.${(i & 255) || 1}`;
      const t0 = performance.now();
      await nl.addPortMapping({ protocol: 'tcp', hostPort: port, containerIp, containerPort: 80, netns: ns });
      times.push(performance.now() - t0);
    }
    await settle();
    for (let r = 0; r < samples; r++) {
      const intoBig = async () => {
        const t0 = performance.now();
        await nl.addPortMapping({ protocol: 'tcp', hostPort: 1024 + mappings + r, containerIp: '10.88.254.1', containerPort: 80, netns: ns });
        growth.big.push(performance.now() - t0);
      };
      const intoSmall = async () => {
        const t0 = performance.now();
        await nl.addPortMapping(small(9 + r));
        growth.small.push(performance.now() - t0);
      };
      for (const way of shuffled([intoBig, intoSmall], random)) await way();
    }
  } finally {
    await exec.close();
    await nl.flushNat({ netns: ns }).catch(() => {});
    ns.close();
    await nl.deleteNetns('nat-bench').catch(() => {});
  }
  log('## nat: nftables changes\n');
  log(`In a scratch namespace. ${withNft ? '`nft` runs as one process per change, in a table of its own.' : '(nft not installed: baselines skipped.)'}\n`);
  log('Adding a masquerade rule (nlkit reads the generation and its rules to stay idempotent, then commits one batch):\n');
  log(waysTable(masq, 'addMasquerade'));
  log('\nAdding a UDP port mapping (one map element, then the conntrack entries of UDP flows to the port cleared: one\nctnetlink dump, for which the kernel walks its whole conntrack hash table):\n');
  log(waysTable(mapping, 'addPortMapping'));
  const smallName = `the 10th to ${9 + samples}th`;
  const bigName = `the ${(mappings + 1).toLocaleString('en')}st to ${(mappings + samples).toLocaleString('en')}th`;
  log(`\nThe cost of a mapping as the table grows: adds into a map of 9 and into one of ${mappings.toLocaleString('en')} (the adds`);
  log(`that filled it ran before), interleaved in a shuffled order, ${samples} each:\n`);
  log(waysTable({ [smallName]: growth.small, [bigName]: growth.big }, smallName, 'the small map'));
  log('');
  return { masq, mapping, times, growth };
}

module.exports = { natCase };
