// rtnetlink notifications: a socket subscribed to the kernel's multicast groups for links,
// addresses, routes and neighbours in one namespace, and the decoding of what it receives (by the
// same decoders the dumps use). Reading is the caller's: the addon polls the socket from the
// event loop (addon/watch_binding.cc), so no thread waits on it.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "core/fd.h"
#include "families/address.h"
#include "families/link.h"
#include "families/neighbor.h"
#include "families/route.h"
#include "netns/namespace.h"

namespace nlkit {

// Which notifications a watch receives (a bit set); each maps to the IPv4 and IPv6 groups.
enum EventGroup : uint32_t {
  kLinkEvents = 1,
  kAddressEvents = 2,
  kRouteEvents = 4,
  kNeighborEvents = 8,
};

// Opens a non-blocking NETLINK_ROUTE socket inside `ns`, subscribed to `groups`. A receive
// buffer size, when given, replaces the kernel default (small ones make overruns easy to see).
Result<UniqueFd> OpenEventSocket(const Namespace& ns, uint32_t groups, std::optional<int> receive_buffer);

struct Event {
  bool removed = false;  // RTM_DEL*: the object is gone; else it is new or changed
  std::variant<LinkInfo, AddressInfo, RouteInfo, NeighborInfo> object;
  // Non-empty: a notification that could not be decoded (why, in words); `object` is unset. The
  // watch reports it as an overrun, as a lost notification, and goes on.
  std::string unreadable;
};

// The events of one datagram. Messages of other types (there are none on these groups today) are
// skipped. A message that does not decode becomes an unreadable event, and the rest of the
// datagram is still decoded; a datagram whose framing is broken is one unreadable event. One bad
// notification must not end a watch that a daemon keeps open for days.
std::vector<Event> DecodeEvents(Bytes datagram);

}  // namespace nlkit
