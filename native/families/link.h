// Links (RTM_NEWLINK / RTM_GETLINK / RTM_DELLINK): what a caller asks for, what the kernel
// reports, the encoders and decoders (pure, no I/O), and the operations that run on a worker
// thread against one namespace.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/engine.h"
#include "netlink/message.h"
#include "netns/namespace.h"

namespace nlkit {

using Mac = std::array<uint8_t, 6>;
// 02:42:ac:11:00:02, lower case: any link-layer address, as ip(8) prints it.
std::string MacToString(const uint8_t* bytes, size_t len);
inline std::string MacToString(const Mac& m) { return MacToString(m.data(), m.size()); }

// A link named by ifindex (index > 0) or by name.
struct LinkRefArg {
  int32_t index = 0;
  std::string name;
  std::string Describe() const;
};

// An IPv4 or IPv6 address, already parsed.
struct IpAddr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  bool IsMulticast() const;
  std::string ToString() const;
  size_t size() const { return family == AF_INET ? 4 : 16; }
  static std::optional<IpAddr> Parse(const std::string& text);
  // From an attribute payload: 4 bytes for AF_INET, 16 for AF_INET6; family 0 infers it from the
  // size. Anything else is nullopt.
  static std::optional<IpAddr> FromBytes(int family, const std::optional<Bytes>& b);
};

// Appends an address attribute of the address's own size.
inline void PutIp(MessageBuilder& m, uint16_t type, const IpAddr& a) { m.PutAttr(type, a.bytes.data(), a.size()); }

struct VethPeerSpec {
  std::string name;
  NamespacePtr netns;  // null: the same namespace as the first end
  std::optional<Mac> mac;
  std::optional<uint32_t> mtu;
  std::optional<uint32_t> txqlen;
};

struct VxlanSpec {
  uint32_t vni = 0;
  std::optional<IpAddr> local;
  std::optional<IpAddr> remote;  // unicast peer
  std::optional<IpAddr> group;   // multicast group
  std::optional<uint16_t> port;
  std::optional<LinkRefArg> device;
  std::optional<uint8_t> ttl;
  std::optional<bool> learning;
};

struct LinkSpec {
  std::string kind;
  std::string name;
  std::optional<uint32_t> mtu;
  std::optional<uint32_t> txqlen;
  std::optional<Mac> mac;
  std::optional<bool> up;
  std::optional<std::string> alias;
  std::optional<LinkRefArg> master;
  std::optional<LinkRefArg> parent;  // vlan, macvlan, ipvlan

  std::optional<VethPeerSpec> peer;
  uint16_t vlan_id = 0;
  uint16_t vlan_protocol = 0;  // ETH_P_8021Q / ETH_P_8021AD; 0 = kernel default
  std::optional<uint32_t> macvlan_mode;
  std::optional<uint16_t> ipvlan_mode;
  std::optional<uint16_t> ipvlan_flags;
  std::optional<VxlanSpec> vxlan;
  std::optional<bool> bridge_stp;
  std::optional<bool> bridge_vlan_filtering;
  std::optional<uint32_t> bridge_forward_delay;
  std::optional<uint32_t> bridge_ageing_time;
};

struct LinkChangesSpec {
  std::optional<bool> up;
  std::optional<uint32_t> mtu;
  std::optional<Mac> mac;
  std::optional<std::string> name;
  std::optional<std::string> alias;
  std::optional<uint32_t> txqlen;
  bool set_master = false;
  std::optional<LinkRefArg> master;  // with set_master: nullopt releases
  NamespacePtr move_to;
  std::optional<bool> hairpin;
  std::optional<bool> isolated;
  std::optional<bool> learning;
};

// Indexes that the names in a LinkSpec resolved to (the kernel wants ifindexes).
struct ResolvedRefs {
  uint32_t master = 0;
  uint32_t parent = 0;
  uint32_t vxlan_device = 0;
};

