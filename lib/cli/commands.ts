// The operator subcommands of `nlkit`: each a thin layer over the public API that reads flags,
// calls one or two functions, and prints a table (or, with --json, what the API returned).
import * as nl from '../index';
import type { AttachSpec, ContainerRoute, Link, NetnsRef, PortMappingSpec } from '../types';
import type { WatchEvent, WatchGroup } from '../watch';
import { int, list, netnsRef, required, str, UsageError, type CommandSpec, type FlagSpec, type Values } from './args';
import { json, table, type Out } from './format';

export interface Command {
  spec: CommandSpec;
  run(values: Values, positionals: string[], out: Out): Promise<number>;
}

const NETNS: FlagSpec = { type: 'string', value: 'NS', help: 'namespace: a name under /run/netns, a path, or a pid (default: this one)' };

function print(out: Out, values: Values, data: unknown, text: () => string): number {
  out.stdout(values.json ? json(data) : text());
  return 0;
}

/** ifindex -> name in one namespace, for tables that show links by name. */
async function linkNames(netns: NetnsRef | undefined): Promise<Map<number, string>> {
  return new Map((await nl.listLinks({ netns })).map((l) => [l.index, l.name]));
}

const links: Command = {
  spec: { usage: 'links [--netns NS]', summary: 'List the network interfaces of a namespace.', flags: { netns: NETNS } },
  async run(values, _, out) {
    const all = await nl.listLinks({ netns: netnsRef(str(values, 'netns')) });
    const names = new Map(all.map((l) => [l.index, l.name]));
    const state = (l: Link) => `${l.up ? 'UP' : 'DOWN'}${l.operState !== 'unknown' ? `/${l.operState}` : ''}`;
    return print(out, values, all, () =>
      table(
        ['index', 'name', 'kind', 'state', 'mtu', 'mac', 'master', 'alias'],
        all.map((l) => [l.index, l.name, l.kind, state(l), l.mtu, l.mac, l.master === undefined ? undefined : (names.get(l.master) ?? l.master), l.alias]),
      ),
    );
  },
};

const addrs: Command = {
  spec: { usage: 'addrs [--netns NS]', summary: 'List the IPv4 and IPv6 addresses of a namespace.', flags: { netns: NETNS } },
  async run(values, _, out) {
    const netns = netnsRef(str(values, 'netns'));
    const [all, names] = await Promise.all([nl.listAddresses({ netns }), linkNames(netns)]);
    return print(out, values, all, () =>
      table(
        ['link', 'family', 'address', 'scope', 'flags'],
        all.map((a) => [names.get(a.link) ?? a.link, `ipv${a.family}`, a.cidr, a.scope, a.flags.join(',')]),
      ),
    );
  },
};

const routes: Command = {
  spec: {
    usage: 'routes [--netns NS] [--table ID]',
    summary: 'List the routes of a namespace (main table unless --table; 0 for all tables).',
    flags: { netns: NETNS, table: { type: 'string', value: 'ID', help: 'routing table id (default 254, main)' } },
  },
  async run(values, _, out) {
    const netns = netnsRef(str(values, 'netns'));
    const tableId = int(values, 'table', 0, 0xffffffff);
    const [all, names] = await Promise.all([nl.listRoutes({ netns, ...(tableId === undefined ? {} : { table: tableId }) }), linkNames(netns)]);
    return print(out, values, all, () =>
      table(
        ['to', 'via', 'dev', 'src', 'metric', 'table', 'scope', 'type'],
        all.map((r) => [r.to, r.via, r.dev === undefined ? undefined : (names.get(r.dev) ?? r.dev), r.src, r.metric, r.table, r.scope, r.type]),
      ),
    );
  },
};

const netns: Command = {
  spec: {
    usage: 'netns list | netns add NAME | netns del NAME',
    summary: 'List, create or delete named network namespaces (bind mounts under /run/netns, as `ip netns` makes).',
    flags: {},
    positionals: [1, 2],
  },
  async run(values, [action, name], out) {
    const needName = () => {
      if (name === undefined) throw new UsageError(`netns ${action} needs a NAME`);
      return name;
    };
    switch (action) {
      case 'list': {
        if (name !== undefined) throw new UsageError(`unexpected argument '${name}'`);
        const names = await nl.listNetns();
        return print(out, values, names, () => table(['name'], names.map((n) => [n])));
      }
      case 'add': {
        const h = await nl.createNetns(needName());
        h.close();
        return print(out, values, { added: name }, () => `added namespace ${name}\n`);
      }
      case 'del':
        await nl.deleteNetns(needName());
        return print(out, values, { deleted: name }, () => `deleted namespace ${name}\n`);
      default:
        throw new UsageError(`unknown netns action '${action}': list, add or del`);
    }
  },
};

