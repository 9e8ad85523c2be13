#include "families/route.h"

#include <errno.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cstring>

#include "netlink/engine.h"

namespace nlkit {

std::string DescribeRoute(const RouteSpec& s) {
  const auto dev = [](const LinkRefArg& d) { return " dev " + (d.index > 0 ? "#" + std::to_string(d.index) : d.name); };
  std::string to = s.dst ? s.dst->ToString() + "/" + std::to_string(s.dst_len) : "default";
  if (s.gateway) to += " via " + s.gateway->ToString();
  if (s.dev) to += dev(*s.dev);
  if (s.table != RT_TABLE_MAIN) to += " table " + std::to_string(s.table);
  for (const NextHopSpec& hop : s.nexthops) {
    to += " nexthop";
    if (hop.gateway) to += " via " + hop.gateway->ToString();
    if (hop.dev) to += dev(*hop.dev);
  }
  return "route " + to;
}

namespace {

// ip(8)'s scope rule: local and nat routes are host; broadcast, multicast and anycast are link
// (IPv4 refuses broadcast and anycast routes of a wider scope: "Invalid scope"); a unicast route
// through a gateway is universe, a direct one (device only) link. The other types (blackhole...)
// are universe. IPv6 ignores the scope.
uint8_t DefaultScope(const RouteSpec& s, uint32_t oif) {
  const uint8_t type = s.type.value_or(RTN_UNICAST);
  if (type == RTN_LOCAL || type == RTN_NAT) return RT_SCOPE_HOST;
  if (type == RTN_BROADCAST || type == RTN_MULTICAST || type == RTN_ANYCAST) return RT_SCOPE_LINK;
  if (type == RTN_UNICAST && !s.gateway && (s.dev || oif != 0)) return RT_SCOPE_LINK;
  return RT_SCOPE_UNIVERSE;
}

// RTA_VIA: a struct rtvia, the gateway's own family then its address.
std::optional<IpAddr> ViaOf(const std::optional<Bytes>& a) {
  if (!a || a->size() < sizeof(rtvia)) return std::nullopt;
  uint16_t family = 0;
  std::memcpy(&family, a->data(), sizeof(family));
  return IpAddr::FromBytes(family, a->subspan(sizeof(rtvia)));
}

// RTA_MULTIPATH: struct rtnexthop entries, each followed by its own attributes within rtnh_len.
// False when an entry's length does not fit.
bool DecodeNextHops(Bytes area, int family, std::vector<NextHopInfo>& out) {
  while (area.size() >= sizeof(rtnexthop)) {
    auto nh = ReadStruct<rtnexthop>(area);
    if (nh->rtnh_len < sizeof(rtnexthop) || nh->rtnh_len > area.size()) return false;
    AttrTable<RTA_MAX + 1> t;
    if (!ParseAttrs(area.subspan(RTNH_ALIGN(sizeof(rtnexthop)), nh->rtnh_len - RTNH_ALIGN(sizeof(rtnexthop))), t)) return false;
    NextHopInfo hop;
    hop.gateway = t[RTA_GATEWAY] ? IpAddr::FromBytes(family, t[RTA_GATEWAY]) : ViaOf(t[RTA_VIA]);
    hop.oif = static_cast<uint32_t>(nh->rtnh_ifindex);
    hop.weight = static_cast<uint16_t>(nh->rtnh_hops + 1);
    hop.flags = nh->rtnh_flags;
    out.push_back(hop);
    area = area.subspan(std::min<size_t>(RTNH_ALIGN(nh->rtnh_len), area.size()));
  }
  return area.empty();
}

}  // namespace

bool RouteInfo::Uses(uint32_t ifindex) const {
  if (oif == ifindex) return true;
  for (const NextHopInfo& hop : nexthops) {
    if (hop.oif == ifindex) return true;
  }
  return false;
}

MessageBuilder EncodeRoute(uint16_t type, uint16_t flags, const RouteSpec& s, uint32_t oif,
                           std::span<const uint32_t> hop_oifs) {
  MessageBuilder m(type, flags);
  rtmsg h{};
  h.rtm_family = static_cast<uint8_t>(s.family);
  h.rtm_dst_len = s.dst ? s.dst_len : 0;
  h.rtm_table = s.table < 256 ? static_cast<uint8_t>(s.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  h.rtm_protocol = static_cast<uint8_t>(type == RTM_DELROUTE ? RTPROT_UNSPEC : RTPROT_BOOT);
  // A delete matches the scope given, and any scope (RT_SCOPE_NOWHERE, the kernel's wildcard) when
  // none is: the default for an add would narrow a delete by `to` alone.
  h.rtm_scope = s.scope ? *s.scope : type == RTM_DELROUTE ? static_cast<uint8_t>(RT_SCOPE_NOWHERE) : DefaultScope(s, oif);
  h.rtm_type = s.type.value_or(type == RTM_DELROUTE ? RTN_UNSPEC : RTN_UNICAST);
  if (s.onlink) h.rtm_flags |= RTNH_F_ONLINK;
  m.PutHeader(h);
  m.PutU32(RTA_TABLE, s.table);
  if (s.dst) PutIp(m, RTA_DST, *s.dst);
  if (s.gateway) PutIp(m, RTA_GATEWAY, *s.gateway);
  if (oif) m.PutU32(RTA_OIF, oif);
  if (s.prefsrc) PutIp(m, RTA_PREFSRC, *s.prefsrc);
  if (s.metric) m.PutU32(RTA_PRIORITY, *s.metric);
  if (s.mtu) {
    const size_t metrics = m.BeginNest(RTA_METRICS);
    m.PutU32(RTAX_MTU, *s.mtu);
    m.EndNest(metrics);
  }
  if (!s.nexthops.empty()) {
    // RTA_MULTIPATH is not a nest of attributes but a run of rtnexthop headers, each followed by
    // its own attributes; the kernel parses it without NLA_F_NESTED, as ip(8) sends it. Both an
    // nlattr and an rtnexthop begin with their 16-bit length, so EndNest patches either.
    const size_t multipath = m.size();
    m.PutAttr(RTA_MULTIPATH, nullptr, 0);
    for (size_t i = 0; i < s.nexthops.size(); ++i) {
      const NextHopSpec& hop = s.nexthops[i];
      const size_t entry = m.size();
      rtnexthop nh{};
      nh.rtnh_flags = hop.onlink ? RTNH_F_ONLINK : 0;
      nh.rtnh_hops = static_cast<uint8_t>(hop.weight - 1);
      nh.rtnh_ifindex = static_cast<int>(i < hop_oifs.size() ? hop_oifs[i] : 0);
      m.PutRaw(nh);
      if (hop.gateway) PutIp(m, RTA_GATEWAY, *hop.gateway);
      m.EndNest(entry);
    }
    m.EndNest(multipath);
  }
  return m;
}

Result<RouteInfo> DecodeRoute(const Message& m) {
  auto h = ReadStruct<rtmsg>(m.payload);
  if (!h) return Error::Protocol("truncated rtmsg in RTM_NEWROUTE");
  AttrTable<RTA_MAX + 1> t;
  if (!ParseAttrs(m.payload.subspan(NLMSG_ALIGN(sizeof(rtmsg))), t)) {
    return Error::Protocol("malformed attributes in RTM_NEWROUTE");
  }
  RouteInfo r;
  r.family = h->rtm_family;
  r.dst_len = h->rtm_dst_len;
  r.dst = IpAddr::FromBytes(r.family, t[RTA_DST]);
  r.gateway = t[RTA_GATEWAY] ? IpAddr::FromBytes(r.family, t[RTA_GATEWAY]) : ViaOf(t[RTA_VIA]);
  r.prefsrc = IpAddr::FromBytes(r.family, t[RTA_PREFSRC]);
  r.oif = AttrU32(t[RTA_OIF]);
  r.metric = AttrU32(t[RTA_PRIORITY]);
  r.table = AttrU32(t[RTA_TABLE]).value_or(h->rtm_table);
  r.scope = h->rtm_scope;
  r.type = h->rtm_type;
  r.protocol = h->rtm_protocol;
  r.flags = h->rtm_flags;
  if (t[RTA_METRICS]) {
    AttrTable<RTAX_MAX + 1> mt;
    if (ParseAttrs(*t[RTA_METRICS], mt)) r.mtu = AttrU32(mt[RTAX_MTU]);
  }
  if (t[RTA_MULTIPATH] && !DecodeNextHops(*t[RTA_MULTIPATH], r.family, r.nexthops)) {
    return Error::Protocol("malformed RTA_MULTIPATH in RTM_NEWROUTE");
  }
  return r;
}

Status WriteRoute(Namespace& ns, const RouteSpec& s, RouteWrite how) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  // The route's device first, then each path's.
  std::vector<const LinkRefArg*> refs{s.dev ? &*s.dev : nullptr};
  for (const NextHopSpec& hop : s.nexthops) refs.push_back(hop.dev ? &*hop.dev : nullptr);
  auto idx = ResolveIndexes(**sock, refs);
  if (!idx) return std::move(idx.error());
  uint16_t type = RTM_NEWROUTE;
  uint16_t flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  const char* op = "addRoute";
  if (how == RouteWrite::kReplace) {
    flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
    op = "replaceRoute";
  } else if (how == RouteWrite::kDelete) {
    type = RTM_DELROUTE;
    flags = NLM_F_REQUEST;
    op = "deleteRoute";
  }
  auto out = TransactOne(**sock, EncodeRoute(type, flags, s, (*idx)[0], std::span<const uint32_t>(*idx).subspan(1)));
  if (!out) return std::move(out.error().In(op, DescribeRoute(s)));
  return OkStatus();
}

Result<std::vector<RouteInfo>> ListRoutes(Namespace& ns, int family, uint32_t table, const std::optional<LinkRefArg>& dev) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto oif = ResolveOptional(**sock, dev);
  if (!oif) return std::move(oif.error());
  MessageBuilder req(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  rtmsg h{};
  h.rtm_family = static_cast<uint8_t>(family);
  h.rtm_table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  req.PutHeader(h);
  // With strict dump checking the kernel filters by table and output device itself; the check
  // below is for kernels without it. A multipath route passes when any of its paths uses the
  // device (as the kernel's own filter does): it has no top-level RTA_OIF.
  if (table) req.PutU32(RTA_TABLE, table);
  if (*oif) req.PutU32(RTA_OIF, *oif);
  const uint32_t want_oif = *oif;
  auto out = DumpAll<RouteInfo>(**sock, req, RTM_NEWROUTE, DecodeRoute, [table, want_oif](const RouteInfo& r) {
    return r.IsIp() && (table == 0 || r.table == table) &&
           (want_oif == 0 || r.Uses(want_oif));
  });
  if (!out) {
    // A family's table that the kernel has not created yet: no routes, not an error.
    if (out.error().kind == ErrorKind::kNetlink && out.error().errnum == ENOENT) return std::vector<RouteInfo>{};
    return std::move(out.error().In("listRoutes", "routes"));
  }
  return out;
}

Result<RouteInfo> GetRoute(Namespace& ns, const IpAddr& dst) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  MessageBuilder req(RTM_GETROUTE, NLM_F_REQUEST);
  rtmsg h{};
  h.rtm_family = static_cast<uint8_t>(dst.family);
  h.rtm_dst_len = static_cast<uint8_t>(dst.size() * 8);
  req.PutHeader(h);
  PutIp(req, RTA_DST, dst);
  auto out = TransactOne(**sock, std::move(req));
  if (!out) return std::move(out.error().In("getRoute", "route to " + dst.ToString()));
  auto reply = ReplyOf(*out, RTM_NEWROUTE, "RTM_GETROUTE for " + dst.ToString());
  if (!reply) return std::move(reply.error());
  return DecodeRoute(*reply);
}

}  // namespace nlkit