struct LinkInfo {
  int32_t index = 0;
  uint32_t flags = 0;
  uint16_t type = 0;
  std::string name;
  std::string kind;
  std::string slave_kind;
  std::optional<std::vector<uint8_t>> address;
  uint32_t mtu = 0;
  std::optional<uint32_t> min_mtu, max_mtu, txqlen, master, link;
  std::optional<int32_t> link_netnsid;
  std::optional<std::string> alias;
  uint8_t operstate = 0;

  struct BridgePort { bool hairpin = false, isolated = false, learning = false; };
  std::optional<BridgePort> bridge_port;
  struct Bridge {
    bool stp = false, vlan_filtering = false;
    std::optional<uint32_t> forward_delay, ageing_time;
  };
  std::optional<Bridge> bridge;
  std::optional<uint16_t> vlan_id, vlan_protocol;
  std::optional<uint32_t> macvlan_mode;
  std::optional<uint16_t> ipvlan_mode, ipvlan_flags;
  struct Vxlan {
    uint32_t vni = 0;
    std::optional<IpAddr> local, remote, group;
    std::optional<uint16_t> port;
    std::optional<uint32_t> device;
    std::optional<uint8_t> ttl;
    std::optional<bool> learning;
  };
  std::optional<Vxlan> vxlan;
};

// --- pure encoders / decoders -----------------------------------------------------------------

// RTM_NEWLINK creating `spec` (NLM_F_CREATE|NLM_F_EXCL).
MessageBuilder EncodeCreateLink(const LinkSpec& spec, const ResolvedRefs& refs);
// RTM_NEWLINK changing an existing link identified by `index`.
MessageBuilder EncodeSetLink(const LinkRefArg& target, const LinkChangesSpec& changes, uint32_t master_index);
// RTM_NEWLINK setting the bridge-port flags (hairpin, isolated, learning) of a port.
MessageBuilder EncodePortFlags(const LinkRefArg& port, const LinkChangesSpec& changes);
// RTM_GETLINK for one link by index or name.
MessageBuilder EncodeGetLink(const LinkRefArg& ref);
// RTM_DELLINK.
MessageBuilder EncodeDeleteLink(const LinkRefArg& ref);
// RTM_GETLINK dump, filtered in the kernel by kind and/or master.
MessageBuilder EncodeListLinks(const std::optional<std::string>& kind, uint32_t master_index);
// Decodes one RTM_NEWLINK message (a dump entry, a GET answer or an echo).
Result<LinkInfo> DecodeLink(const Message& m);
Result<LinkInfo> DecodeLink(Bytes whole_message);
// The RTM_NEWLINK a request got back (a GET's answer), decoded; `link` names it for the error.
Result<LinkInfo> LinkReply(const RequestOutcome& outcome, const std::string& link);

// A random locally administered unicast MAC, as the kernel would pick.
Mac RandomMac();

// --- operations (worker thread) ----------------------------------------------------------------

// Resolves the named links among `refs` (null entries skipped) to ifindexes in one round trip:
// one RTM_GETLINK per name, all in one sendmsg. Other families use it for their `dev` fields.
Result<std::vector<uint32_t>> ResolveIndexes(NetlinkSocket& sock, const std::vector<const LinkRefArg*>& refs);
// One optional link as an ifindex; 0 when absent (a dump filter that filters nothing).
Result<uint32_t> ResolveOptional(NetlinkSocket& sock, const std::optional<LinkRefArg>& ref);

Result<LinkInfo> CreateLink(Namespace& ns, LinkSpec spec);
Result<LinkInfo> GetLink(Namespace& ns, const LinkRefArg& ref);
Result<std::vector<LinkInfo>> ListLinks(Namespace& ns, const std::optional<std::string>& kind,
                                        const std::optional<LinkRefArg>& master);
Status DeleteLink(Namespace& ns, const LinkRefArg& ref);
// Applies `changes`, then reads the link back (in the namespace it was moved to, if it moved).
Result<LinkInfo> SetLink(Namespace& ns, const LinkRefArg& ref, const LinkChangesSpec& changes);

}  // namespace nlkit
