// The localnet guard: what makes net.ipv4.conf.<bridge>.route_localnet=1 safe.
//
// A port mapping on 127.0.0.1 needs route_localnet on the bridge (the host's connections to
// loopback are DNATed into it). But route_localnet also makes the kernel accept packets addressed
// to 127.0.0.0/8 that arrive on that interface from other machines, so any neighbour on the bridge
// (a container) could reach the host's services bound to 127.0.0.1, and its 127.0.0.1 mappings
// (CVE-2020-8558, found in kube-proxy). The guard drops IPv4 packets to 127.0.0.0/8 that did not
// arrive on lo, in prerouting at raw priority: before conntrack and before any DNAT, so neither a
// local service nor a mapping sees them. Connections the host makes itself never cross
// prerouting; their replies come back to the masqueraded bridge address, not to 127/8.
#pragma once

#include <string>
#include <vector>

#include "families/nftables.h"
#include "netns/namespace.h"

namespace nlkit {

// The rule's comment, by which it is found (readable in `nft list ruleset`).
extern const char kLocalnetGuardComment[];

// The guard's base chain (filter, prerouting, priority raw) and its rule, for a batch that
// creates them; NEWCHAIN is idempotent, the rule is added only by callers that found it missing.
MessageBuilder LocalnetGuardChain(const std::string& table);
MessageBuilder LocalnetGuardRule(const std::string& table);
// Both, appended to `batch`: what every batch that makes the guard sends.
void AppendLocalnetGuard(std::vector<MessageBuilder>& batch, const std::string& table);

// Adds the guard (table, chain, rule) unless its rule is there: idempotent, generation-guarded.
// Returns whether this call added it.
Result<bool> EnsureLocalnetGuard(Namespace& ns, const std::string& table);

}  // namespace nlkit
