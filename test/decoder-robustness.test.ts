// The reply decoder against malformed input: truncated, oversized lengths, garbage. Every case
// must come back as a thrown error or a decoded link, never a crash (a crash kills the test run).
import { describe, expect, it } from 'vitest';
import { native } from '../lib/native';
import { buildMessage } from './helpers/netlink-parse';

const RTM_NEWLINK = 16;

function ifinfomsg(index: number, flags: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  return b;
}
const str = (s: string) => Buffer.from(`${s}\0`);
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

// A well-formed reply: name, MTU, MAC, and IFLA_LINKINFO { kind "bridge" }.
function goodMessage(): Buffer {
  const kind = Buffer.concat([Buffer.from([11, 0, 1, 0]), str('bridge'), Buffer.alloc(1)]);
  return buildMessage(RTM_NEWLINK, ifinfomsg(5, 1), [
    { type: 3, payload: str('br-test') },
    { type: 4, payload: u32(1500) },
    { type: 1, payload: Buffer.from([2, 0, 0, 0, 0, 9]) },
    { type: 18 | 0x8000, payload: kind },
  ]);
}

function decodeOrError(buf: Buffer): 'ok' | 'error' {
  try {
    native.linkDecode(buf);
    return 'ok';
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ERR_NLKIT_PROTOCOL');
    return 'error';
  }
}

describe('link decoder', () => {
  it('decodes a well-formed RTM_NEWLINK', () => {
    const link = native.linkDecode(goodMessage());
    expect(link).toMatchObject({ index: 5, name: 'br-test', mtu: 1500, mac: '02:00:00:00:00:09', kind: 'bridge', up: true });
  });

  it('a truncated message decodes only when it ends exactly after an attribute; otherwise it is an error', () => {
    const good = goodMessage();
    // Where each attribute ends, anywhere from its last byte to the end of its padding: a message
    // cut there is a valid, shorter message, as the kernel's own nla_parse() reads it (it still
    // has to carry IFLA_IFNAME, the first attribute).
    const ends = new Set<number>();
    for (let off = 32; off < good.length; ) {
      const len = good.readUInt16LE(off);
      const stride = (len + 3) & ~3;
      for (let end = off + len; end <= off + stride; end++) ends.add(end);
      off += stride;
    }
    const firstEnd = Math.min(...ends);
    for (let n = 0; n < good.length; n++) {
      const cut = Buffer.from(good.subarray(0, n));
      if (n >= 4) cut.writeUInt32LE(n, 0); // claim the truncated length, as a short reply would
      const expected = ends.has(n) && n >= firstEnd ? 'ok' : 'error';
      expect(decodeOrError(cut), `truncated to ${n} bytes`).toBe(expected);
    }
  });

  it('rejects an attribute whose length runs past the message', () => {
    const bad = goodMessage();
    bad.writeUInt16LE(0xfff0, 32); // the first attribute (IFLA_IFNAME) after nlmsghdr+ifinfomsg
    expect(decodeOrError(bad)).toBe('error');
  });

  it('rejects an nlmsg_len larger than the buffer', () => {
    const bad = goodMessage();
    bad.writeUInt32LE(bad.length + 64, 0);
    expect(decodeOrError(bad)).toBe('error');
  });

  it('splits datagrams strictly: a short tail, an nlmsg_len below the header, a second message', () => {
    // The engine walks every reply datagram with the same splitter (netlink/message.h).
    const messageOf = (buf: Buffer) => {
      try {
        native.linkDecode(buf);
        return 'decoded';
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ERR_NLKIT_PROTOCOL');
        return (e as Error).message;
      }
    };
    const good = goodMessage();
    expect(messageOf(good)).toBe('decoded');
    expect(messageOf(Buffer.concat([good, Buffer.alloc(4)]))).toMatch(/trailing bytes/u);
    const tiny = Buffer.from(good);
    tiny.writeUInt32LE(8, 0); // shorter than nlmsghdr itself
    expect(messageOf(tiny)).toMatch(/length 8 does not fit/u);
    expect(messageOf(Buffer.concat([good, good]))).toMatch(/exactly one/u);
  });

  it('ignores wrong-sized attribute payloads instead of reading past them', () => {
    const msg = buildMessage(RTM_NEWLINK, ifinfomsg(2, 0), [
      { type: 3, payload: str('x') },
      { type: 4, payload: Buffer.from([1]) }, // MTU with 1 byte instead of 4
      { type: 10, payload: Buffer.alloc(2) }, // master with 2 bytes
    ]);
    const link = native.linkDecode(msg);
    expect(link.name).toBe('x');
    expect(link.master).toBeUndefined();
  });

  it('survives 20,000 random mutations of a good message', () => {
    const good = goodMessage();
    let seed = 0x2545f491;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.from(good);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.3 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
      outcomes[decodeOrError(Buffer.from(cut))] += 1;
    }
    expect(outcomes.ok + outcomes.error).toBe(20_000);
    expect(outcomes.error).toBeGreaterThan(0);
  });
});

