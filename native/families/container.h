// The per-container fast path: everything a runtime does at the link and IP layer for one
// container start, in the fewest round trips the kernel allows, and undone on any failure.
//
//   [host, only if the bridge is named]  RTM_GETLINK bridge -> ifindex
//   [host]       RTM_NEWLINK veth: peer born in the container netns as `ifname`, host end enslaved
//                and up, MTU and MACs set (NLM_F_ECHO: its IFLA_LINK is the peer's ifindex)
//                (then the bridge-port flags, when hairpin or isolation is asked)
//   [container]  one sendmsg: lo up, addresses, ifname up, routes
//
// The result names what was made (ifindex, name, MAC, MTU of each end), all known without reading
// anything back: a GET of the container interface in the batch cost 15-35 us of a ~0.8 ms attach
// (kernel fill, one more reply and ACK, decoding, a full Link object), for a snapshot of state that
// is still settling at that moment. getLink gives it to a caller who wants it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "families/address.h"
#include "families/route.h"

namespace nlkit {

struct AttachSpec {
  LinkRefArg bridge;
  std::string ifname = "eth0";
  std::optional<std::string> host_ifname;  // generated (veth + 7 hex digits) when absent
  std::vector<AddressSpec> addresses;      // link fields ignored: they go on ifname
  std::vector<RouteSpec> routes;           // dev ignored: out of ifname
  std::optional<uint32_t> mtu;
  std::optional<Mac> mac;                  // the container side's MAC
  std::optional<bool> hairpin;
  std::optional<bool> isolated;           // bridge port isolation of the host end
  std::optional<std::string> owner;       // the caller's container id: the host end's alias "nlkit:<owner>"
};

// One end of the veth as made.
struct AttachedEnd {
  int32_t index = 0;
  std::string name;
  Mac mac{};
  uint32_t mtu = 0;
};

// The two ends. The addresses and routes are the spec's: the caller has them already.
struct AttachResult {
  AttachedEnd host;
  AttachedEnd container;
};

Result<AttachResult> AttachContainer(Namespace& host, const NamespacePtr& container, AttachSpec spec);

// Deletes the veth named `ifname` (either end); done when it is already gone. Anything but a veth
// is refused (kInvalid, object `argument`: the caller's name for the field).
Status DetachLink(Namespace& ns, const std::string& ifname, const std::string& argument);

}  // namespace nlkit
