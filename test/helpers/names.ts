// Unique, short names per test file. Every file picks its own 3-letter prefix (all prefixes have
// the same length, so no file's prefix is a prefix of another's); links are `<prefix><tag><n>`
// (at most 15 bytes, IFNAMSIZ - 1), namespaces `nlkt-<prefix>-<tag><n>`.

export const IFNAMSIZ_MAX = 15;

export interface Namer {
  readonly prefix: string;
  /** Every namespace name this file makes starts with this. */
  readonly nsPrefix: string;
  /** A fresh interface name, `<prefix><tag><counter>`. */
  link(tag?: string): string;
  /** A fresh namespace name. */
  netns(tag?: string): string;
}

export function namer(prefix: string): Namer {
  if (!/^[a-z]{3}$/.test(prefix)) throw new Error(`prefix must be 3 lower-case letters, got ${prefix}`);
  let n = 0;
  const nsPrefix = `nlkt-${prefix}-`;
  return {
    prefix,
    nsPrefix,
    link(tag = '') {
      n += 1;
      const name = `${prefix}${tag}${n.toString(36)}`;
      if (Buffer.byteLength(name) > IFNAMSIZ_MAX) throw new Error(`test bug: ${name} is longer than 15 bytes`);
      return name;
    },
    netns(tag = 'n') {
      n += 1;
      return `${nsPrefix}${tag}${n.toString(36)}`;
    },
  };
}
