// The `nlkit` command, run as users run it (node bin/nlkit.js ...), against namespaces this file
// makes: every subcommand's table and JSON, read back through the API and `ip`/`nft`; --help,
// bad flags and exit codes (0 done, 1 failed, 2 wrong usage); and the demo, whole and with a path
// broken on purpose.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBridge, createNetns, createVethPair, deleteNetns, listLinks, listNetns, listPortMappings, setLink, addAddress, type AttachResult, type Link } from '../lib/index';
import { describeEvent } from '../lib/cli/commands';
import { paint, table } from '../lib/cli/format';
import { Progress } from '../lib/cli/progress';
import { eventually } from './helpers/expect';
import { ipAddrsOf, ipLink, ipNetnsList, ipRoutes } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qcl');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

const BIN = join(__dirname, '..', 'bin', 'nlkit.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nlkit(args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs and expects exit 0 and nothing on stderr; returns stdout. */
function ok(args: string[]): string {
  const r = nlkit(args);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}

function okJson<T>(args: string[]): T {
  return JSON.parse(ok([...args, '--json'])) as T;
}

const SUBCOMMANDS = ['demo', 'links', 'addrs', 'routes', 'netns', 'attach', 'detach', 'nat', 'peer', 'sweep', 'watch', 'bench'];

describe('help and usage errors', () => {
  it('lists every subcommand; no command at all is a usage error', () => {
    const help = ok(['--help']);
    for (const c of SUBCOMMANDS) expect(help).toMatch(new RegExp(`^  ${c} `, 'm'));
    const none = nlkit([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('usage: nlkit <command>');
  });

  it.each(SUBCOMMANDS)('%s --help shows its usage and options, exit 0', (c) => {
    const help = ok([c, '--help']);
    expect(help.startsWith(`usage: nlkit ${c}`)).toBe(true);
    // Every command prints JSON on --json but bench, whose help must not offer it (it refuses it).
    if (c === 'bench') {
      expect(help).not.toContain('--json');
      expect(nlkit(['bench', '--json']).code).toBe(2);
    } else {
      expect(help).toContain('--json');
    }
  });

  it('unknown commands, unknown flags, missing values and bad values exit 2 naming what was wrong', () => {
    const cases: [string[], RegExp][] = [
      [['nope'], /unknown command 'nope'/],
      [['links', '--bogus'], /nlkit links: Unknown option '--bogus'/],
      [['links', '--netns'], /--netns/],
      [['links', 'extra'], /unexpected argument 'extra'/],
      [['routes', '--table', 'main'], /--table must be an integer/],
      [['netns', 'frob'], /unknown netns action 'frob'/],
      [['netns', 'add'], /netns add needs a NAME/],
      [['attach', '--bridge', 'br0'], /--netns is required/],
      [['attach', '--netns', 'x', '--bridge', 'br0', '--route', '10.9.0.0/16 gw 10.0.0.1'], /unknown word 'gw'/],
      [['attach', '--netns', 'x', '--bridge', 'br0', '--route', '10.9.0.0/16 metric'], /'metric' needs a value/],
      [['attach', '--netns', 'x', '--bridge', 'br0', '--address', '10.0.0.300/8'], /invalid addresses\[0\]: '10\.0\.0\.300\/8'/],
      [['detach', '--netns', 'x', '--host-ifname', 'v'], /not both/],
      [['nat', 'publish', '--to', '10.0.0.2'], /--to must be IP:PORT/],
      [['nat', 'publish', '--to', '10.0.0.2:80', '--protocol', 'sctp'], /--protocol must be tcp or udp/],
      [['nat', 'publish', '--to', '10.0.0.2:80', '--remove'], /--remove belongs to nat masq, not nat publish/],
      [['nat', 'list', '--source', '10.0.0.0/8'], /--source belongs to nat masq, not nat list/],
      [['sweep'], /--keep ID/],
      [['watch', '--groups', 'links'], /unknown group 'links'/],
      [['watch', '--count', '0'], /--count must be an integer from 1/],
      [['demo', '--break', 'everything'], /--break must be one of/],
      [['demo', '--break', 'constructor'], /--break must be one of/],
      [['bench', 'now'], /unexpected argument 'now'/],
    ];
    for (const [args, message] of cases) {
      const r = nlkit(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('a kernel or system refusal exits 1 with the error on stderr', () => {
    const missing = nlkit(['links', '--netns', `${names.nsPrefix}absent`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT/);
    expect(missing.stdout).toBe('');
  });
});

describe('operator subcommands', () => {
  it('netns add, list and del, seen by ip netns list', async () => {
    const name = names.netns('cli');
    expect(ok(['netns', 'add', name])).toBe(`added namespace ${name}\n`);
    expect(ipNetnsList()).toContain(name);
    expect(okJson<string[]>(['netns', 'list'])).toContain(name);
    expect(ok(['netns', 'list'])).toMatch(new RegExp(`^${name}$`, 'm'));
    const twice = nlkit(['netns', 'add', name]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/EEXIST/);
    expect(okJson<{ deleted: string }>(['netns', 'del', name])).toEqual({ deleted: name });
    expect(ipNetnsList()).not.toContain(name);
  });

  it('links, addrs and routes show what the namespace holds, as tables and as the API returns it', async () => {
    const ns = await res.netns('show');
    const br = names.link('br');
    await createBridge(br, { netns: ns });
    await setLink(br, { up: true }, { netns: ns });
    await addAddress(br, '10.77.0.1/24', { netns: ns });

    const table = ok(['links', '--netns', ns.name]).split('\n');
    expect(table[0]).toMatch(/^index\s+name\s+kind\s+state\s+mtu\s+mac/);
    expect(table.find((l) => l.includes(br))).toMatch(new RegExp(`^\\s*\\d+\\s+${br}\\s+bridge\\s+UP`));
    const linksJson = okJson<Link[]>(['links', '--netns', ns.name]);
    expect(linksJson).toEqual(JSON.parse(JSON.stringify(await listLinks({ netns: ns }))));
    expect(linksJson.find((l) => l.name === br)?.mac).toBe(ipLink(br, ns.name)?.address);

    expect(ok(['addrs', '--netns', ns.name])).toMatch(new RegExp(`^${br}\\s+ipv4\\s+10\\.77\\.0\\.1/24\\s+global`, 'm'));
    const addrs = okJson<{ cidr: string; link: number }[]>(['addrs', '--netns', ns.name]);
    expect(addrs.map((a) => a.cidr)).toContain('10.77.0.1/24');
    expect(ipAddrsOf(br, ns.name, 4).map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.77.0.1/24']);

    expect(ok(['routes', '--netns', ns.name])).toMatch(new RegExp(`^10\\.77\\.0\\.0/24\\s+${br}\\s+10\\.77\\.0\\.1\\s+254\\s+link`, 'm'));
    const local = okJson<{ to: string; table: number }[]>(['routes', '--netns', ns.name, '--table', '255']);
    expect(local.every((r) => r.table === 255)).toBe(true);
    expect(local.map((r) => r.to)).toContain('10.77.0.1/32');
  });

  it('attach, peer and detach a container, checked in both namespaces', async () => {
    const host = await res.netns('h');
    const ctr = await res.netns('c');
    const br = names.link('br');
    await createBridge(br, { netns: host });
    await setLink(br, { up: true }, { netns: host });
    const hostIfname = names.link('v');
    const attached = okJson<AttachResult>([
      'attach', '--netns', ctr.name, '--host-netns', host.name, '--bridge', br, '--host-ifname', hostIfname,
      '--address', '10.78.0.2/16', '--address', 'fd78::2/64', '--gateway', '10.78.0.1', '--gateway', 'fd78::1', '--owner', 'ctr-cli', '--mtu', '1400',
      '--route', '10.99.0.0/16 via 10.78.0.254 metric 50',
    ]);
    expect(attached.routes.map((r) => `${r.to} ${r.via} ${r.metric ?? ''}`.trim())).toEqual(['default 10.78.0.1', 'default fd78::1', '10.99.0.0/16 10.78.0.254 50']);
    expect(ipRoutes(ctr.name, 4, ['10.99.0.0/16'])).toMatchObject([{ dst: '10.99.0.0/16', gateway: '10.78.0.254', dev: 'eth0', metric: 50 }]);
    expect(attached.host).toMatchObject({ name: hostIfname, mtu: 1400 });
    expect(attached.container).toMatchObject({ name: 'eth0', mtu: 1400 });
    expect(attached.addresses).toEqual(['10.78.0.2/16', 'fd78::2/64']);
    expect(ipLink(hostIfname, host.name)).toMatchObject({ master: br, ifalias: 'nlkit:ctr-cli', address: attached.host.mac });
    expect(ipAddrsOf('eth0', ctr.name, 4).map((a) => a.local)).toEqual(['10.78.0.2']);

    const peerTable = ok(['peer', 'eth0', '--netns', ctr.name]);
    expect(peerTable).toMatch(new RegExp(`^${hostIfname}\\s+${attached.host.index}\\s+${host.name}`, 'm'));
    const peer = okJson<{ link: Link; netnsName?: string }>(['peer', 'eth0', '--netns', ctr.name]);
    expect(peer.link.name).toBe(hostIfname);
    expect(peer.netnsName).toBe(host.name);

    expect(ok(['detach', '--netns', ctr.name])).toBe('detached\n');
    expect(ipLink('eth0', ctr.name)).toBeUndefined();
    expect(ipLink(hostIfname, host.name)).toBeUndefined();
    ok(['detach', '--netns', ctr.name]); // already gone: still success
    // With --owner, the mappings added with that id go too (none here: the host has no NAT table).
    expect(ok(['detach', '--netns', ctr.name, '--host-netns', host.name, '--owner', 'ctr-cli'])).toBe('detached, 0 port mappings removed\n');
  });

  it('nat masq, publish, list, unpublish and sweep, witnessed by nft', async () => {
    const host = await res.netns('n');
    const nft = () => execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
    expect(ok(['nat', 'masq', '--netns', host.name, '--source', '10.79.0.0/16', '--exclude', 'br9'])).toMatch(/^added nlkit masquerade/);
    expect(nft()).toMatch(/ip saddr 10\.79\.0\.0\/16 oifname != "br9" .*masquerade/);
    expect(okJson<{ added: boolean }>(['nat', 'masq', '--netns', host.name, '--source', '10.79.0.0/16', '--exclude', 'br9']).added).toBe(false);

    expect(ok(['nat', 'publish', '--netns', host.name, '--host-port', '8088', '--to', '10.79.0.2:80', '--owner', 'ctr-a'])).toBe('published tcp *:8088 -> 10.79.0.2:80\n');
    const udp = okJson<{ hostPort: number; protocol: string }>(['nat', 'publish', '--netns', host.name, '--protocol', 'udp', '--to', '10.79.0.3:53', '--owner', 'ctr-b']);
    expect(udp.protocol).toBe('udp');
    expect(udp.hostPort).toBeGreaterThanOrEqual(32768);
    expect(nft()).toContain('8088 comment "nlkit:ctr-a" : 10.79.0.2 . 80');

    const listed = ok(['nat', 'list', '--netns', host.name]);
    expect(listed).toMatch(/^postrouting\s+masquerade\s+\d+\s+nlkit masquerade saddr 10\.79\.0\.0\/16 oifname != br9$/m);
    expect(listed).toMatch(/^tcp\s+\*:8088\s+10\.79\.0\.2:80\s+ctr-a$/m);
    const inspection = okJson<{ exists: boolean; portMappings: unknown[]; rules: { kind: string }[] }>(['nat', 'list', '--netns', host.name]);
    expect(inspection.exists).toBe(true);
    expect(inspection.portMappings).toEqual(JSON.parse(JSON.stringify(await listPortMappings({ netns: host }))));

    expect(ok(['nat', 'unpublish', '--netns', host.name, '--host-port', '8088', '--to', '10.79.0.2:80'])).toBe('removed\n');
    expect(ok(['nat', 'unpublish', '--netns', host.name, '--host-port', '8088', '--to', '10.79.0.2:80'])).toBe('no such mapping\n');
    expect(nft()).not.toContain('8088');

    const swept = okJson<{ portMappings: { owner: string }[] }>(['sweep', '--netns', host.name, '--keep', 'ctr-a']);
    expect(swept.portMappings.map((m) => m.owner)).toEqual(['ctr-b']);
    expect(await listPortMappings({ netns: host })).toEqual([]);
    expect(ok(['nat', 'masq', '--netns', host.name, '--source', '10.79.0.0/16', '--exclude', 'br9', '--remove'])).toBe('removed 2 rule(s)\n'); // and its hairpin rule
    expect(nft()).not.toContain('10.79.0.0/16 oifname');

    // A /0 source: no hairpin by default (the library's rule), so the plain command works.
    expect(ok(['nat', 'masq', '--netns', host.name, '--source', '0.0.0.0/0', '--out', 'lo'])).toMatch(/^added nlkit masquerade saddr 0\.0\.0\.0\/0/);
    expect(nft()).toMatch(/oifname "lo" .*masquerade/);
    expect(nft()).not.toContain('hairpin');
    expect(ok(['nat', 'masq', '--netns', host.name, '--source', '0.0.0.0/0', '--out', 'lo', '--remove'])).toBe('removed 1 rule(s)\n');
  });

  it('sweep removes the veths of containers not kept, and keeps the others', async () => {
    const host = await res.netns('sw');
    const br = names.link('br');
    await createBridge(br, { netns: host });
    const made: string[] = [];
    for (const id of ['keep-me', 'gone']) {
      const ctr = await res.netns('sc');
      made.push(okJson<AttachResult>(['attach', '--netns', ctr.name, '--host-netns', host.name, '--bridge', br, '--address', '10.80.0.2/16', '--owner', id]).host.name);
    }
    const table = ok(['sweep', '--netns', host.name, '--keep', 'keep-me']);
    expect(table).toMatch(new RegExp(`^link\\s+${made[1]}\\s+gone$`, 'm'));
    expect(ipLink(made[0]!, host.name)).toBeDefined();
    expect(ipLink(made[1]!, host.name)).toBeUndefined();
  });
});

describe('nlkit watch', () => {
  it('prints what exists, then changes as they happen, and exits 0 on SIGINT', async () => {
    const ns = await res.netns('wt');
    const child = spawn(process.execPath, [BIN, 'watch', '--netns', ns.name, '--groups', 'link,address', '--list'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually(() => expect(out).toContain('synced: the state above is current'), 10_000);
      expect(out).toMatch(/^link new lo #1 DOWN\/\w+ mtu 65536 \(existing\)$/m);
      const a = names.link('a');
      await createVethPair({ name: a, netns: ns, peer: { name: names.link('b') } });
      await eventually(() => expect(out).toMatch(new RegExp(`^link new ${a} #${ipLink(a, ns.name)?.ifindex} DOWN/down mtu 1500$`, 'm')));
      await setLink(a, { up: true }, { netns: ns });
      await eventually(() => expect(out).toMatch(new RegExp(`^link new ${a} #\\d+ UP/`, 'm')));
      await addAddress(a, '10.85.0.1/24', { netns: ns });
      await eventually(() => expect(out).toMatch(new RegExp(`^address new 10\\.85\\.0\\.1/24 dev ${a}`, 'm')));
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(err).toBe('');
  });

  it('--json prints one event per line; --count stops after that many', () => {
    const lines = ok(['watch', '--groups', 'link,address', '--list', '--count', '2', '--json']).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'link', action: 'new', existing: true, link: { name: 'lo', index: 1 } });
    const events = lines.map((l) => JSON.parse(l) as { type: string; existing?: boolean });
    expect(events.every((e) => e.type === 'synced' || e.existing === true)).toBe(true);
  });

  it('an overrun line says whether the kernel dropped notifications or nlkit could not read one', () => {
    // The watch yields both kinds (decoder-robustness tests the unreadable one); the line must not
    // blame the kernel for a notification it did deliver.
    expect(describeEvent({ type: 'overrun' }, new Map())).toBe('overrun: the kernel dropped notifications');
    expect(describeEvent({ type: 'overrun', unreadable: 'truncated attribute' }, new Map())).toBe(
      'overrun: a notification nlkit could not read (truncated attribute)',
    );
  });
});

describe('nlkit bench', () => {
  it('runs the suite (one small case here) and refuses an unknown case', () => {
    const r = nlkit(['bench'], { ...process.env, NLKIT_BENCH_QUICK: '1', NLKIT_BENCH_CASES: 'teardown' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# nlkit bench (quick)');
    expect(r.stdout).toMatch(/^\| nlkit createNetns \|/m);
    const bad = nlkit(['bench'], { ...process.env, NLKIT_BENCH_CASES: 'nope' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown case 'nope'/);
  });
});

describe('nlkit demo', () => {
  interface Report {
    steps: { step: string; ms: number }[];
    paths: { path: string; ok: boolean; expected: string; got: string }[];
    leftovers: string[];
    passed: number;
    failed: number;
  }

  it('builds the network, passes every path, prints the report and leaves nothing behind', () => {
    const before = ipNetnsList();
    const r = nlkit(['demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const path of ['ctr1 -> ctr2', 'ctr1 -> gateway', 'ctr1 -> outside', 'outside -> published tcp', 'outside -> published udp', 'host -> its own', 'ctr2 -> 192\\.0\\.2\\.2:8080 -> ctr1 \\(hairpin\\)']) {
      expect(r.stdout).toMatch(new RegExp(`^PASS\\s+${path}`, 'm'));
    }
    expect(r.stdout).toMatch(/^\s*\d+\.\d+\s+attachContainer ctr1 10\.88\.0\.2\/16/m);
    expect(r.stdout).toContain('all 7 paths passed');
    expect(r.stdout).not.toMatch(/\u001b\[/); // no colours when stdout is not a terminal
    expect(ipNetnsList()).toEqual(before);
  });

  it('--json gives the same report as JSON, and nothing else on stdout', () => {
    const r = nlkit(['demo', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.paths).toHaveLength(7);
    expect(report.paths.every((p) => p.ok && p.got === p.expected)).toBe(true);
    expect(report.paths.find((p) => p.path.includes('masquerade'))?.got).toBe('outside saw 192.0.2.2');
    expect(report.steps.length).toBeGreaterThan(10);
    expect(report.steps.every((s) => s.ms > 0)).toBe(true);
    expect(report).toMatchObject({ passed: 7, failed: 0, leftovers: [] });
  });

  it('fails visibly, naming the path, when one is broken on purpose, and still cleans up', () => {
    const before = ipNetnsList();
    const r = nlkit(['demo', '--break', 'masquerade']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL\s+ctr1 -> outside 192\.0\.2\.1, as the host's 192\.0\.2\.2 \(masquerade\)\s+expected 'outside saw 192\.0\.2\.2', got 'timeout'/m);
    expect(r.stdout).toMatch(/1 of 7 paths FAILED: ctr1 -> outside/);
    expect(r.stdout).toMatch(/^PASS\s+ctr1 -> ctr2/m);
    expect(ipNetnsList()).toEqual(before);

    const cut = JSON.parse(nlkit(['demo', '--json', '--break', 'bridge']).stdout) as Report;
    expect(cut.paths.filter((p) => !p.ok).map((p) => p.path)).toEqual(['ctr1 -> ctr2 (same bridge)', 'ctr2 -> 192.0.2.2:8080 -> ctr1 (hairpin)']);
  });

  it('re-executes itself in fresh namespaces when not already isolated', async () => {
    // A namespace named like the demo's host, here: were the demo to run in this namespace
    // directory, its createNetns would fail with EEXIST.
    const h = await createNetns('nlkit-demo-host');
    try {
      const env = { ...process.env };
      delete env.NLKIT_ISOLATED;
      const r = nlkit(['demo', '--json'], env);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as Report).failed).toBe(0);
      expect(await listNetns()).toContain('nlkit-demo-host');
    } finally {
      h.close();
      await deleteNetns('nlkit-demo-host');
    }
  });
});

describe('output formatting', () => {
  it('aligns columns (numbers to the right) and colours only for a terminal', () => {
    expect(table(['name', 'mtu'], [['lo', 65536], ['eth0', 1500]])).toBe('name    mtu\n----  -----\nlo    65536\neth0   1500\n');
    const out = { stdout: () => {}, stderr: () => {} };
    expect(paint({ ...out, tty: true }, 'red', 'FAIL')).toBe('\u001b[31mFAIL\u001b[0m');
    expect(paint({ ...out, tty: false }, 'red', 'FAIL')).toBe('FAIL');
    // A coloured cell is as wide as its text.
    expect(table(['result', 'path'], [[paint({ ...out, tty: true }, 'green', 'PASS'), 'a']]).split('\n')[2]).toBe('\u001b[32mPASS\u001b[0m    a');
  });
});

describe('progress display', () => {
  it('rewrites one line on a terminal and writes nothing elsewhere', () => {
    const written: string[] = [];
    const tty = new Progress({ stream: { write: (t: string) => written.push(t), isTTY: true }, enabled: true });
    tty.update('attach', 3, 10);
    tty.stop();
    expect(written[0]).toMatch(/^\r\u001b\[2K. attach 3\/10 {2}\d+s$/);
    expect(written.at(-1)).toBe('\r\u001b[2K');
    const quiet: string[] = [];
    const pipe = new Progress({ stream: { write: (t: string) => quiet.push(t), isTTY: false } });
    pipe.update('attach', 3, 10);
    pipe.stop();
    expect(quiet).toEqual([]);
  });
});
