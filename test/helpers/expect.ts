// Assertions on nlkit's typed errors.
import { constants } from 'node:os';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import {
  InvalidArgumentError,
  NetlinkError,
  NlkitError,
  SystemError,
} from '../../lib/index';

/** Awaits `fn()` and returns what it rejected (or threw) with; fails if it resolved. */
export async function rejectionOf(fn: () => unknown): Promise<unknown> {
  let value: unknown;
  try {
    value = await fn();
  } catch (e) {
    return e;
  }
  throw new Error(`expected a rejection, but it resolved with ${inspect(value, { depth: 3 })}`);
}

function errnoOf(code: string): number | undefined {
  return (constants.errno as Record<string, number | undefined>)[code];
}

function expectErrnoFields(e: { code: string; errno: number; operation: string; object: string; message: string }): void {
  expect(e.code).toMatch(/^E[A-Z0-9]+$/);
  expect(Number.isInteger(e.errno)).toBe(true);
  expect(e.errno).not.toBe(0);
  // Positive (kernel) or negative (libuv-style) errno: both name the same error.
  expect(Math.abs(e.errno)).toBe(errnoOf(e.code));
  expect(typeof e.operation).toBe('string');
  expect(e.operation.length).toBeGreaterThan(0);
  expect(typeof e.object).toBe('string');
  expect(e.object.length).toBeGreaterThan(0);
  expect(typeof e.message).toBe('string');
  expect(e.message.length).toBeGreaterThan(0);
}

/** Every field a NetlinkError promises. */
export function expectNetlinkShape(err: unknown): asserts err is NetlinkError {
  expect(err).toBeInstanceOf(NetlinkError);
  expect(err).toBeInstanceOf(NlkitError);
  expect(err).toBeInstanceOf(Error);
  const e = err as NetlinkError;
  expectErrnoFields(e);
  if (e.extack !== undefined) {
    expect(typeof e.extack).toBe('string');
    expect(e.extack.length).toBeGreaterThan(0);
  }
  if (e.extackOffset !== undefined) {
    expect(Number.isInteger(e.extackOffset)).toBe(true);
    expect(e.extackOffset).toBeGreaterThanOrEqual(0);
  }
}

export function expectSystemShape(err: unknown): asserts err is SystemError {
  expect(err).toBeInstanceOf(SystemError);
  expect(err).toBeInstanceOf(NlkitError);
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(NetlinkError);
  expectErrnoFields(err as SystemError);
}

/** `fn` must reject with a NetlinkError of this errno name. */
export async function expectNetlinkError(fn: () => unknown, code: string): Promise<NetlinkError> {
  const err = await rejectionOf(fn);
  expectNetlinkShape(err);
  expect(err.code).toBe(code);
  return err;
}

/** `fn` must reject with a SystemError of this errno name. */
export async function expectSystemError(fn: () => unknown, code: string): Promise<SystemError> {
  const err = await rejectionOf(fn);
  expectSystemShape(err);
  expect(err.code).toBe(code);
  return err;
}

/** `fn` must reject with an InvalidArgumentError whose `argument` matches `argument`. */
export async function expectInvalidArgument(fn: () => unknown, argument: RegExp): Promise<InvalidArgumentError> {
  const err = await rejectionOf(fn);
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect(err).toBeInstanceOf(NlkitError);
  expect(err).not.toBeInstanceOf(NetlinkError);
  expect(err).not.toBeInstanceOf(SystemError);
  const e = err as InvalidArgumentError;
  expect(e.code).toBe('ERR_NLKIT_INVALID_ARGUMENT');
  expect(typeof e.argument).toBe('string');
  expect(e.argument).toMatch(argument);
  expect(e.message.length).toBeGreaterThan(0);
  return e;
}

/** `fn` must reject with some NlkitError carrying a non-empty string code. */
export async function expectNlkitError(fn: () => unknown): Promise<NlkitError> {
  const err = await rejectionOf(fn);
  expect(err).toBeInstanceOf(NlkitError);
  const e = err as NlkitError;
  expect(typeof e.code).toBe('string');
  expect(e.code.length).toBeGreaterThan(0);
  return e;
}

/** Polls `check` until it stops throwing (kernel state such as operstate settles asynchronously). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
