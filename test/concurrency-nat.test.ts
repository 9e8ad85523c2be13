// Concurrency on nlkit's nftables table: thousands of concurrent calls from one process, and
// several independent clients (worker threads, each with its own copy of the addon, its own
// threads and its own netlink sockets: to the kernel, separate processes) changing the same table
// at once. Commits are generation-guarded and retried; none may be lost, none doubled.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addMasquerade, addPortMapping, listNat, listPortMappings } from '../lib/index';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qcn');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** The elements of one of nlkit's port maps, counted by nft. */
function nftElements(ns: string, map: string): number {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'map', 'inet', 'nlkit', map], { encoding: 'utf8' });
  const json = JSON.parse(out) as { nftables: { map?: { elem?: unknown[] } }[] };
  return json.nftables.find((e) => e.map)?.map?.elem?.length ?? 0;
}

describe('nlkit table under concurrency', () => {
  it('2,000 concurrent port mappings and 100 concurrent masquerades from one process: all there, once', async () => {
    const ns = await res.netns('one');
    const mappings = Array.from({ length: 2000 }, (_, i) =>
      addPortMapping({ protocol: 'tcp', hostPort: 10000 + i, containerIp: `10.88.${i >> 7}.${(i & 127) + 1}`, containerPort: 80, netns: ns }),
    );
    const masquerades = Array.from({ length: 100 }, (_, i) => addMasquerade({ source: `10.${100 + i}.0.0/16`, excludeInterface: 'br0', hairpin: false, netns: ns }));
    const [made, masq] = await Promise.all([Promise.all(mappings), Promise.all(masquerades)]);
    expect(made).toHaveLength(2000);
    expect(masq.every((m) => m.added)).toBe(true);
    const listed = await listPortMappings({ netns: ns });
    expect(new Set(listed.map((m) => m.hostPort)).size).toBe(2000);
    expect(nftElements(ns.name, 'tcp4_any')).toBe(2000);
    expect((await listNat({ netns: ns })).filter((r) => r.kind === 'masquerade')).toHaveLength(100);
  }, 120_000);

  it('four independent clients adding to the same table at once lose nothing', async () => {
    const ns = await res.netns('many');
    const entry = JSON.stringify(resolve(__dirname, '..', 'dist', 'index.js'));
    const perClient = 250;
    const clients = Array.from({ length: 4 }, (_, c) => {
      const worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const nl = require(${entry});
         (async () => {
           const ns = await nl.openNetns(workerData.path);
           const out = await Promise.all(Array.from({ length: workerData.count }, (_, i) => nl.addPortMapping({
             protocol: 'udp', hostPort: workerData.base + i, containerIp: '10.88.0.' + (workerData.client + 2), containerPort: 53, netns: ns,
           }).then(() => 'ok', (e) => e.code)));
           await nl.addMasquerade({ source: '10.' + (200 + workerData.client) + '.0.0/16', netns: ns });
           ns.close();
           parentPort.postMessage(out);
         })().catch((e) => parentPort.postMessage([String(e)]));`,
        { eval: true, workerData: { path: ns.path, count: perClient, base: 20000 + c * perClient, client: c } },
      );
      return new Promise<string[]>((ok, fail) => {
        worker.once('message', (m: string[]) => {
          void worker.terminate();
          ok(m);
        });
        worker.once('error', fail);
      });
    });
    const results = await Promise.all(clients);
    for (const r of results) expect(r.filter((x) => x !== 'ok')).toEqual([]);
    expect(nftElements(ns.name, 'udp4_any')).toBe(4 * perClient);
    expect((await listPortMappings({ netns: ns })).filter((m) => m.protocol === 'udp')).toHaveLength(4 * perClient);
    // Each client's first call may have raced to create the table, chains, maps and rules: one of each.
    const rules = await listNat({ netns: ns });
    expect(rules.filter((r) => r.kind === 'masquerade')).toHaveLength(4);
    expect(new Set(rules.map((r) => r.comment)).size).toBe(rules.length);
  }, 120_000);
});
