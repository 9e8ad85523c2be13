// Case "nat": adding a masquerade rule and port mappings in nlkit's nftables table, against the
// same changes made by `nft` commands (one process each) in a table of their own; then 10,000
// port mappings one after another, comparing the adds around the 10th and the 10,000th (a mapping
// is one map element: its cost must not grow with the number of mappings).
'use strict';
const { performance } = require('node:perf_hooks');
const nl = require('../..');
const { startExecRunner } = require('../lib/exec-runner');
const { have, settle } = require('../lib/machine');
const { median, ms, ratio, table, waysTable } = require('../lib/stats');

async function natCase({ quick, log }) {
  const mappings = Number(process.env.NLKIT_BENCH_MAPPINGS || (quick ? 300 : 10_000));
  const samples = quick ? 10 : 100;
  const window = 20;
  const withNft = have('nft');
  const ns = await nl.createNetns('nat-bench');
  const exec = startExecRunner();
  const masq = { addMasquerade: [], 'nft add rule': [] };
  const mapping = { addPortMapping: [], 'nft add element': [] };
  const times = [];
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
      if (withNft && i % 2) await viaNft();
      await viaNlkit();
      if (withNft && !(i % 2)) await viaNft();
    }

    // Mappings: the first `samples` interleaved with nft's element adds, then nlkit alone.
    for (let i = 0; i < mappings; i++) {
      const port = 1024 + i;
      const containerIp = `10.88.${(i >> 8) & 255}.${(i & 255) || 1}`;
      const t0 = performance.now();
      await nl.addPortMapping({ protocol: 'tcp', hostPort: port, containerIp, containerPort: 80, netns: ns });
      times.push(performance.now() - t0);
      if (i > 0 && i <= samples) mapping.addPortMapping.push(times[i]);
      if (withNft && i > 0 && i <= samples) {
        mapping['nft add element'].push((await nftIn('add', 'element', 'inet', 'benchnft', 'tcp4', `{ ${port} : ${containerIp} . 80 }`)).ms);
      }
    }
  } finally {
    await exec.close();
    await nl.flushNat({ netns: ns }).catch(() => {});
    ns.close();
    await nl.deleteNetns('nat-bench').catch(() => {});
  }
  // Sample 0 creates nlkit's table, chains and maps; leave it out.
  const around = (n) => times.slice(Math.max(1, n - window / 2), n + window / 2);
  const tenth = median(around(10));
  const last = median(around(mappings - window / 2));
  log('## nat: nftables changes\n');
  log(`In a scratch namespace. ${withNft ? '`nft` runs as one process per change, in a table of its own.' : '(nft not installed: baselines skipped.)'}\n`);
  log('Adding a masquerade rule (nlkit reads the generation and its rules to stay idempotent, then commits one batch):\n');
  log(waysTable(masq, 'addMasquerade'));
  log('\nAdding a port mapping (one map element):\n');
  log(waysTable(mapping, 'addPortMapping'));
  log(`\nThe cost of a mapping as the table grows (median of ${window} adds around each point):\n`);
  log(
    table(
      ['addPortMapping', 'median', 'vs the 10th'],
      [
        ['the 10th', ms(tenth), '1.00x'],
        [`the ${mappings.toLocaleString('en')}th`, ms(last), ratio(last, tenth)],
      ],
    ),
  );
  log('');
  return { masq, mapping, times };
}

module.exports = { natCase };
