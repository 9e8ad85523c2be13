// Which link is at the other end of a veth, and in which namespace: "which host vethXXXX is my
// container's eth0?" answered with two or three requests, no dump of every link.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "families/link.h"

namespace nlkit {

struct PeerInfo {
  LinkInfo link;                     // the peer, read in its own namespace
  std::optional<int32_t> netns_id;   // its namespace's id as the asking namespace numbers it
  bool same_netns = false;           // the peer is in the asking namespace
  bool initial_netns = false;        // the peer is in the namespace the process started in
  std::optional<std::string> netns_path;  // a candidate file that is the peer's namespace
};

// `candidates` are namespace files (the netns directory's entries) to name the peer's namespace
// by; `initial` is the process's own. Both are compared by namespace id in one batch.
Result<PeerInfo> FindPeer(Namespace& ns, const LinkRefArg& ref, Namespace& initial,
                          const std::vector<std::string>& candidates);

}  // namespace nlkit
