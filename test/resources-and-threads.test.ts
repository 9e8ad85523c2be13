// What the native layer holds and where it runs: closing handles gives every fd back, calls by
// path keep nothing open, and kernel work does not queue behind libuv's pool.
import { pbkdf2 } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attachContainer,
  createBridge,
  createNetns,
  createVethPair,
  deleteLink,
  deleteNetns,
  getLink,
  listLinks,
  openNetns,
  setLink,
} from '../lib/index';
import { native } from '../lib/native';
import { ipLinkOrThrow, slaveData } from './helpers/ip';
import { namer } from './helpers/names';
import { expectNoLeftovers } from './helpers/resources';

const names = namer('qrt');
afterAll(async () => {
  await expectNoLeftovers(names);
});

/** Open sockets and namespace fds: what nlkit's native layer holds (other fds belong to vitest). */
function openFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/^(socket|net):/u.test(readlinkSync(`/proc/self/fd/${fd}`))) n += 1;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}

/** Starts every worker thread (each opens its home-namespace fd as it starts) and lets them settle. */
async function warmUp(): Promise<void> {
  await Promise.all(Array.from({ length: 16 }, () => getLink('lo')));
  await sleep(50);
}

/**
 * Runs `body` (an async function body, CommonJS, with `nl`, `native` in scope; what it returns is
 * the result) in a worker_thread whose addon runs one worker thread (it reads NLKIT_THREADS as it
 * loads there), so a test can retire that thread without touching this process's pool.
 */
