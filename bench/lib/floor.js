// The raw-netlink C floor (bench/floor.c): compiled by the bench when missing or older than its
// source, started once as a co-process, one command per line. It times its own work, so neither
// process start nor the pipe is counted against it.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const source = path.join(__dirname, '..', 'floor.c');
const binary = path.join(__dirname, '..', 'build', 'floor');

function buildFloor() {
  const stale = !fs.existsSync(binary) || fs.statSync(binary).mtimeMs < fs.statSync(source).mtimeMs;
  if (stale) {
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', binary, source], { stdio: 'inherit' });
  }
  return binary;
}

function startFloor() {
  const child = spawn(buildFloor(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
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

module.exports = { buildFloor, startFloor };
