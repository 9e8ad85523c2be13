#include "families/route.h"

#include <errno.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "netlink/engine.h"

namespace nlkit {

std::string DescribeRoute(const RouteSpec& s) {
  std::string to = s.dst ? s.dst->ToString() + "/" + std::to_string(s.dst_len) : "default";
  if (s.gateway) to += " via " + s.gateway->ToString();
  if (s.dev) to += " dev " + (s.dev->index > 0 ? "#" + std::to_string(s.dev->index) : s.dev->name);
  return "route " + to;
}

namespace {

// ip(8)'s scope rule: a route through a gateway is universe; a direct one (device only) is link;
// local routes are host. Non-unicast types (blackhole...) are universe.
uint8_t DefaultScope(const RouteSpec& s, uint32_t oif) {
  const uint8_t type = s.type.value_or(RTN_UNICAST);
  if (type == RTN_LOCAL) return RT_SCOPE_HOST;
  if (type == RTN_UNICAST && !s.gateway && (s.dev || oif != 0)) return RT_SCOPE_LINK;
  return RT_SCOPE_UNIVERSE;
}

}  // namespace

MessageBuilder EncodeRoute(uint16_t type, uint16_t flags, const RouteSpec& s, uint32_t oif) {
  MessageBuilder m(type, flags);
  rtmsg h{};
  h.rtm_family = static_cast<uint8_t>(s.family);
  h.rtm_dst_len = s.dst ? s.dst_len : 0;
  h.rtm_table = s.table < 256 ? static_cast<uint8_t>(s.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  h.rtm_protocol = static_cast<uint8_t>(type == RTM_DELROUTE ? RTPROT_UNSPEC : RTPROT_BOOT);
  h.rtm_scope = type == RTM_DELROUTE ? static_cast<uint8_t>(RT_SCOPE_NOWHERE) : s.scope.value_or(DefaultScope(s, oif));
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
  r.gateway = IpAddr::FromBytes(r.family, t[RTA_GATEWAY]);
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
  return r;
}

Status WriteRoute(Namespace& ns, const RouteSpec& s, RouteWrite how) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto idx = ResolveIndexes(**sock, {s.dev ? &*s.dev : nullptr});
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
  auto out = TransactOne(**sock, EncodeRoute(type, flags, s, (*idx)[0]));
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
  // With strict dump checking the kernel filters by table and output device itself.
  if (table) req.PutU32(RTA_TABLE, table);
  if (*oif) req.PutU32(RTA_OIF, *oif);
  const uint32_t want_oif = *oif;
  auto out = DumpAll<RouteInfo>(**sock, req, RTM_NEWROUTE, DecodeRoute, [table, want_oif](const RouteInfo& r) {
    return (table == 0 || r.table == table) && (want_oif == 0 || r.oif == want_oif);
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