async function inOneThreadWorker<T>(body: string): Promise<T> {
  const dist = resolve(__dirname, '..', 'dist');
  process.env.NLKIT_THREADS = '1';
  try {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const nl = require(${JSON.stringify(resolve(dist, 'index.js'))});
       const { native } = require(${JSON.stringify(resolve(dist, 'native.js'))});
       (async () => { ${body} })().then((result) => parentPort.postMessage({ result }), (e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));`,
      { eval: true },
    );
    const out = await new Promise<{ result: T; error?: string }>((ok, fail) => {
      worker.once('message', ok);
      worker.once('error', fail);
    });
    await worker.terminate();
    expect(out.error).toBeUndefined();
    return out.result;
  } finally {
    delete process.env.NLKIT_THREADS;
    native.injectFault({ after: 0, errno: 0 });
  }
}

describe('resources', () => {
  it('closing handles releases the namespace fds and their pooled sockets', async () => {
    await warmUp();
    const before = openFds();
    const handles = await Promise.all(Array.from({ length: 20 }, () => createNetns()));
    // Each handle gets pooled sockets opened inside it (several at once, concurrently).
    await Promise.all(handles.flatMap((h) => [getLink('lo', { netns: h }), listLinks({ netns: h }), getLink(1, { netns: h })]));
    expect(openFds()).toBeGreaterThan(before + 20);
    for (const h of handles) h.close();
    expect(openFds()).toBe(before);
  });

  it('a namespace named by path or name is opened for the call only', async () => {
    const name = names.netns('p');
    const h = await createNetns(name);
    h.close();
    try {
      await warmUp();
      const before = openFds();
      for (let i = 0; i < 10; i++) {
        await getLink('lo', { netns: name });
        await listLinks({ netns: `/run/netns/${name}` });
      }
      expect(openFds()).toBe(before);
    } finally {
      await deleteNetns(name);
    }
  });

  it('a second handle from openNetns(handle) outlives closing the first', async () => {
    const a = await createNetns();
    const b = await openNetns(a);
    a.close();
    expect((await getLink('lo', { netns: b })).name).toBe('lo');
    b.close();
    expect(b.closed).toBe(true);
  });
});

describe('threads', () => {
  it('kernel calls do not wait behind a saturated libuv pool (fs, dns, crypto share it)', async () => {
    // Occupy every libuv pool thread (4 by default, more if UV_THREADPOOL_SIZE says so) with
    // slow key derivations, then make nlkit calls: they must finish before any of those does.
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const order: string[] = [];
    const blockers = Array.from(
      { length: poolSize * 2 },
      () =>
        new Promise<void>((resolve) =>
          pbkdf2('x', 'salt', 1_000_000, 32, 'sha256', () => {
            order.push('pool');
            resolve();
          }),
        ),
    );
    await Promise.all(Array.from({ length: 10 }, () => getLink('lo')));
    order.push('nlkit');
    await Promise.all(blockers);
    expect(order[0]).toBe('nlkit');
  });

  it('runs 4 worker threads unless NLKIT_THREADS says otherwise', async () => {
    expect(native.threads).toBe(4);
    // The count is read when the addon loads in an environment: a worker thread loads it anew.
    process.env.NLKIT_THREADS = '3';
    try {
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
         parentPort.postMessage(require(${JSON.stringify(resolve(__dirname, '..', 'dist', 'native.js'))}).native.threads);`,
        { eval: true },
      );
      const threads = await new Promise((ok, fail) => {
        worker.once('message', ok);
        worker.once('error', fail);
      });
      await worker.terminate();
      expect(threads).toBe(3);
    } finally {
      delete process.env.NLKIT_THREADS;
    }
  });

  it('calls one at a time all run on the worker that went idle last, a burst on several', async () => {
    // The pool wakes the most recently idle worker (a stack): its stack and per-thread buffers are
    // still in the caches. A shared condition variable would wake the one that slept longest, and
    // calls one at a time would rotate over all four threads (no call on the same one as the last).
    await warmUp();
    const sequential: number[] = [];
    for (let i = 0; i < 30; i++) {
      await getLink('lo');
      sequential.push(native.lastJobTiming().worker);
    }
    let repeats = 0;
    for (let i = 1; i < sequential.length; i++) if (sequential[i] === sequential[i - 1]) repeats++;
    expect(repeats, sequential.join('')).toBeGreaterThanOrEqual(25);

    // Calls queued while a worker is busy wake the next idle one. (Namespace creation, not a quick
    // lookup: the first worker would drain 16 of those before another had woken.) On a loaded
    // machine the woken workers may not get a CPU before the first drains the queue (a CI run saw
    // one burst on one worker), so up to five bursts; a pool that never wakes a second worker
    // fails all five.
    const workersPerBurst: number[] = [];
    for (let attempt = 0; attempt < 5 && !(workersPerBurst.at(-1)! > 1); attempt++) {
      const burst = new Set<number>();
      const made = await Promise.all(
        Array.from({ length: 16 }, async () => {
          const ns = await createNetns();
          burst.add(native.lastJobTiming().worker);
          return ns;
        }),
      );
      for (const ns of made) ns.close();
      workersPerBurst.push(burst.size);
    }
    expect(Math.max(...workersPerBurst), workersPerBurst.join(',')).toBeGreaterThan(1);
  });

  it('container attaches run one at a time, and other calls run beside them', async () => {
    // The kernel serialises attaches on its RTNL lock; side by side they only make nlkit's threads
    // contend for it (native/addon/worker_pool.h, Lane::kOneAtATime). A lookup is not held behind them.
    await warmUp();
    const host = await createNetns();
    const containers = await Promise.all(Array.from({ length: 8 }, () => createNetns()));
    try {
      await createBridge('br0', { netns: host });
      await setLink('br0', { up: true }, { netns: host });
      const order: string[] = [];
      const spans: { started: number; finished: number }[] = [];
      const attaches = containers.map((netns, i) =>
        attachContainer({ hostNetns: host, netns, bridge: 'br0', hostIfname: `ac${i}`, addresses: [`10.77.0.${i + 2}/24`] }).then(() => {
          // The timing of the call settled last: this one's, or (read late) another's, which the
          // dedup below drops.
          const t = native.lastJobTiming();
          spans.push({ started: t.started, finished: t.finished });
          order.push(`attach${i}`);
        }),
      );
      const lookup = getLink('lo').then(() => order.push('lookup'));
      await Promise.all([...attaches, lookup]);
      // The lookup did not wait for the queue of attaches ahead of it.
      expect(order.indexOf('lookup'), order.join(' ')).toBeLessThan(3);
      // No two attaches ran at the same time.
      const unique = [...new Map(spans.map((s) => [s.started, s])).values()].sort((a, b) => a.started - b.started);
      expect(unique.length).toBeGreaterThan(4);
      for (let i = 1; i < unique.length; i++) expect(unique[i]!.started).toBeGreaterThanOrEqual(unique[i - 1]!.finished);
    } finally {
      for (const c of containers) c.close();
      host.close();
    }
  });

  it('a worker that cannot get back to its own namespace ends, and the calls queued behind it still run', async () => {
    // One worker thread. Its first call is made to stay in the namespace it entered (injectFault
    // failReturnHome): the thread must end, and with it the last one, two calls wait in the queue
    // that no Submit will follow.
    const out = await inOneThreadWorker<{ settled: { ok: boolean; worker: number }[]; afterCode: string; afterWorker: number }>(
      `// A fresh handle: its pooled socket is not open yet, so the first call enters it.
       const ns = await nl.createNetns();
       native.injectFault({ after: 0, errno: 0, failReturnHome: true });
       const calls = [0, 1, 2].map(() =>
         nl.getLink('lo', { netns: ns }).then(
           (l) => ({ ok: true, worker: native.lastJobTiming().worker }),
           (e) => ({ ok: false, code: e.code, worker: native.lastJobTiming().worker }),
         ));
       const settled = await Promise.all(calls);
       await nl.createVethPair({ name: 'only-inside', peer: { name: 'only-inside1' }, netns: ns });
       // Named without a namespace, it must not be found: the replacement started at home.
       const afterCode = await nl.getLink('only-inside').then(() => 'found', (e) => e.code);
       const afterWorker = native.lastJobTiming().worker;
       ns.close();
       return { settled, afterCode, afterWorker };`,
    );
    // The first call ran on the thread that then ended; the two behind it ran on its replacement.
    expect(out.settled[0]!.worker).toBe(0);
    expect(out.settled[1]).toEqual({ ok: true, worker: 1 });
    expect(out.settled[2]).toEqual({ ok: true, worker: 1 });
    // And the replacement is at home: the namespace the first thread stayed in is not its own.
    expect(out.afterCode).toBe('ENODEV');
    expect(out.afterWorker).toBe(1);
  }, 20_000);

  it('when the last worker ends and no thread can replace it, the calls queued behind it fail instead of hanging', async () => {
    // As above, but the process cannot start threads (injectFault failThreadStarts): nothing
    // would ever run the two queued calls, and no Submit may follow to notice.
    const out = await inOneThreadWorker<{ settled: { ok: boolean; name?: string; code?: string; message?: string }[]; later: string }>(
      `const ns = await nl.createNetns();
       native.injectFault({ after: 0, errno: 0, failReturnHome: true, failThreadStarts: 1000 });
       const calls = [0, 1, 2].map(() =>
         nl.getLink('lo', { netns: ns }).then(
           () => ({ ok: true }),
           (e) => ({ ok: false, name: e.name, code: e.code, message: e.message }),
         ));
       const timeout = new Promise((r) => setTimeout(() => r('hung'), 5000));
       const settled = await Promise.race([Promise.all(calls), timeout]);
       // Once threads can start again, the pool recovers on the next call.
       native.injectFault({ after: 0, errno: 0 });
       const later = await nl.getLink('lo').then((l) => l.name, (e) => String(e));
       ns.close();
       return { settled, later };`,
    );
    expect(out.settled).not.toBe('hung');
    // The first call ran (its answer stands; only afterwards its thread could not get home); the
    // other two had no thread left to run on.
    expect(out.settled[0]).toEqual({ ok: true });
    for (const queued of out.settled.slice(1)) {
      expect(queued).toMatchObject({ ok: false, name: 'SystemError', code: 'EAGAIN' });
      expect(queued.message).toMatch(/no worker thread could be started/);
    }
    expect(out.later).toBe('lo');
  }, 20_000);

  it('a call made when no worker is left and none can start is the same SystemError EAGAIN, not a plain Error', async () => {
    // The last worker ends after its call (it cannot get home); the next call comes after that,
    // when the pool finds no thread and cannot start one.
    const out = await inOneThreadWorker<{ first: boolean; next: { name: string; code?: string; message: string }; later: string }>(
      `const ns = await nl.createNetns();
       native.injectFault({ after: 0, errno: 0, failReturnHome: true, failThreadStarts: 1000 });
       const first = await nl.getLink('lo', { netns: ns }).then(() => true, () => false);
       // The thread ends right after delivering that result: give it the moment.
       await new Promise((r) => setTimeout(r, 50));
       const next = await nl.getLink('lo').then(
         () => ({ name: 'resolved', message: '' }),
         (e) => ({ name: e.name, code: e.code, message: e.message }));
       native.injectFault({ after: 0, errno: 0 });
       const later = await nl.getLink('lo').then((l) => l.name, (e) => String(e));
       ns.close();
       return { first, next, later };`,
    );
    expect(out.first).toBe(true);
    expect(out.next).toMatchObject({ name: 'SystemError', code: 'EAGAIN' });
    expect(out.next.message).toMatch(/no worker thread could be started/);
    expect(out.later).toBe('lo');
  }, 20_000);

  it('workers that end that way are joined: replacing them again and again maps no new thread stacks', async () => {
    // An ended thread not joined keeps its stack (8 MiB here) mapped; joined, glibc hands the stack
    // to the next thread. Twelve poisoned workers in a row, one at a time.
    const out = await inOneThreadWorker<{ grownMiB: number; workers: number[]; last: number }>(
      `const vmKiB = () => Number(/^VmSize:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
       await nl.getLink('lo');
       const before = vmKiB();
       const workers = [];
       for (let i = 0; i < 12; i++) {
         const ns = await nl.createNetns(); // fresh: its socket is not open, so the call enters it
         native.injectFault({ after: 0, errno: 0, failReturnHome: true });
         await nl.getLink('lo', { netns: ns }).catch(() => {});
         workers.push(native.lastJobTiming().worker);
         ns.close();
       }
       await nl.getLink('lo');
       return { grownMiB: (vmKiB() - before) / 1024, workers, last: native.lastJobTiming().worker };`,
    );
    // Each poisoned call ran on a new thread (so twelve threads ended)...
    expect(new Set(out.workers).size).toBe(12);
    expect(out.last).toBeGreaterThan(Math.max(...out.workers));
    // ...and the process did not keep twelve stacks: without the joins it grows by about 96 MiB.
    expect(out.grownMiB).toBeLessThan(40);
  }, 30_000);

  it("each call's stages are stamped in order, on the clock process.hrtime reads (the bench's profile)", async () => {
    const before = Number(process.hrtime.bigint()) / 1e3;
    await getLink('lo');
    const after = Number(process.hrtime.bigint()) / 1e3;
    const t = native.lastJobTiming();
    const stages = [before, t.entered, t.submitted, t.started, t.finished, t.delivered, t.settled, after];
    for (let i = 1; i < stages.length; i++) expect(stages[i], `stage ${i}`).toBeGreaterThanOrEqual(stages[i - 1]!);
    // The worker's time in system calls (sendmsg, recvmsg) is counted, and within its own span.
    expect(t.syscalls).toBeGreaterThan(0);
    expect(t.syscalls).toBeLessThanOrEqual(t.finished - t.started);
    // Each thread reported a CPU this process may run on.
    const allowed = cpusAllowed();
    for (const cpu of [t.submittedCpu, t.startedCpu, t.finishedCpu, t.deliveredCpu]) expect(allowed).toContain(cpu);
    // A call that fails before it is queued leaves the last timing alone.
    await expect(getLink('x'.repeat(16))).rejects.toThrow();
    expect(native.lastJobTiming()).toEqual(t);
  });
});

