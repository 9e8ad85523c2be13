// The `nlkit` command (bin/nlkit.js runs it; `demo` and `bench` first move into scratch
// namespaces there). Exit codes: 0 done, 1 failed (a kernel refusal, a demo path that did not
// pass), 2 wrong usage (unknown command or flag, bad value). Errors go to stderr, naming what was
// wrong; results go to stdout, as aligned tables or, with --json, JSON.
import { InvalidArgumentError, NlkitError } from '../errors';
import { EXIT, helpText, parse, str, UsageError, type CommandSpec } from './args';
import { COMMANDS } from './commands';
import { BREAKABLE, runDemo, type Breakable } from './demo';
import { processOut, type Out } from './format';

const DEMO: CommandSpec = {
  usage: 'demo [--json] [--break WHAT]',
  summary:
    'Build a Docker-style bridge network in scratch namespaces (a host with an uplink to an "outside", br0, three\n' +
    'containers, masquerade, a published tcp and udp port), prove every path with real traffic, tear it all down.\n' +
    'Runs inside fresh user+network+mount namespaces: it never touches this machine\'s network. Exit code 1 when a\n' +
    'path fails.',
  flags: { break: { type: 'string', value: 'WHAT', help: `break one thing on purpose, to see a failure reported: ${Object.keys(BREAKABLE).join(', ')}` } },
};

const BENCH: CommandSpec = {
  usage: 'bench',
  summary: 'Run the benchmark suite (bench/README.md) in scratch namespaces; NLKIT_BENCH_CASES=attach,profile picks cases.',
  flags: {},
  json: false,
  more: 'It prints markdown tables; NLKIT_BENCH_JSON=FILE writes every sample as JSON.',
};

function overview(): string {
  const rows: [string, string][] = [
    // The overview gets the summary's first clause: its first line breaks mid-sentence.
    ['demo', DEMO.summary.split(' (', 1)[0]!],
    ...Object.entries(COMMANDS).map(([name, c]): [string, string] => [name, c.spec.summary]),
    ['bench', BENCH.summary],
  ];
  const pad = Math.max(...rows.map(([n]) => n.length)) + 2;
  return [
    'usage: nlkit <command> [options]     (nlkit <command> --help for its options)',
    '',
    ...rows.map(([n, s]) => `  ${n.padEnd(pad)}${s}`),
    '',
    'Namespaces (--netns) are a name under /run/netns, a path, or a pid. Every command but bench takes --json.',
    'Exit codes: 0 done, 1 failed, 2 wrong usage.',
    '',
  ].join('\n');
}

/** Runs one command line (without `nlkit` itself); resolves to the exit code. */
export async function main(argv: string[], out: Out = processOut): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.stdout(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    out.stdout(`${(require('../../package.json') as { version: string }).version}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  const spec = command?.spec ?? (name === 'demo' ? DEMO : name === 'bench' ? BENCH : undefined);
  if (spec === undefined) {
    out.stderr(`nlkit: unknown command '${name}' (nlkit --help lists them)\n`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parse(spec, rest);
    if (values.help) {
      out.stdout(helpText(spec));
      return EXIT.ok;
    }
    if (command) return await command.run(values, positionals, out);
    if (name === 'bench') throw new UsageError('nlkit bench runs through bin/nlkit.js (it needs a process of its own)');
    // bin/nlkit.js moves the demo into scratch namespaces first; called any other way, refuse
    // rather than build networks in the caller's own namespace.
    if (process.env.NLKIT_ISOLATED !== '1') throw new UsageError('the demo runs only inside scratch namespaces: start it as `nlkit demo`');
    const broken = str(values, 'break');
    if (broken !== undefined && !Object.hasOwn(BREAKABLE, broken)) throw new UsageError(`--break must be one of ${Object.keys(BREAKABLE).join(', ')}, got '${broken}'`);
    return await runDemo({ broken: broken as Breakable | undefined }, out, values.json === true);
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`nlkit ${name}: ${e.message}\nusage: nlkit ${spec.usage}\n`);
      return EXIT.usage;
    }
    if (e instanceof InvalidArgumentError) {
      out.stderr(`nlkit ${name}: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof NlkitError) {
      out.stderr(`nlkit ${name}: ${e.message}\n`);
      return EXIT.failed;
    }
    out.stderr(`nlkit ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.failed;
  }
}
