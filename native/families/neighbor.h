// Neighbours (RTM_NEWNEIGH / RTM_DELNEIGH / dump): ARP and NDP entries, and the bridge forwarding
// database (AF_BRIDGE) that VXLAN overlays program with remote endpoints.
#pragma once

#include <optional>
#include <vector>

#include "families/link.h"

namespace nlkit {

struct NeighborSpec {
  int family = 0;  // AF_INET, AF_INET6 or AF_BRIDGE
  LinkRefArg dev;
  std::optional<IpAddr> address;  // ARP/NDP: the IP; FDB: none
  std::optional<Mac> mac;
  uint16_t state = 0;             // NUD_* bits; 0 = NUD_PERMANENT
  uint8_t flags = 0;              // NTF_SELF, NTF_MASTER...
  std::optional<IpAddr> dst;      // FDB on a VXLAN device: the remote endpoint
  std::optional<uint16_t> vlan;
  std::optional<uint32_t> vni;
  enum class Mode { kCreate, kReplace, kAppend } mode = Mode::kCreate;
};

struct NeighborInfo {
  int family = 0;
  uint32_t index = 0;
  uint16_t state = 0;
  uint8_t flags = 0;
  std::optional<IpAddr> address, dst;
  std::optional<std::vector<uint8_t>> mac;
  std::optional<uint16_t> vlan;
  std::optional<uint32_t> vni, master;
};

Result<NeighborInfo> DecodeNeighbor(const Message& m);
Status AddNeighbor(Namespace& ns, const NeighborSpec& spec);
Status DeleteNeighbor(Namespace& ns, const NeighborSpec& spec);
Result<std::vector<NeighborInfo>> ListNeighbors(Namespace& ns, int family, const std::optional<LinkRefArg>& dev);

}  // namespace nlkit
