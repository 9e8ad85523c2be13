#include "families/events.h"

#include "netlink/socket.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

namespace nlkit {

namespace {

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

std::vector<int> GroupsOf(uint32_t groups) {
  std::vector<int> out;
  if (groups & kLinkEvents) out.push_back(RTNLGRP_LINK);
  if (groups & kAddressEvents) out.insert(out.end(), {RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR});
  if (groups & kRouteEvents) out.insert(out.end(), {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE});
  if (groups & kNeighborEvents) out.push_back(RTNLGRP_NEIGH);
  return out;
}

}  // namespace

Result<UniqueFd> OpenEventSocket(const Namespace& ns, uint32_t groups, std::optional<int> receive_buffer) {
  // The socket must be born inside `ns`; the visit ends (the thread goes home) when this returns.
  auto visit = EnterUnlessHome(ns);
  if (!visit) return std::move(visit.error());
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  if (!fd.valid()) return Error::System(errno, "socket", "event socket in " + ns.label());
  if (receive_buffer) {
    // SO_RCVBUFFORCE passes the rmem_max cap (with CAP_NET_ADMIN over the initial namespace);
    // the plain option is capped, which only matters for large sizes.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &*receive_buffer, sizeof(int)) != 0 &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &*receive_buffer, sizeof(int)) != 0) {
      return Error::System(errno, "setsockopt SO_RCVBUF", "event socket");
    }
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return Error::System(errno, "bind", "event socket");
  }
  // Junk another process sent could otherwise fill the receive buffer and make the kernel drop
  // real notifications. (The reader also drops what is not the kernel's.)
  NLKIT_TRY(ConnectToKernel(fd.get(), "event socket"));
  for (int group : GroupsOf(groups)) {
    if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
      return Error::System(errno, "NETLINK_ADD_MEMBERSHIP", "group " + std::to_string(group));
    }
  }
  return fd;
}

namespace {
Event Unreadable(std::string what, const Error& e) {
  Event u;
  u.unreadable = std::move(what) + ": " + (e.detail.empty() ? "malformed" : e.detail);
  return u;
}
}  // namespace

std::vector<Event> DecodeEvents(Bytes datagram) {
  std::vector<Event> out;
  auto messages = SplitMessages(datagram);
  if (!messages) {
    out.push_back(Unreadable("a datagram of " + std::to_string(datagram.size()) + " bytes", messages.error()));
    return out;
  }
  for (const Message& m : *messages) {
    const uint16_t type = m.header.nlmsg_type;
    Event e;
    e.removed = type == RTM_DELLINK || type == RTM_DELADDR || type == RTM_DELROUTE || type == RTM_DELNEIGH;
    // Each kind by the decoder its dump uses.
    auto decoded = [&](auto r) -> Status {
      if (!r) return std::move(r.error());
      e.object = std::move(*r);
      return OkStatus();
    };
    Status s = OkStatus();
    if (type == RTM_NEWLINK || type == RTM_DELLINK) {
      // The bridge sends its own per-port messages (family AF_BRIDGE) on the link group too, a
      // "delete" among them when a port leaves the bridge; the link itself is still there.
      auto h = ReadStruct<ifinfomsg>(m.payload);
      if (h && h->ifi_family != AF_UNSPEC) continue;
      s = decoded(DecodeLink(m));
    }
    else if (type == RTM_NEWADDR || type == RTM_DELADDR) {
      auto a = DecodeAddress(m);
      if (a && !a->IsIp()) continue;  // an MCTP or Phonet address: not one nlkit reports
      s = decoded(std::move(a));
    }
    else if (type == RTM_NEWROUTE || type == RTM_DELROUTE) {
      auto r = DecodeRoute(m);
      if (r && !r->IsIp()) continue;  // a multicast forwarding entry (IPMR/IP6MR), as in the dump
      s = decoded(std::move(r));
    }
    else if (type == RTM_NEWNEIGH || type == RTM_DELNEIGH) s = decoded(DecodeNeighbor(m));
    else continue;
    if (!s.ok()) {
      out.push_back(Unreadable("a message of type " + std::to_string(type), s.error()));
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace nlkit