describe('bridge ports', () => {
  it('enslaving and setting port flags in one setLink call works (two messages, one sendmsg)', async () => {
    const ns = await createNetns();
    try {
      await createBridge('br0', { netns: ns });
      await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns });
      const link = await setLink('v0', { master: 'br0', hairpin: true, learning: false, isolated: true }, { netns: ns });
      expect(link.master).toBeGreaterThan(0);
      expect(link.bridgePort).toEqual({ hairpin: true, isolated: true, learning: false });
      await deleteLink('v0', { netns: ns });
    } finally {
      ns.close();
    }
  });

  it('the same through a named namespace, witnessed by ip -j', async () => {
    const name = names.netns('bp');
    const ns = await createNetns(name);
    try {
      await createBridge('br0', { netns: ns });
      await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: ns });
      await setLink('v0', { master: 'br0', hairpin: true }, { netns: ns });
      const seen = ipLinkOrThrow('v0', name);
      expect(seen.master).toBe('br0');
      expect(slaveData(seen).hairpin).toBe(true);
    } finally {
      ns.close();
      await deleteNetns(name);
    }
  });
});

/** The CPUs this process may run on, from /proc/self/status ("Cpus_allowed_list: 0-3,6"). */
function cpusAllowed(): number[] {
  const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  return line.split(',').flatMap((part) => {
    const [lo, hi] = part.split('-').map(Number) as [number, number | undefined];
    return Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
  });
}
