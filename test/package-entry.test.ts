// The package as a consumer loads it: `require('nlkit')` and `import ... from 'nlkit'` (resolved
// through package.json "exports", from the built dist/) give the same, complete API.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const requireFromHere = createRequire(__filename);
const API = [
  'createBridge', 'createVethPair', 'createLink', 'setLink', 'enslave', 'release', 'deleteLink', 'getLink',
  'listLinks', 'createNetns', 'openNetns', 'deleteNetns', 'listNetns', 'configure', 'NetnsHandle',
  'NlkitError', 'InvalidArgumentError', 'ErrnoError', 'NetlinkError', 'SystemError', 'ProtocolError',
];

describe('package entry points', () => {
  it('require("nlkit") exposes the API', () => {
    const cjs = requireFromHere('nlkit') as Record<string, unknown>;
    for (const name of API) expect(typeof cjs[name], name).toBe('function');
  });

  it('import ... from "nlkit" works in Node\'s own ES module loader (in a worker thread)', async () => {
    // Not through vitest's module runner, which rewrites import(): a worker thread loads a real
    // .mjs file that imports 'nlkit' by name. Same process, second Node environment for the addon.
    const worker = new Worker(resolve(__dirname, 'fixtures', 'esm-import.mjs'));
    const result = await new Promise<Record<string, unknown>>((ok, fail) => {
      worker.once('message', ok);
      worker.once('error', fail);
    });
    await worker.terminate();
    const types = result.types as Record<string, string>;
    for (const name of API) expect(types[name], name).toBe('function');
    expect(result).toMatchObject({ defaultHasSame: true, lo: 'lo', errorCode: 'ERR_NLKIT_INVALID_ARGUMENT', errorIsClass: true });
  });

  it('a rejected call from the built package is an instance of its exported class', async () => {
    const cjs = requireFromHere('nlkit') as typeof import('../lib/index');
    const err = await cjs.createBridge('x'.repeat(16)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cjs.InvalidArgumentError);
    expect(err).toBeInstanceOf(cjs.NlkitError);
  });
});