const attach: Command = {
  spec: {
    usage: 'attach --netns NS --bridge BR --address CIDR [--gateway IP] [options]',
    summary: "Connect a container's namespace to a bridge: a veth pair, eth0 inside with its addresses and default routes (attachContainer).",
    flags: {
      netns: { type: 'string', value: 'NS', help: "the container's namespace (required)" },
      bridge: { type: 'string', value: 'BR', help: 'the bridge, by name or ifindex, in the host namespace (required)' },
      address: { type: 'string', multiple: true, value: 'CIDR', help: "an address for the container's interface" },
      gateway: { type: 'string', multiple: true, value: 'IP', help: 'a default route via this address (one per family)' },
      route: { type: 'string', multiple: true, value: 'ROUTE', help: "another route, as ip(8) writes it: 'TO [via IP] [src IP] [metric N] [mtu N] [table N] [onlink]'" },
      ifname: { type: 'string', value: 'NAME', help: "the container's interface name (default eth0)" },
      'host-ifname': { type: 'string', value: 'NAME', help: 'the host end name (default veth + 7 hex digits)' },
      'host-netns': { type: 'string', value: 'NS', help: 'where the bridge is (default: this namespace)' },
      mtu: { type: 'string', value: 'N', help: 'MTU of both ends' },
      mac: { type: 'string', value: 'MAC', help: "the container interface's MAC" },
      hairpin: { type: 'boolean', help: 'hairpin mode on the bridge port' },
      isolated: { type: 'boolean', help: 'bridge port isolation: no traffic with other isolated ports' },
      owner: { type: 'string', value: 'ID', help: 'container id to tag the veth with, for sweep' },
      dad: { type: 'boolean', help: 'run IPv6 duplicate address detection' },
    },
    more: 'example: nlkit attach --netns ctr1 --bridge br0 --address 10.88.0.2/16 --gateway 10.88.0.1',
  },
  async run(values, _, out) {
    const spec: AttachSpec = {
      netns: netnsRef(required(values, 'netns'))!,
      bridge: /^\d+$/.test(required(values, 'bridge')) ? Number(values.bridge) : required(values, 'bridge'),
      addresses: list(values, 'address'),
      gateways: list(values, 'gateway'),
    };
    const extra = list(values, 'route').map(parseRoute);
    if (extra.length > 0) spec.routes = extra;
    const optional: [keyof AttachSpec, unknown][] = [
      ['ifname', str(values, 'ifname')],
      ['hostIfname', str(values, 'host-ifname')],
      ['hostNetns', netnsRef(str(values, 'host-netns'))],
      ['mtu', int(values, 'mtu', 68, 65535)],
      ['mac', str(values, 'mac')],
      ['hairpin', values.hairpin],
      ['isolated', values.isolated],
      ['owner', str(values, 'owner')],
      ['dad', values.dad],
    ];
    for (const [k, v] of optional) if (v !== undefined) (spec as unknown as Record<string, unknown>)[k] = v;
    const r = await nl.attachContainer(spec);
    return print(out, values, r, () =>
      table(
        ['end', 'index', 'name', 'mac', 'mtu'],
        [
          ['host', r.host.index, r.host.name, r.host.mac, r.host.mtu],
          ['container', r.container.index, r.container.name, r.container.mac, r.container.mtu],
        ],
      ) + `addresses: ${r.addresses.join(', ') || 'none'}\nroutes: ${r.routes.map((x) => `${x.to}${x.via ? ` via ${x.via}` : ''}`).join(', ') || 'none'}\n`,
    );
  },
};

/** "10.99.0.0/16 via 10.88.0.254 metric 100": the words of ip(8), into a ContainerRoute. */
function parseRoute(text: string): ContainerRoute {
  const words = text.trim().split(/\s+/);
  const route: ContainerRoute = { to: words[0] ?? '' };
  for (let i = 1; i < words.length; i++) {
    const key = words[i]!;
    if (key === 'onlink') {
      route.onlink = true;
      continue;
    }
    const value = words[++i];
    if (value === undefined) throw new UsageError(`--route '${text}': '${key}' needs a value`);
    if (key === 'via' || key === 'src') route[key] = value;
    else if (key === 'metric' || key === 'mtu' || key === 'table') {
      if (!/^\d+$/.test(value)) throw new UsageError(`--route '${text}': ${key} must be a number`);
      route[key] = Number(value);
    } else throw new UsageError(`--route '${text}': unknown word '${key}' (via, src, metric, mtu, table, onlink)`);
  }
  return route;
}

