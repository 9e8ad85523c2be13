// Tracks what a test creates so that afterEach can remove it, and checks at the end of a file
// that nothing with the file's prefix is left in the default namespace or under /run/netns.
import { expect } from 'vitest';
import {
  createNetns,
  createVethPair,
  deleteLink,
  deleteNetns,
  listLinks,
  listNetns,
  NetlinkError,
  setLink,
  SystemError,
  type NetnsHandle,
} from '../../lib/index';
import { ipLinks, ipNetnsList } from './ip';
import type { Namer } from './names';

export interface Lan {
  ns: NetnsHandle & { name: string };
  a: string;
  b: string;
  aIndex: number;
  bIndex: number;
}

export class Resources {
  private readonly handles: NetnsHandle[] = [];
  private readonly namedNetns = new Set<string>();
  private readonly defaultLinks = new Set<string>();

  constructor(private readonly names: Namer) {}

  /** A fresh named namespace (visible to `ip -n NAME`), removed at cleanup. */
  async netns(tag?: string): Promise<NetnsHandle & { name: string }> {
    const name = this.names.netns(tag);
    this.namedNetns.add(name);
    const h = await createNetns(name);
    this.handles.push(h);
    return h as NetnsHandle & { name: string };
  }

  /** A fresh anonymous namespace, held by its handle only. */
  async anonNetns(): Promise<NetnsHandle> {
    const h = await createNetns();
    this.handles.push(h);
    return h;
  }

  /** A fresh named namespace holding a veth pair `a`/`b` whose ends are both up (so each has carrier). */
  async lan(): Promise<Lan> {
    const ns = await this.netns();
    const a = this.names.link('a');
    const b = this.names.link('b');
    const pair = await createVethPair({ name: a, netns: ns, up: true, peer: { name: b } });
    const bLink = await setLink(b, { up: true }, { netns: ns });
    return { ns, a, b, aIndex: pair.link.index, bIndex: bLink.index };
  }

  trackHandle(h: NetnsHandle): NetnsHandle {
    this.handles.push(h);
    return h;
  }

  trackNetnsName(name: string): void {
    this.namedNetns.add(name);
  }

  /** A link name in the default namespace; returns the name for chaining. */
  link(tag?: string): string {
    const name = this.names.link(tag);
    this.defaultLinks.add(name);
    return name;
  }

  trackLink(name: string): void {
    this.defaultLinks.add(name);
  }

  /** Removes everything tracked. Missing objects are fine; any other failure is reported. */
  async cleanup(): Promise<void> {
    const failures: unknown[] = [];
    for (const name of this.defaultLinks) {
      try {
        await deleteLink(name);
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === 'ENODEV')) failures.push(e);
      }
    }
    this.defaultLinks.clear();
    for (const h of this.handles.splice(0)) {
      try {
        if (!h.closed) h.close();
      } catch (e) {
        failures.push(e);
      }
    }
    for (const name of this.namedNetns) {
      try {
        await deleteNetns(name);
      } catch (e) {
        if (!(e instanceof SystemError && e.code === 'ENOENT')) failures.push(e);
      }
    }
    this.namedNetns.clear();
    if (failures.length > 0) {
      throw new AggregateError(failures, `cleanup failed: ${failures.map(String).join('; ')}`);
    }
  }
}

/** Nothing with this file's prefix remains, as both `ip -j` and nlkit see it. */
export async function expectNoLeftovers(names: Namer): Promise<void> {
  const ipLeft = ipLinks().map((l) => l.ifname).filter((n) => n.startsWith(names.prefix));
  expect(ipLeft).toEqual([]);
  const nlLeft = (await listLinks()).map((l) => l.name).filter((n) => n.startsWith(names.prefix));
  expect(nlLeft).toEqual([]);
  expect(ipNetnsList().filter((n) => n.startsWith(names.nsPrefix))).toEqual([]);
  expect((await listNetns()).filter((n) => n.startsWith(names.nsPrefix))).toEqual([]);
}
