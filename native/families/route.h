// Routes (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE), IPv4 and IPv6.
#pragma once

#include <optional>
#include <vector>

#include "families/link.h"

namespace nlkit {

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
};

Result<RouteInfo> DecodeRoute(const Message& m);
// RTM_NEWROUTE/RTM_DELROUTE for `spec`, out of device `oif` (0: none).
MessageBuilder EncodeRoute(uint16_t type, uint16_t flags, const RouteSpec& spec, uint32_t oif);
std::string DescribeRoute(const RouteSpec& spec);

enum class RouteWrite { kAdd, kReplace, kDelete };
Status WriteRoute(Namespace& ns, const RouteSpec& spec, RouteWrite how);
// Routes of one table (0: all tables), optionally one family and one output device.
Result<std::vector<RouteInfo>> ListRoutes(Namespace& ns, int family, uint32_t table, const std::optional<LinkRefArg>& dev);
// The route the kernel would use to reach `dst` (RTM_GETROUTE lookup).
Result<RouteInfo> GetRoute(Namespace& ns, const IpAddr& dst);

}  // namespace nlkit
