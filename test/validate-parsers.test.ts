// The hand-written parsers in lib/validate.ts (IPv4 text, CIDR prefix lengths, interface names)
// exist because they are cheaper than a regex on a cold path. They must accept and refuse exactly
// what the general definitions do: node:net's isIP (less IPv6 zones), the prefix-length rule, and
// the kernel's dev_valid_name. Checked over the edge cases and a seeded sweep of generated strings (fast-check samples).
import fc from 'fast-check';
import { BlockList, isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/errors';
import * as check from '../lib/validate';

/** `count` strings of up to `maxLength` characters from `alphabet`, the same for the same seed. */
function strings(alphabet: string, count: number, maxLength: number, seed: number): string[] {
  const char = fc.constantFrom(...alphabet);
  return fc.sample(fc.array(char, { maxLength }).map((cs) => cs.join('')), { numRuns: count, seed });
}

function accepts(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return false;
  }
}

// The general definitions the fast paths must agree with.
/** isIP, less IPv6 zones ('fe80::1%eth0'): no address attribute carries one. */
function referenceIp(v: string): 0 | 4 | 6 {
  return v.includes('%') ? 0 : (isIP(v) as 0 | 4 | 6);
}

function referenceCidr(v: string): string | undefined {
  const slash = v.indexOf('/');
  const address = slash < 0 ? v : v.slice(0, slash);
  const family = referenceIp(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return `${address}|${max}|${family}`;
  const len = v.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/u.test(len) || Number(len) > max) return undefined;
  return `${address}|${Number(len)}|${family}`;
}

/** The kernel's rule (dev_valid_name, and '%' as a template), byte by byte, written plainly. */
function referenceIfname(v: string): boolean {
  const bytes = [...Buffer.from(v, 'utf8')];
  const kernelSpace = (b: number) => (b >= 9 && b <= 13) || b === 32 || b === 0xa0; // lib/ctype.c
  return (
    bytes.length > 0 && bytes.length < 16 && v !== '.' && v !== '..' &&
    !bytes.some((b) => b === 0 || b === 0x2f || b === 0x3a || b === 0x25 || kernelSpace(b))
  );
}

const EDGE_ADDRESSES = [
  '1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3.04', '00.0.0.0', '1.2.3',
  '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2.3.4.5', '', '.', '1.2.3.a', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.999',
  '1.2.3.1000', '::1', '::', 'fe80::1', '::ffff:1.2.3.4', 'fd00::1:2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9',
  '١.٢.٣.٤', // Arabic-Indic digits: not ASCII digits
  'fe80::1%eth0', 'fe80::1%1', '::1%', '1.2.3.4%eth0', // zones
];
const SUFFIXES = ['', '/0', '/8', '/16', '/32', '/33', '/64', '/128', '/129', '/01', '/', '/1a', '/999', '/-1', '/ 1', '/1/2'];

describe('IPv4 and CIDR parsing agree with node:net', () => {
  const generated = [
    ...strings('0123456789.', 4000, 16, 1),
    ...strings('0123456789.:/af ', 4000, 16, 2),
    ...fc.sample(fc.tuple(fc.nat(299), fc.nat(299), fc.nat(299), fc.nat(299)).map((q) => q.join('.')), { numRuns: 2000, seed: 3 }),
  ];

  it('accepts exactly the addresses isIP accepts, less IPv6 zones', () => {
    for (const v of [...EDGE_ADDRESSES, ...generated]) {
      expect({ v, ok: accepts(() => check.ipAddress(v, 'a')) }).toEqual({ v, ok: referenceIp(v) !== 0 });
    }
  });

  it('parses a CIDR exactly as the general rule does, prefix length included', () => {
    for (const base of [...EDGE_ADDRESSES, ...generated.slice(0, 3000)]) {
      for (const suffix of SUFFIXES) {
        const v = base + suffix;
        let got: string | undefined;
        try {
          const c = check.cidr(v, 'a');
          got = `${c.address}|${c.prefixLength}|${c.family}`;
        } catch {
          got = undefined;
        }
        expect({ v, got }).toEqual({ v, got: referenceCidr(v) });
      }
    }
  });

  it('finds gateways in and out of IPv4 subnets by the same arithmetic', () => {
    const c = check.cidr('10.88.7.9/21', 'a');
    expect(check.inSubnet('10.88.0.1', c)).toBe(true);
    expect(check.inSubnet('10.88.7.255', c)).toBe(true);
    expect(check.inSubnet('10.88.8.0', c)).toBe(false);
    expect(check.inSubnet('10.89.0.1', c)).toBe(false);
    expect(check.inSubnet('9.88.0.1', check.cidr('10.0.0.0/8', 'a'))).toBe(false);
    expect(check.inSubnet('250.1.2.3', check.cidr('0.0.0.0/0', 'a'))).toBe(true);
  });

  it('agrees with node:net BlockList on random IPv4 subnets, every prefix length', () => {
    let seed = 7;
    const byte = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 8) & 255;
    const quad = () => `${byte()}.${byte()}.${byte()}.${byte()}`;
    for (let i = 0; i < 20000; i++) {
      const net = quad();
      const prefix = i % 33;
      // Half the candidates share the subnet's leading bytes, so both answers come up often.
      const ip = i % 2 ? quad() : `${net.split('.').slice(0, 3).join('.')}.${byte()}`;
      const list = new BlockList();
      list.addSubnet(net, prefix, 'ipv4');
      expect({ ip, net, prefix, in: check.inSubnet(ip, check.cidr(`${net}/${prefix}`, 'a')) }).toEqual({ ip, net, prefix, in: list.check(ip, 'ipv4') });
    }
  });
});

describe('interface names agree with the kernel rule', () => {
  it('accepts exactly what dev_valid_name accepts', () => {
    const names = [
      'eth0', 'a', '.', '..', '...', 'a.b', 'a/b', 'a:b', 'a b', 'a\tb', 'a\u00a0b', 'a\u2003b', 'é', 'ééééééé', 'éééééééé',
      '0123456789abcde', '0123456789abcdef', '', 'a\0', 'a\x01b', 'veth-_.x', 'veth%d', '%', 'vethà', 'a\u0085', '\ufeff',
      ...strings('ab0\t\n\v\f\r \u00a0\u2000\u0820éà%/:.\0\x01-_', 20000, 18, 4),
    ];
    for (const v of names) {
      expect({ v, ok: accepts(() => check.ifname(v, 'a')) }).toEqual({ v, ok: referenceIfname(v) });
    }
  });
});
