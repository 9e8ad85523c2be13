// Flags of the `nlkit` command: node:util's parseArgs in strict mode (an unknown flag or a missing
// value is a usage error, exit code 2), plus the help text each command prints for --help.
import { parseArgs } from 'node:util';
import type { NetnsRef } from '../types';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Wrong flags or arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's name in the help text: --netns NS. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** "links [--netns NS]": the command line after `nlkit`. */
  usage: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments: exactly this many names, or a range [min, max]. */
  positionals?: [number, number];
  /** Extra lines after the flags: examples, notes. */
  more?: string;
  /** False for a command that prints no JSON (bench: markdown, samples via NLKIT_BENCH_JSON). */
  json?: false;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export const COMMON_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print JSON instead of a table' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export function parse(spec: CommandSpec, argv: string[]): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, f] of Object.entries({ ...spec.flags, ...COMMON_FLAGS })) {
    options[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values.help) return parsed;
  const [min, max] = spec.positionals ?? [0, 0];
  if (parsed.positionals.length < min) throw new UsageError(`missing argument: usage: nlkit ${spec.usage}`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
  return parsed;
}

export function helpText(spec: CommandSpec): string {
  const lines = [`usage: nlkit ${spec.usage}`, '', spec.summary, '', 'options:'];
  const common = spec.json === false ? { help: COMMON_FLAGS.help! } : COMMON_FLAGS;
  const flags = Object.entries({ ...spec.flags, ...common });
  const left = flags.map(([name, f]) => `  ${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`);
  const pad = Math.max(...left.map((l) => l.length)) + 2;
  flags.forEach(([, f], i) => lines.push(`${left[i]!.padEnd(pad)}${f.help}${f.multiple ? ' (repeatable)' : ''}`));
  if (spec.more) lines.push('', spec.more);
  return `${lines.join('\n')}\n`;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}

/** An integer flag, or undefined when absent. */
export function int(values: Values, name: string, min: number, max: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return Number(v);
}

/**
 * A namespace as operators write it: a pid (digits), a path (with a slash), or a name under
 * /run/netns. Absent: the namespace nlkit runs in.
 */
export function netnsRef(v: string | undefined): NetnsRef | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return { pid: Number(v) };
  if (v.includes('/')) return { path: v };
  return { name: v };
}
