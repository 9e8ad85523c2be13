// The exact RTM_NEWLINK requests nlkit builds, read back with an independent parser written from
// the uapi headers. This covers the kinds this machine's kernel lacks (dummy, vlan, ipvlan) at
// the byte level, and pins the veth request the container path depends on.
import { describe, expect, it } from 'vitest';
import { toNativeLinkRequest } from '../lib/links';
import { native } from '../lib/native';
import type { CreateLinkSpec } from '../lib/types';
import { attr, cstring, parseAttrs, parseMessage } from './helpers/netlink-parse';

// From <linux/rtnetlink.h>, <linux/netlink.h>, <linux/if_link.h>, <linux/veth.h>.
const RTM_NEWLINK = 16;
const NLM_F = { REQUEST: 0x1, EXCL: 0x200, CREATE: 0x400 };
const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, TXQLEN: 13, LINKINFO: 18, NET_NS_FD: 28 };
const IFLA_INFO = { KIND: 1, DATA: 2 };
const VETH_INFO_PEER = 1;
const IFLA_VLAN = { ID: 1, PROTOCOL: 5 };
const IFLA_IPVLAN = { MODE: 1, FLAGS: 2 };
const IFLA_MACVLAN_MODE = 1;
const IFLA_VXLAN = { ID: 1, GROUP: 2, LINK: 3, LOCAL: 4, TTL: 5, LEARNING: 7, PORT: 15, GROUP6: 16 };
const IFF_UP = 1;

function encode(spec: CreateLinkSpec) {
  const bytes = native.linkEncodeCreate(toNativeLinkRequest(spec));
  const msg = parseMessage(bytes, 16);
  const info = parseAttrs(attr(msg.attrs, IFLA.LINKINFO).payload);
  const dataAttr = info.find((a) => a.type === IFLA_INFO.DATA);
  return { msg, kind: cstring(attr(info, IFLA_INFO.KIND)), data: dataAttr ? parseAttrs(dataAttr.payload) : [] };
}

describe('RTM_NEWLINK encoding', () => {
  it('a create is NEWLINK with REQUEST|CREATE|EXCL, the name, and the kind in IFLA_LINKINFO', () => {
    const { msg, kind } = encode({ kind: 'dummy', name: 'd0', mtu: 1400, mac: '02:00:00:00:00:01', txQueueLen: 7 });
    expect(msg.type).toBe(RTM_NEWLINK);
    expect(msg.flags & (NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL)).toBe(NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL);
    expect(kind).toBe('dummy');
    expect(cstring(attr(msg.attrs, IFLA.IFNAME))).toBe('d0');
    expect(attr(msg.attrs, IFLA.MTU).payload.readUInt32LE(0)).toBe(1400);
    expect(attr(msg.attrs, IFLA.TXQLEN).payload.readUInt32LE(0)).toBe(7);
    expect(attr(msg.attrs, IFLA.ADDRESS).payload).toEqual(Buffer.from([2, 0, 0, 0, 0, 1]));
    expect(attr(msg.attrs, IFLA.LINKINFO).nested).toBe(true);
  });

  it('up and master travel in the creating request (ifi_flags/ifi_change and IFLA_MASTER)', () => {
    const { msg } = encode({ kind: 'bridge', name: 'b', up: true, master: 7 });
    expect(msg.header.readUInt32LE(8)).toBe(IFF_UP); // ifi_flags
    expect(msg.header.readUInt32LE(12)).toBe(IFF_UP); // ifi_change
    expect(attr(msg.attrs, IFLA.MASTER).payload.readUInt32LE(0)).toBe(7);
  });

  it('vlan: parent in IFLA_LINK, id (u16) and protocol (be16) in IFLA_INFO_DATA', () => {
    const { kind, msg, data } = encode({ kind: 'vlan', name: 'eth0.10', parent: 3, id: 10, protocol: '802.1ad' });
    expect(kind).toBe('vlan');
    expect(attr(msg.attrs, IFLA.LINK).payload.readUInt32LE(0)).toBe(3);
    expect(attr(data, IFLA_VLAN.ID).payload.readUInt16LE(0)).toBe(10);
    expect(attr(data, IFLA_VLAN.PROTOCOL).payload.readUInt16BE(0)).toBe(0x88a8);
  });

  it('ipvlan: mode and flags (u16)', () => {
    const { data } = encode({ kind: 'ipvlan', name: 'ipv0', parent: 3, mode: 'l3s', flag: 'vepa' });
    expect(attr(data, IFLA_IPVLAN.MODE).payload.readUInt16LE(0)).toBe(2);
    expect(attr(data, IFLA_IPVLAN.FLAGS).payload.readUInt16LE(0)).toBe(2);
  });

  it('macvlan: mode (u32 bit)', () => {
    const { data } = encode({ kind: 'macvlan', name: 'mv0', parent: 3, mode: 'passthru' });
    expect(attr(data, IFLA_MACVLAN_MODE).payload.readUInt32LE(0)).toBe(8);
  });

  it('vxlan: VNI, remote in GROUP, local, device, ttl, learning, port in network order', () => {
    const { data } = encode({ kind: 'vxlan', name: 'vx0', vni: 0xabcdef, local: '10.0.0.1', remote: '10.0.0.2', device: 4, ttl: 9, learning: false, port: 4789 });
    expect(attr(data, IFLA_VXLAN.ID).payload.readUInt32LE(0)).toBe(0xabcdef);
    expect([...attr(data, IFLA_VXLAN.GROUP).payload]).toEqual([10, 0, 0, 2]);
    expect([...attr(data, IFLA_VXLAN.LOCAL).payload]).toEqual([10, 0, 0, 1]);
    expect(attr(data, IFLA_VXLAN.LINK).payload.readUInt32LE(0)).toBe(4);
    expect(attr(data, IFLA_VXLAN.TTL).payload[0]).toBe(9);
    expect(attr(data, IFLA_VXLAN.LEARNING).payload[0]).toBe(0);
    expect(attr(data, IFLA_VXLAN.PORT).payload.readUInt16BE(0)).toBe(4789);
  });

  it('vxlan over IPv6 uses GROUP6', () => {
    const { data } = encode({ kind: 'vxlan', name: 'vx6', vni: 1, group: 'ff05::100' });
    expect(attr(data, IFLA_VXLAN.GROUP6).payload.length).toBe(16);
  });

  it('veth: the peer nest carries its own ifinfomsg (never IFF_UP), name, MAC and MTU', () => {
    const { data } = encode({ kind: 'veth', name: 'h0', up: true, peer: { name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1450 } });
    const peer = attr(data, VETH_INFO_PEER).payload;
    expect(peer.readUInt32LE(8)).toBe(0); // peer ifi_flags: the kernel refuses IFF_UP here (ENOTCONN)
    expect(peer.readUInt32LE(12)).toBe(0);
    const peerAttrs = parseAttrs(peer.subarray(16));
    expect(cstring(attr(peerAttrs, IFLA.IFNAME))).toBe('eth0');
    expect(attr(peerAttrs, IFLA.ADDRESS).payload).toEqual(Buffer.from([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]));
    expect(attr(peerAttrs, IFLA.MTU).payload.readUInt32LE(0)).toBe(1450);
    expect(peerAttrs.some((a) => a.type === IFLA.NET_NS_FD)).toBe(false);
  });
});
