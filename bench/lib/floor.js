// The bench's C programs: the raw-netlink floor (bench/floor.c), started once as a co-process, one
// command per line, and the machine's thread hand-off cost (bench/handoff.c). Compiled by the bench
// when missing or older than their source. The floor times its own work, so neither process start
// nor the pipe is counted against it.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

// Compiles bench/<name>.c into bench/build/<name> when missing or older than its source.
function buildC(name, flags = []) {
  const source = path.join(__dirname, '..', `${name}.c`);
  const binary = path.join(__dirname, '..', 'build', name);
  const stale = !fs.existsSync(binary) || fs.statSync(binary).mtimeMs < fs.statSync(source).mtimeMs;
  if (stale) {
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', ...flags, '-o', binary, source], { stdio: 'inherit' });
  }
  return binary;
}

/**
 * This machine's cost of handing work to an idle thread and back (bench/handoff.c): medians in
 * microseconds of `rounds` rounds, the worker busy for `workUs` in each, pinned to the caller's CPU
 * or to another ('same' | 'other'). Undefined when the process may use only one CPU and 'other' is asked.
 */
function measureHandoff(rounds, workUs, where) {
  let out;
  try {
    out = execFileSync(buildC('handoff', ['-pthread']), [String(rounds), String(workUs), where], { encoding: 'utf8' }).trim();
  } catch (e) {
    out = String(e.stdout ?? '').trim() || String(e); // its "err <errno> <step>" line, when it printed one
  }
  const [status, a, b] = out.split(' ');
  if (status === 'single-cpu') return undefined;
  if (status !== 'ok') throw new Error(`handoff: ${out}`);
  return { toWorkerUs: Number(a), backUs: Number(b) };
}

function startFloor() {
  const child = spawn(buildC('floor'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const ask = (command) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${command}\n`);
    });
  return {
    pid: child.pid,
    /** Same setup as attachContainer; resolves to the floor's own time in ms, and when each phase ended. */
    async attach({ netnsPath, hostIfname, bridgeIndex, address, prefixLength, gateway }) {
      const reply = await ask(`attach ${netnsPath} ${hostIfname} ${bridgeIndex} ${address} ${prefixLength} ${gateway}`);
      const [status, value, ...rest] = reply.split(' ');
      if (status !== 'ok') throw new Error(`floor: ${rest.join(' ')} failed with errno ${value}`);
      const [vethCreated, socketOpen, batchDone] = rest.map(Number);
      return { ms: Number(value), phases: { vethCreated, socketOpen, batchDone } };
    },
    /** Deletes the veth by its host name; resolves to the floor's own time in ms. */
    async detach(hostIfname) {
      const [status, value, ...rest] = (await ask(`detach ${hostIfname}`)).split(' ');
      if (status !== 'ok') throw new Error(`floor: ${rest.join(' ')} failed with errno ${value}`);
      return Number(value);
    },
    close() {
      child.stdin.end();
      return new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

module.exports = { buildC, measureHandoff, startFloor };