const detach: Command = {
  spec: {
    usage: 'detach --netns NS [--ifname NAME] [--owner ID] | detach --host-ifname NAME [--owner ID] [--host-netns NS]',
    summary:
      "Remove a container's veth pair, by its container end or its host end, and with --owner the port mappings added with that id (detachContainer). Succeeds when it is already gone.",
    flags: {
      netns: { type: 'string', value: 'NS', help: "the container's namespace" },
      ifname: { type: 'string', value: 'NAME', help: 'the container end (default eth0)' },
      'host-ifname': { type: 'string', value: 'NAME', help: 'the host end instead' },
      'host-netns': { type: 'string', value: 'NS', help: 'the host side: the host end and the port mappings (default: this namespace)' },
      owner: { type: 'string', value: 'ID', help: 'also remove the port mappings added with this container id' },
    },
  },
  async run(values, _, out) {
    const hostIfname = str(values, 'host-ifname');
    const hostNetns = netnsRef(str(values, 'host-netns'));
    const owner = str(values, 'owner');
    let result: nl.DetachResult;
    if (hostIfname !== undefined) {
      if (values.netns !== undefined || values.ifname !== undefined) throw new UsageError('give --netns [--ifname] or --host-ifname, not both');
      result = await nl.detachContainer({ hostIfname, hostNetns, owner });
    } else {
      result = await nl.detachContainer({ netns: netnsRef(required(values, 'netns'))!, ifname: str(values, 'ifname'), hostNetns, owner });
    }
    const removed = result.portMappings.length;
    return print(out, values, { detached: true, portMappings: result.portMappings }, () => `detached${owner !== undefined ? `, ${removed} port mapping${removed === 1 ? '' : 's'} removed` : ''}\n`);
  },
};

