// Connection-tracking entries over ctnetlink (NETLINK_NETFILTER, subsystem CTNETLINK): read and
// deleted, for what port mappings must clear when a UDP mapping changes. A UDP "connection" is
// any flow whose packets keep coming (a DNS forwarder, syslog, statsd on a fixed source port):
// conntrack keeps it, and the NAT decision made for its first packet, for as long as it does, so
// a flow DNATed to a removed mapping's container goes on reaching that container, and a flow that
// reached the host before a mapping existed goes on bypassing it. Docker clears them the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "core/result.h"
#include "families/link.h"
#include "netlink/message.h"
#include "netlink/socket.h"

namespace nlkit {

struct ConntrackTuple {
  IpAddr src, dst;
  uint8_t proto = 0;  // IPPROTO_*
  uint16_t sport = 0, dport = 0;  // host order; 0 for a protocol without ports
};

struct ConntrackEntry {
  int family = 0;  // AF_INET or AF_INET6
  ConntrackTuple orig;   // as the first packet had it
  ConntrackTuple reply;  // as the answers have it: after DNAT its source is the container
  uint32_t status = 0;   // IPS_* bits: IPS_DST_NAT for a DNATed flow
  std::optional<uint16_t> zone;
};

// Decodes an IPCTNL_MSG_CT_NEW (a dump's entry). Entries without both tuples are an error.
Result<ConntrackEntry> DecodeConntrack(const Message& m);
// An IPCTNL_MSG_CT_DELETE naming `e` by its original tuple (and zone).
MessageBuilder EncodeConntrackDelete(const ConntrackEntry& e);

// What the kernel can select in a dump by itself (CTA_FILTER, Linux 5.10+): entries whose original
// tuple has this protocol and destination port. Only entries that pass are copied out, rather than
// the whole table: on a host tracking a great many flows that is the difference.
struct ConntrackDumpFilter {
  uint8_t proto = 0;
  uint16_t dport = 0;
};

// Deletes the entries of `family` that `matches` accepts: one dump (narrowed by `filter` where the
// kernel can; `matches` decides either way), then the deletes in one Transact. An
// entry gone meanwhile (ENOENT) is fine, and so is a kernel without ctnetlink (nothing is tracked
// that nlkit could see). Returns how many were deleted.
Result<size_t> DeleteConntrackWhere(NetlinkSocket& sock, int family, const std::optional<ConntrackDumpFilter>& filter,
                                    const std::function<bool(const ConntrackEntry&)>& matches);

}  // namespace nlkit
