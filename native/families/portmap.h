// Published ports (`docker run -p`) as nftables DNAT in nlkit's table, at a cost that does not
// grow with the number of mappings:
//
//   eight maps, <proto><family>_<any|ip>:  tcp4_any  dport            : addr . port
//                                          tcp4_ip   daddr . dport    : addr . port   (and udp, 6)
//   sixteen static rules, the same in prerouting (traffic from outside) and output (the host's
//   own connections to its addresses), each "fib daddr type local" (never traffic passing through
//   to other machines) + "dnat to <key> map @<map>". The address-keyed rules come first, so a
//   mapping on a given host address serves that address even where an any-address mapping uses the
//   same port.
//
// The maps and rules are created once, in the same atomic batch as the first mapping. After that a
// mapping is one element insert with NLM_F_EXCL: the same host port (and address) twice is the
// kernel's EEXIST, reported as a conflict.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "families/link.h"
#include "families/nat.h"

namespace nlkit {

struct PortMappingSpec {
  bool tcp = true;
  int family = AF_INET;
  std::optional<IpAddr> host_ip;  // absent: every local address
  uint16_t host_port = 0;         // 0 in AddPortMapping: pick a free one
  IpAddr container_ip;
  uint16_t container_port = 0;
  std::string owner;  // the caller's container id: the element's comment "nlkit:<owner>" (sweep)
};


Result<PortMappingSpec> AddPortMapping(Namespace& ns, const std::string& table, PortMappingSpec spec);
// Test hook: the any-address IPv6 output rule as versions before 2026-12-03 made it (it DNATed
// [::1]), under its old comment, referring to the map by name: what an upgrade finds.
MessageBuilder LegacyIpv6OutputRuleForTest(const std::string& table, bool tcp);
// Removes the mapping of that protocol, host address and port; returns whether there was one.
Result<bool> RemovePortMapping(Namespace& ns, const std::string& table, const PortMappingSpec& spec);
Result<std::vector<PortMappingSpec>> ListPortMappings(Namespace& ns, const std::string& table);

}  // namespace nlkit
