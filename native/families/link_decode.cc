// Decoding RTM_NEWLINK messages into LinkInfo. Every attribute is optional and size-checked; an
// attribute area that does not parse is a Protocol error, never an out-of-bounds read.
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "families/link.h"

namespace nlkit {

namespace {

void DecodeBridgePort(Bytes area, LinkInfo& info) {
  AttrTable<IFLA_BRPORT_MAX + 1> t;
  if (!ParseAttrs(area, t)) return;
  LinkInfo::BridgePort p;
  p.hairpin = AttrU8(t[IFLA_BRPORT_MODE]).value_or(0) != 0;
  p.isolated = AttrU8(t[IFLA_BRPORT_ISOLATED]).value_or(0) != 0;
  p.learning = AttrU8(t[IFLA_BRPORT_LEARNING]).value_or(0) != 0;
  info.bridge_port = p;
}

void DecodeBridge(Bytes area, LinkInfo& info) {
  AttrTable<IFLA_BR_MAX + 1> t;
  if (!ParseAttrs(area, t)) return;
  LinkInfo::Bridge b;
  b.stp = AttrU32(t[IFLA_BR_STP_STATE]).value_or(0) != 0;
  b.vlan_filtering = AttrU8(t[IFLA_BR_VLAN_FILTERING]).value_or(0) != 0;
  b.forward_delay = AttrU32(t[IFLA_BR_FORWARD_DELAY]);
  b.ageing_time = AttrU32(t[IFLA_BR_AGEING_TIME]);
  info.bridge = b;
}

std::optional<IpAddr> ReadAddr(const std::optional<Bytes>& v4, const std::optional<Bytes>& v6) {
  IpAddr a;
  if (v4 && v4->size() == 4) {
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), v4->data(), 4);
    if (a.bytes[0] || a.bytes[1] || a.bytes[2] || a.bytes[3]) return a;
  }
  if (v6 && v6->size() == 16) {
    a.family = AF_INET6;
    std::memcpy(a.bytes.data(), v6->data(), 16);
    for (uint8_t b : a.bytes) {
      if (b) return a;
    }
  }
  return std::nullopt;
}

void DecodeVxlan(Bytes area, LinkInfo& info) {
  AttrTable<IFLA_VXLAN_MAX + 1> t;
  if (!ParseAttrs(area, t)) return;
  LinkInfo::Vxlan v;
  v.vni = AttrU32(t[IFLA_VXLAN_ID]).value_or(0);
  v.local = ReadAddr(t[IFLA_VXLAN_LOCAL], t[IFLA_VXLAN_LOCAL6]);
  // The kernel keeps one "group" address: a multicast group, or the unicast remote.
  if (auto g = ReadAddr(t[IFLA_VXLAN_GROUP], t[IFLA_VXLAN_GROUP6])) {
    (g->IsMulticast() ? v.group : v.remote) = g;
  }
  v.port = AttrBe16(t[IFLA_VXLAN_PORT]);
  if (auto dev = AttrU32(t[IFLA_VXLAN_LINK]); dev && *dev) v.device = dev;
  v.ttl = AttrU8(t[IFLA_VXLAN_TTL]);
  if (auto l = AttrU8(t[IFLA_VXLAN_LEARNING])) v.learning = *l != 0;
  info.vxlan = v;
}

void DecodeKindData(Bytes area, LinkInfo& info) {
  if (info.kind == "bridge") return DecodeBridge(area, info);
  if (info.kind == "vxlan") return DecodeVxlan(area, info);
  if (info.kind == "vlan") {
    AttrTable<IFLA_VLAN_MAX + 1> t;
    if (!ParseAttrs(area, t)) return;
    info.vlan_id = AttrU16(t[IFLA_VLAN_ID]);
    info.vlan_protocol = AttrBe16(t[IFLA_VLAN_PROTOCOL]);
  } else if (info.kind == "macvlan" || info.kind == "macvtap") {
    AttrTable<IFLA_MACVLAN_MAX + 1> t;
    if (!ParseAttrs(area, t)) return;
    info.macvlan_mode = AttrU32(t[IFLA_MACVLAN_MODE]);
  } else if (info.kind == "ipvlan" || info.kind == "ipvtap") {
    AttrTable<IFLA_IPVLAN_MAX + 1> t;
    if (!ParseAttrs(area, t)) return;
    info.ipvlan_mode = AttrU16(t[IFLA_IPVLAN_MODE]);
    info.ipvlan_flags = AttrU16(t[IFLA_IPVLAN_FLAGS]);
  }
}

