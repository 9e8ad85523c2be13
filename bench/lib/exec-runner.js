// The baselines that are processes (ip, nft, the CNI plugin) run from this co-process, never from
// the bench process that hosts nlkit, and are timed on its own clock (like the C floor).
//
// Why: a fork write-protects all of the parent's memory (copy-on-write) until each page is written
// again. When the bench process itself spawned `ip`, the nlkit call that ran next paid page faults
// for the baseline's forks (measured: 36 minor faults in an attach right after one spawnSync, 7
// otherwise, some 30 us), while the floor, a process of its own, paid nothing.
//
// Protocol: one JSON object per line each way. Request { steps: [{ file, args, env?, input? }] }:
// the steps run one after another, each a process that is waited for; the reply is { ms, results:
// [{ status, signal, stdout, stderr }] } with `ms` the wall time of all steps. A step that fails
// ends the request (its result is the last).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const readline = require('node:readline');

function serve() {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { steps } = JSON.parse(line);
    const results = [];
    const t0 = performance.now();
    for (const step of steps) {
      const r = spawnSync(step.file, step.args ?? [], { env: step.env ?? process.env, input: step.input, encoding: 'utf8', maxBuffer: 64 << 20 });
      const failed = r.error !== undefined || r.status !== 0;
      results.push({ status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.error ? String(r.error) : r.stderr ?? '' });
      if (failed) break;
    }
    const ms = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ ms, results })}\n`);
  });
}

/** Starts the co-process. run(steps) resolves to { ms, results }; it rejects when a step fails. */
function startExecRunner() {
  const child = spawn(process.execPath, [__filename], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  return {
    async run(steps) {
      const reply = await new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${JSON.stringify({ steps })}\n`);
      });
      const last = reply.results[reply.results.length - 1];
      if (reply.results.length < steps.length || (last && last.status !== 0)) {
        const step = steps[reply.results.length - 1];
        const err = new Error(`${step.file} ${(step.args ?? []).join(' ')} failed (status ${last?.status}${last?.signal ? `, ${last.signal}` : ''}): ${(last?.stderr || last?.stdout || '').trim()}`);
        err.result = last;
        throw err;
      }
      return reply;
    },
    /** The steps as `ip` commands. */
    ip(...commands) {
      return this.run(commands.map((args) => ({ file: 'ip', args })));
    },
    close() {
      child.stdin.end();
      return new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

if (require.main === module) serve();

module.exports = { startExecRunner };
