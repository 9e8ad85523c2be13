// An independent netlink reader for tests: walks a message the way the kernel's nla_parse does,
// written from the uapi headers, sharing nothing with native/. Used to check the bytes nlkit sends.

export interface ParsedAttr {
  type: number;
  nested: boolean;
  payload: Buffer;
}

export interface ParsedMessage {
  type: number;
  flags: number;
  header: Buffer;
  attrs: ParsedAttr[];
}

const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;

export function parseAttrs(area: Buffer): ParsedAttr[] {
  const out: ParsedAttr[] = [];
  let off = 0;
  while (off + 4 <= area.length) {
    const len = area.readUInt16LE(off);
    const rawType = area.readUInt16LE(off + 2);
    if (len < 4 || off + len > area.length) throw new Error(`bad attribute length ${len} at ${off}`);
    out.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, payload: area.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  if (off !== area.length && off < area.length) throw new Error('trailing bytes');
  return out;
}

/** Parses one message whose family header is `headerLen` bytes (16 for ifinfomsg). */
export function parseMessage(buf: Buffer, headerLen: number): ParsedMessage {
  const len = buf.readUInt32LE(0);
  if (len !== buf.length) throw new Error(`nlmsg_len ${len} != ${buf.length}`);
  return {
    type: buf.readUInt16LE(4),
    flags: buf.readUInt16LE(6),
    header: buf.subarray(16, 16 + headerLen),
    attrs: parseAttrs(buf.subarray(16 + headerLen)),
  };
}

export function attr(attrs: ParsedAttr[], type: number): ParsedAttr {
  const a = attrs.find((x) => x.type === type);
  if (!a) throw new Error(`attribute ${type} missing (have ${attrs.map((x) => x.type).join(',')})`);
  return a;
}

export function cstring(a: ParsedAttr): string {
  const nul = a.payload.indexOf(0);
  if (nul !== a.payload.length - 1) throw new Error('string attribute not NUL-terminated exactly once');
  return a.payload.subarray(0, nul).toString();
}

/** Builds a netlink message (for decoder tests): header + family header + attributes. */
export function buildMessage(type: number, familyHeader: Buffer, attrs: { type: number; payload: Buffer }[]): Buffer {
  const parts: Buffer[] = [familyHeader];
  for (const a of attrs) {
    const len = 4 + a.payload.length;
    const h = Buffer.alloc(4);
    h.writeUInt16LE(len, 0);
    h.writeUInt16LE(a.type, 2);
    parts.push(h, a.payload, Buffer.alloc(((len + 3) & ~3) - len));
  }
  const body = Buffer.concat(parts);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + body.length, 0);
  hdr.writeUInt16LE(type, 4);
  return Buffer.concat([hdr, body]);
}