void DecodeLinkInfo(Bytes area, LinkInfo& info) {
  AttrTable<IFLA_INFO_MAX + 1> t;
  if (!ParseAttrs(area, t)) return;
  info.kind = AttrString(t[IFLA_INFO_KIND]).value_or("");
  info.slave_kind = AttrString(t[IFLA_INFO_SLAVE_KIND]).value_or("");
  if (t[IFLA_INFO_DATA]) DecodeKindData(*t[IFLA_INFO_DATA], info);
  if (info.slave_kind == "bridge" && t[IFLA_INFO_SLAVE_DATA]) DecodeBridgePort(*t[IFLA_INFO_SLAVE_DATA], info);
}

// Kinds whose driver has no ndo_get_iflink (so their IFLA_LINK is never a lower device); an
// empty kind is a physical device or lo.
bool HasNoLowerLink(const std::string& kind) {
  static const char* const kinds[] = {"", "bridge", "vxlan", "dummy", "bond", "team", "geneve", "wireguard", "tun", "ifb", "vrf"};
  for (const char* k : kinds) {
    if (kind == k) return true;
  }
  return false;
}

}  // namespace

Result<LinkInfo> DecodeLink(const Message& m) {
  auto h = ReadStruct<ifinfomsg>(m.payload);
  if (!h) return Error::Protocol("truncated ifinfomsg in RTM_NEWLINK");
  LinkInfo info;
  info.index = h->ifi_index;
  info.flags = h->ifi_flags;
  info.type = h->ifi_type;

  AttrTable<IFLA_MAX + 1> t;
  if (!ParseAttrs(m.payload.subspan(NLMSG_ALIGN(sizeof(ifinfomsg))), t)) {
    return Error::Protocol("malformed attributes in RTM_NEWLINK");
  }
  auto name = AttrString(t[IFLA_IFNAME]);
  if (!name) return Error::Protocol("RTM_NEWLINK without IFLA_IFNAME");
  info.name = *name;
  if (t[IFLA_ADDRESS] && !t[IFLA_ADDRESS]->empty() && t[IFLA_ADDRESS]->size() <= 32) {
    info.address.emplace(t[IFLA_ADDRESS]->begin(), t[IFLA_ADDRESS]->end());
  }
  info.mtu = AttrU32(t[IFLA_MTU]).value_or(0);
  info.min_mtu = AttrU32(t[IFLA_MIN_MTU]);
  info.max_mtu = AttrU32(t[IFLA_MAX_MTU]);
  info.txqlen = AttrU32(t[IFLA_TXQLEN]);
  info.master = AttrU32(t[IFLA_MASTER]);
  info.link = AttrU32(t[IFLA_LINK]);
  info.link_netnsid = AttrS32(t[IFLA_LINK_NETNSID]);
  if (auto alias = AttrString(t[IFLA_IFALIAS]); alias && !alias->empty()) info.alias = alias;
  info.operstate = AttrU8(t[IFLA_OPERSTATE]).value_or(0);
  if (t[IFLA_LINKINFO]) DecodeLinkInfo(*t[IFLA_LINKINFO], info);
  // The kernel sends IFLA_LINK whenever the link's other namespace differs from its own, even for
  // a kind with no lower device, and then the value is the link's own ifindex: a vxlan moved into
  // another namespace reads "link 4, linkNetnsId 0", and ifindex 4 over there is some unrelated
  // device. Dropped for the kinds known to have no lower link (veth's peer may well have the same
  // ifindex as its own end, so this is by kind, not by value).
  if (info.link && static_cast<int64_t>(*info.link) == info.index && HasNoLowerLink(info.kind)) info.link.reset();
  return info;
}

Result<LinkInfo> LinkReply(const RequestOutcome& outcome, const std::string& link) {
  auto m = ReplyOf(outcome, RTM_NEWLINK, "RTM_GETLINK for " + link);
  if (!m) return std::move(m.error());
  return DecodeLink(*m);
}

Result<LinkInfo> DecodeLink(Bytes whole_message) {
  auto messages = SplitMessages(whole_message);
  if (!messages) return std::move(messages.error());
  if (messages->size() != 1) return Error::Protocol("expected exactly one RTM_NEWLINK");
  return DecodeLink((*messages)[0]);
}

}  // namespace nlkit
