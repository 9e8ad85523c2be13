// Process-wide settings: where named namespaces live, and the name of nlkit's nftables table.

import { InvalidArgumentError } from './errors';
import * as check from './validate';

const settings = { netnsDir: '/run/netns', natTable: 'nlkit' };

export interface NlkitConfig {
  /** Where named namespaces live (`ip netns` uses /run/netns). */
  netnsDir?: string;
  /** The inet table nlkit keeps its NAT rules in (default 'nlkit'). nlkit never touches any other. */
  natTable?: string;
}

export function configure(config: NlkitConfig): void {
  const c = check.optionsObject(config, 'config');
  check.onlyKeys(c, ['netnsDir', 'natTable'], 'config');
  if (c.netnsDir !== undefined) {
    settings.netnsDir = check.absolutePath(c.netnsDir, 'config.netnsDir').replace(/\/+$/u, '') || '/';
  }
  if (c.natTable !== undefined) {
    const t = check.text(c.natTable, 'config.natTable', 255);
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/u.test(t)) throw new InvalidArgumentError('config.natTable', 'must be a plain nftables identifier');
    settings.natTable = t;
  }
}

export function netnsDir(): string {
  return settings.netnsDir;
}

export function natTable(): string {
  return settings.natTable;
}
