// Baseline for the per-container setup case: the reference CNI `bridge` plugin
// (containernetworking/plugins, as packaged by Debian in containernetworking-plugins, 1.1.1),
// invoked exactly as a container runtime invokes it: one exec of the plugin binary per call, the
// network config as JSON on stdin, CNI_COMMAND / CNI_CONTAINERID / CNI_NETNS / CNI_IFNAME /
// CNI_PATH in the environment, the result (or a CNI error object) as JSON on stdout.
//
// What `ms` measures: wall time of the exec and wait (in lib/exec-runner.js's co-process, on its
// clock, so the bench process never forks), so it includes what
// every runtime pays per container and nlkit does not: starting the Go binary (and, from inside
// it, a second exec for the host-local IPAM plugin, which takes a file lock and writes the
// allocation under dataDir), plus the plugin's own netlink work: ensure the bridge exists and is
// up, create the veth inside the container namespace with eth0 there and a random `veth…` host
// end moved out, host end up, enslaved, hairpin set (to off); in the container eth0's address, eth0
// up and the default route via the gateway; then a re-read of the host end's oper state, the
// gateway address ensured on the bridge and ip_forward ensured. It does NOT bring `lo` up (that
// is the separate `loopback` plugin's job in a runtime's plugin list).
//
// Config choices, so that it runs inside scripts/isolated.js and touches nothing on the machine:
//   - ipMasq: false — with true the plugin execs iptables (needs the iptables binary and xtables
//     modules); we measure without masquerade.
//   - ipam.dataDir — host-local otherwise writes /var/lib/cni/networks/<name>/.
//   - IPv4 only — an IPv6 range would make the plugin wait for DAD to settle (up to 10 s).
//   - isGateway: true needs /proc/sys/net/ipv4/ip_forward writable (it writes "1" unless already
//     "1", and fails the ADD otherwise); inside isolated.js we are root of the user namespace that
//     owns the network namespace, so the per-netns sysctl is writable. Its other sysctl writes
//     (accept_ra, accept_dad, arp_notify) ignore errors.
//   - CNI_NETNS is only opened (and checked to be an nsfs file), so /run/netns mount propagation
//     does not matter as long as the plugin runs in our mount namespace (it does: it is our child).
//
// Quirks: the plugin creates the bridge if it is missing (and adds the gateway address to it);
// if the bridge already has a different IPv4 address (another address or another prefix length)
// ADD fails with "already has an IP address different from …" (forceAddress is off). After
// configuring the container it checks the host end's oper state and, if not yet UP, sleeps
// 50 ms, 500 ms, … before retrying. DEL deletes eth0 in the container (the kernel's veth teardown
// cost is included) and then execs host-local to release the address.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_CNI_PATH = '/usr/lib/cni';
const CNI_VERSION = '1.0.0'; // bridge 1.1.1 supports 0.1.0 … 1.0.0
const NETWORK_NAME = 'nlkit-bench';

function cniDir() {
  return process.env.NLKIT_CNI_PATH || DEFAULT_CNI_PATH;
}

function isExecutableFile(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// The bridge plugin's path, or null if it (or the host-local IPAM plugin it execs) is missing or
// not executable. NLKIT_CNI_PATH names the plugin directory (default /usr/lib/cni).
function cniPluginPath() {
  const dir = cniDir();
  const bridge = path.join(dir, 'bridge');
  return isExecutableFile(bridge) && isExecutableFile(path.join(dir, 'host-local')) ? bridge : null;
}

function cniError(command, code, stdout, stderr, signal) {
  let parsed = null;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    // not a CNI error object: fall back to stderr / the exit status
  }
  let text;
  if (parsed && typeof parsed.msg === 'string') {
    text = parsed.details ? `${parsed.msg}: ${parsed.details}` : parsed.msg;
  } else {
    text = (stderr || stdout).trim() || (signal ? `killed by ${signal}` : `exit status ${code}`);
  }
  const err = new Error(`CNI bridge ${command} failed: ${text}`);
  err.exitCode = code;
  err.signal = signal;
  if (parsed) {
    err.cniCode = parsed.code;
    err.cniMsg = parsed.msg;
    err.cniDetails = parsed.details;
  }
  err.stderr = stderr;
  return err;
}

function createCniRunner({ bridge, subnet, gateway, dataDir, exec } = {}) {
  if (typeof bridge !== 'string' || bridge === '' || bridge.length > 15) throw new TypeError('bridge: an interface name of 1-15 characters');
  if (typeof subnet !== 'string' || !subnet.includes('/')) throw new TypeError('subnet: an IPv4 CIDR, e.g. 10.88.0.0/16');
  if (typeof gateway !== 'string' || gateway === '') throw new TypeError('gateway: an IPv4 address inside subnet');
  if (typeof dataDir !== 'string' || !path.isAbsolute(dataDir)) throw new TypeError('dataDir: an absolute directory path');
  if (!exec || typeof exec.run !== 'function') throw new TypeError('exec: the runner from lib/exec-runner.js');
  const plugin = cniPluginPath();
  if (!plugin) throw new Error(`CNI bridge/host-local plugins not found or not executable in ${cniDir()}`);

  const configText = JSON.stringify({
    cniVersion: CNI_VERSION,
    name: NETWORK_NAME,
    type: 'bridge',
    bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: false,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet, gateway }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir,
    },
  });

  // Runtimes (libcni) pass their own environment plus the CNI_* variables.
  const baseEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CNI_')) baseEnv[k] = v;
  baseEnv.CNI_PATH = cniDir();

  async function invoke(command, { containerId, netnsPath, ifname = 'eth0' } = {}) {
    if (typeof containerId !== 'string' || containerId === '') throw new TypeError('containerId is required');
    if (typeof netnsPath !== 'string' || netnsPath === '') throw new TypeError('netnsPath is required');
    const env = { ...baseEnv, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netnsPath, CNI_IFNAME: ifname };
    let reply;
    try {
      reply = await exec.run([{ file: plugin, args: [], env, input: configText }]);
    } catch (e) {
      const r = e.result;
      throw r ? cniError(command, r.status, r.stdout, r.stderr, r.signal) : e;
    }
    const { ms } = reply;
    if (command !== 'ADD') return { ms };
    const stdout = reply.results[0].stdout;
    try {
      return { ms, result: JSON.parse(stdout) };
    } catch (e) {
      throw new Error(`CNI bridge ADD: unparsable result (${e.message}): ${stdout.slice(0, 200)}`);
    }
  }

  return {
    config: JSON.parse(configText),
    // → { ms, result }: result is the CNI 1.0.0 result (interfaces [bridge, host veth, eth0], ips, routes).
    add: (opts) => invoke('ADD', opts),
    // → { ms }; DEL of an already removed interface succeeds, as the spec requires.
    del: (opts) => invoke('DEL', opts),
  };
}

module.exports = { cniPluginPath, createCniRunner };