describe('notifications of families nlkit does not report', () => {
  const RTM_NEWADDR = 20;
  const ifaddrmsg = (family: number, prefix: number, index: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt8(family, 0);
    b.writeUInt8(prefix, 1);
    b.writeUInt32LE(index, 4);
    return b;
  };

  it('an MCTP address (as an AF_UNSPEC dump or the address group carries it) is skipped, not an error', () => {
    // AF_MCTP (45): IFA_LOCAL is a one-byte endpoint id. Then an IPv4 address in the same datagram.
    const mctp = buildMessage(RTM_NEWADDR, ifaddrmsg(45, 0, 3), [{ type: 2, payload: Buffer.from([8]) }]);
    const ip4 = Buffer.from([10, 85, 0, 1]);
    const inet = buildMessage(RTM_NEWADDR, ifaddrmsg(2, 16, 3), [
      { type: 1, payload: ip4 },
      { type: 2, payload: ip4 },
    ]);
    const events = native.eventsDecode(Buffer.concat([mctp, inet]));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'address', action: 'new', address: { family: 4, address: '10.85.0.1', prefixLength: 16, link: 3 } });
  });
});

describe('route notifications of the multicast-routing families', () => {
  it('an (S,G) forwarding entry (RTNL_FAMILY_IPMR, as a dump for every family carries it) is skipped, not an IPv6 route', () => {
    const RTM_NEWROUTE = 24;
    const rtmsg = (family: number, dstLen: number, type: number) => {
      const b = Buffer.alloc(12);
      b.writeUInt8(family, 0);
      b.writeUInt8(dstLen, 1);
      b.writeUInt8(254, 4); // table main
      b.writeUInt8(3, 5); // protocol boot
      b.writeUInt8(0, 6); // scope universe
      b.writeUInt8(type, 7);
      return b;
    };
    // IPMR (128): RTA_DST 239.1.2.3, RTA_SRC 10.70.0.5, RTA_IIF 2, type multicast (5).
    const mfc = buildMessage(RTM_NEWROUTE, rtmsg(128, 32, 5), [
      { type: 1, payload: Buffer.from([239, 1, 2, 3]) },
      { type: 2, payload: Buffer.from([10, 70, 0, 5]) },
      { type: 3, payload: Buffer.from([2, 0, 0, 0]) },
    ]);
    const ipv4 = buildMessage(RTM_NEWROUTE, rtmsg(2, 16, 1), [
      { type: 1, payload: Buffer.from([10, 85, 0, 0]) },
      { type: 4, payload: Buffer.from([3, 0, 0, 0]) },
    ]);
    const events = native.eventsDecode(Buffer.concat([mfc, ipv4]));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'route', action: 'new', route: { family: 4, to: '10.85.0.0/16', dev: 3 } });
  });
});

describe('watch notifications that do not decode', () => {
  it('a malformed message is an unreadable overrun, and the good one beside it still arrives', () => {
    const bad = goodMessage();
    bad.writeUInt16LE(0xfff0, 32); // IFLA_IFNAME's length runs past the message
    const events = native.eventsDecode(Buffer.concat([bad, goodMessage()]));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: 'overrun', unreadable: expect.stringMatching(/^a message of type 16: /) });
    expect(events[1]).toMatchObject({ type: 'link', action: 'new', link: { index: 5, name: 'br-test' } });
  });

  it('a datagram whose framing is broken is one unreadable overrun, not an error', () => {
    const bad = goodMessage();
    bad.writeUInt32LE(bad.length + 64, 0);
    const events = native.eventsDecode(bad);
    expect(events).toEqual([{ type: 'overrun', unreadable: expect.stringMatching(/^a datagram of \d+ bytes: /) }]);
  });
});
