// Network namespaces: create, open, delete and list them without forking, and turn every way a
// caller can name one (handle, name, path, pid) into what the addon takes.

import { callNative, InvalidArgumentError } from './errors';
import { native, type NativeNetns } from './native';
import type { NetnsRef } from './types';
import { netnsDir } from './config';
import * as check from './validate';

// A handle dropped without close() would hold its namespace fd, its pooled sockets and the
// namespace itself for the life of the process: a launcher that forgets one per container runs out
// of fds. So it is closed when garbage-collected, with a warning, as Node's fs FileHandle is.
const unclosed = new FinalizationRegistry<number>((id) => {
  native.netnsClose(id);
  process.emitWarning('a NetnsHandle was garbage-collected without close(); nlkit closed it (call close(), or hold it with `using`)', {
    code: 'NLKIT_UNCLOSED_NETNS_HANDLE',
  });
});

/**
 * An open network namespace. Calls given a handle reuse its netlink sockets; `close()` releases
 * the namespace fd and those sockets, so the kernel can free an anonymous or deleted namespace.
 */
export class NetnsHandle {
  /** Set for a namespace created or opened by name. */
  readonly name?: string;
  /** The file it was opened from; '' for an anonymous namespace. */
  readonly path: string;
  #id: number | undefined;

  /** @internal */
  constructor(id: number, path: string, name?: string) {
    this.#id = id;
    this.path = path;
    if (name !== undefined) this.name = name;
    unclosed.register(this, id, this);
  }

  get closed(): boolean {
    return this.#id === undefined;
  }

  /** @internal The addon's handle id; throws once closed. */
  nativeId(argument: string): number {
    if (this.#id === undefined) throw new InvalidArgumentError(argument, 'network namespace handle is closed');
    return this.#id;
  }

  /** Releases the namespace fd and its pooled sockets (at once, or when calls using them finish). */
  close(): void {
    if (this.#id === undefined) return;
    unclosed.unregister(this);
    native.netnsClose(this.#id);
    this.#id = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const REF_FORMS = 'must be a NetnsHandle, a name, a path, { pid }, { path } or { name }';

/** Where a NetnsRef points, as a path (undefined for a handle). */
function pathOf(ref: Exclude<NetnsRef, NetnsHandle>, argument: string): { path: string; name?: string } {
  if (typeof ref === 'string') {
    if (ref.includes('/')) return { path: check.absolutePath(ref, argument) };
    const name = check.netnsName(ref, argument);
    return { path: `${netnsDir()}/${name}`, name };
  }
  if (!check.isObject(ref)) throw new InvalidArgumentError(argument, REF_FORMS);
  // A handle of another copy of nlkit (a second install, a bundle) fails instanceof; read by its
  // public `path` it would follow a re-created name instead of holding its namespace.
  if (typeof (ref as { nativeId?: unknown }).nativeId === 'function') {
    throw new InvalidArgumentError(argument, "is a NetnsHandle of another copy of nlkit: open the namespace with this copy's openNetns");
  }
  // Exactly one key: with two, which one wins would be a guess ({ name, pid } once acted on the pid's).
  check.onlyKeys(ref, ['pid', 'path', 'name'], argument);
  const keys = Object.keys(ref).filter((k) => (ref as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) throw new InvalidArgumentError(argument, `${REF_FORMS}: one of pid, path or name, got ${keys.length}`);
  const key = keys[0]!;
  const value = (ref as Record<string, unknown>)[key];
  if (key === 'pid') return { path: `/proc/${check.integer(value, `${argument}.pid`, 1, 0x7fffffff)}/ns/net` };
  if (key === 'path') return { path: check.absolutePath(value, `${argument}.path`) };
  const name = check.netnsName(value, `${argument}.name`);
  return { path: `${netnsDir()}/${name}`, name };
}

/** Turns a caller's NetnsRef into the addon's form; undefined stays undefined (initial namespace). */
export function toNative(ref: NetnsRef | undefined, argument = 'netns'): NativeNetns {
  if (ref === undefined) return undefined;
  if (ref instanceof NetnsHandle) return ref.nativeId(argument);
  return pathOf(ref, argument).path;
}

/**
 * Runs a call made of several native calls with one namespace held for all of them. A name, path
 * or pid is opened once (and closed after): read again by each step, it would follow a namespace
 * re-created meanwhile, and a step would act on another namespace's links by ifindex.
 */
export async function withNetnsHeld<T>(ref: NetnsRef | undefined, argument: string, fn: (netns: NetnsRef | undefined) => Promise<T>): Promise<T> {
  const path = toNative(ref, argument); // validated before anything is sent
  if (typeof path !== 'string') return fn(ref);
  const handle = await openNetns(ref as Exclude<NetnsRef, NetnsHandle>);
  try {
    return await fn(handle);
  } finally {
    handle.close();
  }
}

/**
 * Creates a network namespace. Named: bind-mounted at `<netnsDir>/<name>` exactly as
 * `ip netns add` does, so it outlives the handle and `ip netns` sees it. Anonymous: held only by
 * the returned handle, gone when it is closed (and nothing else uses it).
 */
export async function createNetns(name?: string): Promise<NetnsHandle> {
  if (name === undefined) {
    const id = await callNative(() => native.netnsCreate({ dir: netnsDir() }));
    return new NetnsHandle(id, '');
  }
  const n = check.netnsName(name, 'name');
  // Read once: a configure() while the call is in flight must not make the handle name another place.
  const dir = netnsDir();
  const id = await callNative(() => native.netnsCreate({ dir, name: n }));
  return new NetnsHandle(id, `${dir}/${n}`, n);
}

/**
 * Opens a namespace by name, path or `{ pid }` and returns a handle that keeps it open. Given a
 * handle, returns a second, independent handle to the same namespace.
 */
export async function openNetns(ref: NetnsRef): Promise<NetnsHandle> {
  if (ref instanceof NetnsHandle) {
    return new NetnsHandle(native.netnsDup(ref.nativeId('ref')), ref.path, ref.name);
  }
  const { path, name } = pathOf(ref, 'ref');
  const id = await callNative(() => native.netnsOpen({ path }));
  return new NetnsHandle(id, path, name);
}

/** Unmounts and removes a named namespace. Handles still open keep it alive until closed. */
export async function deleteNetns(name: string): Promise<void> {
  const n = check.netnsName(name, 'name');
  await callNative(() => native.netnsDelete({ dir: netnsDir(), name: n }));
}

/** Names of the namespaces under the netns directory, sorted. */
export async function listNetns(): Promise<string[]> {
  return callNative(() => native.netnsList({ dir: netnsDir() }));
}
