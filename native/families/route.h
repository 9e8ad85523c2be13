// Routes (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE), IPv4 and IPv6.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "families/link.h"

namespace nlkit {

// One path of a multipath route to create.
struct NextHopSpec {
  std::optional<IpAddr> gateway;
  std::optional<LinkRefArg> dev;
  uint16_t weight = 1;  // 1..256; goes on the wire as rtnh_hops = weight - 1
  bool onlink = false;
};

struct RouteSpec {
  int family = 0;
  std::optional<IpAddr> dst;  // absent: default route
  uint8_t dst_len = 0;
  std::optional<IpAddr> gateway;
  std::optional<LinkRefArg> dev;
  std::optional<IpAddr> prefsrc;
  std::optional<uint32_t> metric;
  uint32_t table = 254;  // RT_TABLE_MAIN
  std::optional<uint8_t> scope;
  bool onlink = false;
  std::optional<uint32_t> mtu;
  // The caller's type; unicast when not given. A delete without one sends RTN_UNSPEC, as `ip route
  // del` does: IPv4 matches a route's type only when one is given, so a blackhole, unreachable,
  // prohibit or local route would otherwise be ESRCH to a delete by `to` alone.
  std::optional<uint8_t> type;
  // A multipath route: its paths, in RTA_MULTIPATH, instead of `gateway` and `dev`.
  std::vector<NextHopSpec> nexthops;
};

// One path of a multipath route (an entry of RTA_MULTIPATH).
struct NextHopInfo {
  std::optional<IpAddr> gateway;  // RTA_GATEWAY, or RTA_VIA (an IPv4 route through an IPv6 gateway)
  uint32_t oif = 0;
  uint16_t weight = 1;  // rtnh_hops + 1, as `ip route` shows it
  uint8_t flags = 0;    // RTNH_F_*
};

struct RouteInfo {
  int family = 0;
  std::optional<IpAddr> dst;
  uint8_t dst_len = 0;
  std::optional<IpAddr> gateway, prefsrc;
  std::optional<uint32_t> oif, metric, mtu;
  uint32_t table = 0;
  uint8_t scope = 0, type = 0, protocol = 0;
  uint32_t flags = 0;
  // A multipath route has these instead of a top-level gateway and device.
  std::vector<NextHopInfo> nexthops;
  // Whether the route leaves through `ifindex`, on its own or on any of its paths.
  // IPv4 or IPv6: a dump for every family also carries the multicast-routing families'
  // (RTNL_FAMILY_IPMR/IP6MR) (S,G) forwarding entries, which are not routes a Route describes.
  bool IsIp() const { return family == AF_INET || family == AF_INET6; }
  bool Uses(uint32_t ifindex) const;
};

Result<RouteInfo> DecodeRoute(const Message& m);
// RTM_NEWROUTE/RTM_DELROUTE for `spec`, out of device `oif` (0: none); `hop_oifs[i]` is the
// device of `spec.nexthops[i]` (0: none).
MessageBuilder EncodeRoute(uint16_t type, uint16_t flags, const RouteSpec& spec, uint32_t oif,
                           std::span<const uint32_t> hop_oifs = {});
std::string DescribeRoute(const RouteSpec& spec);

enum class RouteWrite { kAdd, kReplace, kDelete };
Status WriteRoute(Namespace& ns, const RouteSpec& spec, RouteWrite how);
// Routes of one table (0: all tables), optionally one family and one output device.
Result<std::vector<RouteInfo>> ListRoutes(Namespace& ns, int family, uint32_t table, const std::optional<LinkRefArg>& dev);
// The route the kernel would use to reach `dst` (RTM_GETROUTE lookup).
Result<RouteInfo> GetRoute(Namespace& ns, const IpAddr& dst);

}  // namespace nlkit
