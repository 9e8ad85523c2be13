// Dumps racing with changes, and environments torn down mid-flight.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createNetns, createVethPair, deleteLink, getLink, listLinks } from '../lib/index';

describe('churn', () => {
  it('link dumps taken while links are created and deleted never fail (interrupted dumps are retried)', async () => {
    const ns = await createNetns();
    try {
      let churning = true;
      const churn = (async () => {
        for (let i = 0; churning; i++) {
          await createVethPair({ name: `c${i % 50}`, peer: { name: `p${i % 50}` }, netns: ns });
          await deleteLink(`c${i % 50}`, { netns: ns });
        }
      })();
      const sizes: number[] = [];
      for (let i = 0; i < 300; i++) {
        const links = await listLinks({ netns: ns });
        sizes.push(links.length);
        // A dump is a consistent snapshot: each veth appears with its peer, or neither does.
        const names = new Set(links.map((l) => l.name));
        for (const l of links) {
          if (l.name.startsWith('c')) expect(names.has(`p${l.name.slice(1)}`), l.name).toBe(true);
        }
      }
      churning = false;
      await churn;
      expect(sizes.every((n) => n === 1 || n === 3)).toBe(true);
    } finally {
      ns.close();
    }
  });

  it('terminating a worker thread with nlkit calls in flight does not crash the process', async () => {
    // Rounds enough to land a termination inside a result being built (a crash seen 1 in 3 runs at 3).
    for (let round = 0; round < 10; round++) {
      const worker = new Worker(resolve(__dirname, 'fixtures', 'terminate-mid-flight.mjs'));
      await new Promise((ok, fail) => {
        worker.once('message', ok);
        worker.once('error', fail);
      });
      await worker.terminate();
    }
    // The main thread's addon instance is unaffected.
    expect((await getLink('lo')).name).toBe('lo');
  });
});