/** "10.88.0.2:80" or "[fd00::2]:80". */
function hostPort(v: string, flag: string): { ip: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--${flag} must be IP:PORT ([IPv6]:PORT), got '${v}'`);
  return { ip: m[1]!, port: Number(m[2]) };
}

function mappingSpec(values: Values): PortMappingSpec {
  const protocol = str(values, 'protocol') ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`--protocol must be tcp or udp, got '${protocol}'`);
  const to = hostPort(required(values, 'to'), 'to');
  const spec: PortMappingSpec = { protocol, containerIp: to.ip, containerPort: to.port, netns: netnsRef(str(values, 'netns')) };
  const hostIp = str(values, 'host-ip');
  const port = int(values, 'host-port', 1, 65535);
  const owner = str(values, 'owner');
  if (hostIp !== undefined) spec.hostIp = hostIp;
  if (port !== undefined) spec.hostPort = port;
  if (owner !== undefined) spec.owner = owner;
  return spec;
}

// Which nat actions each flag belongs to (the "masq:" and "publish:" of its help): a flag given to
// another action would be ignored, and `nat publish ... --remove` would add what it was to remove.
const NAT_FLAG_ACTIONS: Record<string, readonly string[]> = {
  source: ['masq'],
  out: ['masq'],
  exclude: ['masq'],
  'no-hairpin': ['masq'],
  remove: ['masq'],
  protocol: ['publish', 'unpublish'],
  'host-ip': ['publish', 'unpublish'],
  'host-port': ['publish', 'unpublish'],
  to: ['publish', 'unpublish'],
  owner: ['publish', 'unpublish'],
};

const nat: Command = {
  spec: {
    usage: 'nat list | nat masq --source CIDR [...] | nat publish --to IP:PORT [...] | nat unpublish --to IP:PORT [...]',
    summary: "Show and change nlkit's NAT table: masquerade rules and published ports.",
    flags: {
      netns: NETNS,
      source: { type: 'string', value: 'CIDR', help: 'masq: the subnet to masquerade' },
      out: { type: 'string', value: 'IF', help: 'masq: only traffic leaving through this interface' },
      exclude: { type: 'string', value: 'IF', help: "masq: not traffic leaving through this interface (the bridge, as Docker's ! -o docker0)" },
      'no-hairpin': { type: 'boolean', help: 'masq: do not masquerade hairpin traffic back into the subnet' },
      remove: { type: 'boolean', help: 'masq: remove the rule instead of adding it' },
      protocol: { type: 'string', value: 'tcp|udp', help: 'publish: the protocol (default tcp)' },
      'host-ip': { type: 'string', value: 'IP', help: 'publish: only this host address (default all)' },
      'host-port': { type: 'string', value: 'PORT', help: 'publish: the host port (default: a free one is picked)' },
      to: { type: 'string', value: 'IP:PORT', help: 'publish: the container address and port' },
      owner: { type: 'string', value: 'ID', help: 'publish: container id to tag the mapping with, for sweep' },
    },
    positionals: [1, 1],
    more: 'examples:\n  nlkit nat masq --source 10.88.0.0/16 --exclude br0\n  nlkit nat publish --host-port 8080 --to 10.88.0.2:80',
  },
  async run(values, [action], out) {
    const ns = netnsRef(str(values, 'netns'));
    if (action === 'list' || action === 'masq' || action === 'publish' || action === 'unpublish') {
      for (const [flag, actions] of Object.entries(NAT_FLAG_ACTIONS)) {
        if (values[flag] !== undefined && !actions.includes(action)) throw new UsageError(`--${flag} belongs to nat ${actions.join(' and ')}, not nat ${action}`);
      }
    }
    switch (action) {
      case 'list': {
        const n = await nl.inspectNat({ netns: ns });
        return print(out, values, n, () => {
          if (!n.exists) return `no NAT table '${n.table}' yet\n`;
          const rules = table(['chain', 'kind', 'handle', 'comment'], n.rules.map((r) => [r.chain, r.kind, r.handle, r.comment]));
          const maps = table(
            ['protocol', 'host', 'container', 'owner'],
            n.portMappings.map((m) => [m.protocol, `${m.hostIp ?? '*'}:${m.hostPort}`, `${m.containerIp}:${m.containerPort}`, m.owner]),
          );
          return `table ${n.table}\n\nrules:\n${rules}\npublished ports:\n${maps}`;
        });
      }
      case 'masq': {
        // hairpin only when --no-hairpin says so: otherwise the library's default, which is on
        // except for a /0 source (where asking for it is refused).
        const spec = {
          source: required(values, 'source'),
          netns: ns,
          ...(values['no-hairpin'] ? { hairpin: false } : {}),
          outInterface: str(values, 'out'),
          excludeInterface: str(values, 'exclude'),
        };
        if (values.remove) {
          const r = await nl.removeMasquerade(spec);
          return print(out, values, r, () => `removed ${r.removed} rule(s)\n`);
        }
        const r = await nl.addMasquerade(spec);
        return print(out, values, r, () => `${r.added ? 'added' : 'already present:'} ${r.comment}\n`);
      }
      case 'publish': {
        const m = await nl.addPortMapping(mappingSpec(values));
        return print(out, values, m, () => `published ${m.protocol} ${m.hostIp ?? '*'}:${m.hostPort} -> ${m.containerIp}:${m.containerPort}\n`);
      }
      case 'unpublish': {
        const r = await nl.removePortMapping(mappingSpec(values));
        return print(out, values, r, () => (r.removed ? 'removed\n' : 'no such mapping\n'));
      }
      default:
        throw new UsageError(`unknown nat action '${action}': list, masq, publish or unpublish`);
    }
  },
};

const peer: Command = {
  spec: {
    usage: 'peer IFNAME --netns NS',
    summary: "Which interface is the other end of a veth: for a container's eth0, its host vethXXXX (findPeer).",
    flags: { netns: { type: 'string', value: 'NS', help: 'the namespace IFNAME is in (default: this one)' } },
    positionals: [1, 1],
  },
  async run(values, [ifname], out) {
    const p = await nl.findPeer(ifname!, { netns: netnsRef(str(values, 'netns')) });
    const where = p.sameNetns ? 'the same namespace' : p.initialNetns ? "nlkit's own namespace" : (p.netnsName ?? `netns id ${p.netnsId ?? '?'}`);
    return print(out, values, p, () =>
      table(['peer', 'index', 'namespace', 'master'], [[p.link.name, p.link.index, where, p.link.master]]),
    );
  },
};

const sweep: Command = {
  spec: {
    usage: 'sweep --keep ID [--keep ID...] [--netns NS] | sweep --all',
    summary: 'Remove the veths and port mappings nlkit tagged for containers that no longer exist (every owner not kept).',
    flags: {
      keep: { type: 'string', multiple: true, value: 'ID', help: 'a container id that still exists' },
      all: { type: 'boolean', help: 'keep none: remove everything nlkit tagged' },
      netns: NETNS,
    },
  },
  async run(values, _, out) {
    const keep = list(values, 'keep');
    if (keep.length === 0 && !values.all) throw new UsageError('give the ids to keep (--keep ID), or --all to keep none');
    if (keep.length > 0 && values.all) throw new UsageError('--all and --keep exclude each other');
    const r = await nl.sweep({ keep, netns: netnsRef(str(values, 'netns')) });
    const mapping = (m: nl.PortMapping) => `${m.protocol} ${m.hostIp ?? '*'}:${m.hostPort} -> ${m.containerIp}:${m.containerPort}`;
    const failed = r.failed.map((f) => ({ ...f, error: { code: (f.error as nl.NlkitError).code, message: f.error.message } }));
    print(out, values, { ...r, failed }, () =>
      table(
        ['removed', 'what', 'owner'],
        [
          ...r.links.map((l) => ['link', l.name, l.owner]),
          ...r.portMappings.map((m) => ['port mapping', mapping(m), m.owner]),
          ...r.failed.map((f) => ['FAILED', `${f.link !== undefined ? `link ${f.link}` : `port mapping ${mapping(f.portMapping!)}`}: ${f.error.message}`, f.owner]),
        ],
      ),
    );
    // Whatever could not be removed is still there: a script must see that.
    return r.failed.length > 0 ? 1 : 0;
  },
};

/**
 * One line per event: what changed, in the words `ip monitor` would use. Links are named from
 * `names` (ifindex -> name), which link events and the start-up listing keep current.
 */
export function describeEvent(e: WatchEvent, names: Map<number, string>): string {
  const dev = (index: number | undefined) => (index === undefined ? '' : ` dev ${names.get(index) ?? `#${index}`}`);
  const existing = 'existing' in e && e.existing ? ' (existing)' : '';
  switch (e.type) {
    case 'link':
      return `link ${e.action} ${e.link.name} #${e.link.index} ${e.link.up ? 'UP' : 'DOWN'}/${e.link.operState} mtu ${e.link.mtu}${existing}`;
    case 'address':
      return `address ${e.action} ${e.address.cidr}${dev(e.address.link)}${e.address.flags.length ? ` ${e.address.flags.join(',')}` : ''}${existing}`;
    case 'route':
      return `route ${e.action} ${e.route.to}${e.route.via ? ` via ${e.route.via}` : ''}${dev(e.route.dev)} table ${e.route.table}${existing}`;
    case 'neighbor':
      return `neighbor ${e.action} ${e.neighbor.address ?? ''}${e.neighbor.mac ? ` lladdr ${e.neighbor.mac}` : ''}${dev(e.neighbor.dev)} ${e.neighbor.state.join(',')}${existing}`;
    case 'overrun':
      return e.unreadable === undefined
        ? 'overrun: the kernel dropped notifications'
        : `overrun: a notification nlkit could not read (${e.unreadable})`;
    case 'synced':
      return 'synced: the state above is current';
  }
}

