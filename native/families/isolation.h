// Network-to-network isolation, as Docker isolates its user-defined networks: packets routed from
// one isolated bridge to another are dropped in the forward chain of nlkit's table. Traffic inside a
// bridge, to and from the host, and out through any other interface is untouched.
//
//   set isolated_nets { type ifname }                    the isolated bridges
//   forward: iifname "X" oifname != "X" oifname @isolated_nets drop   one rule per bridge X
//
// A bridge isolated alone cuts nothing: it takes two. Rules are found by their comment.
#pragma once

#include <string>

#include "families/nftables.h"
#include "netns/namespace.h"

namespace nlkit {

std::string IsolationComment(const std::string& bridge);

// Adds the bridge to the set and its rule, unless its rule is there (idempotent,
// generation-guarded). Returns whether this call added it.
Result<bool> AddNetworkIsolation(Namespace& ns, const std::string& table, const std::string& bridge);
// Removes the bridge's rule and set element; absent is fine. Returns whether there was a rule.
Result<bool> RemoveNetworkIsolation(Namespace& ns, const std::string& table, const std::string& bridge);

}  // namespace nlkit
