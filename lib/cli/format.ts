// Output of the `nlkit` command: aligned tables, colour only on a terminal, JSON on request.

/** Where a command writes; tests give their own. */
export interface Out {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal: colours and progress lines only then. */
  tty: boolean;
}

export const processOut: Out = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  tty: process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb',
};

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(out: Out, colour: Colour, text: string): string {
  return out.tty ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

/** The width a string takes on screen, colour codes excluded. */
function width(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/**
 * Columns padded to their widest cell, two spaces apart; the header underlined by dashes. Numbers
 * are right-aligned when a column holds only numbers.
 */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => headers.map((_, i) => (r[i] === undefined ? '' : String(r[i]))));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => r[i] === '' || /^-?\d+(\.\d+)?$/.test(r[i]!)));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i]!))));
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - width(c));
        return numeric[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}