const GROUPS = ['link', 'address', 'route', 'neighbor'] as const;

const watchCommand: Command = {
  spec: {
    usage: 'watch [--netns NS] [--groups link,address,route,neighbor] [--list] [--count N]',
    summary: 'Print link, address, route and neighbour changes as the kernel reports them, until interrupted (watch()).',
    flags: {
      netns: NETNS,
      groups: { type: 'string', value: 'LIST', help: 'comma-separated: link, address, route, neighbor (default all)' },
      list: { type: 'boolean', help: 'first print what exists now, then "synced"' },
      count: { type: 'string', value: 'N', help: 'exit after N events' },
    },
    more: 'With --json, one JSON object per line (the WatchEvent the API yields). After an overrun it resyncs.',
  },
  async run(values, _, out) {
    const groups = (str(values, 'groups') ?? GROUPS.join(',')).split(',').map((g) => g.trim());
    for (const g of groups) if (!(GROUPS as readonly string[]).includes(g)) throw new UsageError(`--groups: unknown group '${g}' (${GROUPS.join(', ')})`);
    const count = int(values, 'count', 1, 0x7fffffff);
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      let seen = 0;
      const ns = netnsRef(str(values, 'netns'));
      const names = await linkNames(ns);
      const w = nl.watch({ groups: groups as WatchGroup[], netns: ns, listExisting: values.list === true, resync: true, signal: ac.signal });
      for await (const e of w) {
        // Print before forgetting a deleted link's name: its own line still names it.
        out.stdout(values.json ? `${JSON.stringify(e)}\n` : `${describeEvent(e, names)}\n`);
        if (e.type === 'link') {
          if (e.action === 'new') names.set(e.link.index, e.link.name);
          else names.delete(e.link.index);
        }
        if (count !== undefined && ++seen >= count) break;
      }
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

export const COMMANDS: Record<string, Command> = { links, addrs, routes, netns, attach, detach, nat, peer, sweep, watch: watchCommand };
