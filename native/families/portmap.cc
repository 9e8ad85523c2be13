#include "families/portmap.h"

#include "families/nft_uapi.h"

#include <errno.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <set>
#include <string_view>

#include "core/random.h"
#include "families/address.h"
#include "families/conntrack.h"
#include "families/nat_guard.h"
#include "families/owner.h"
#include "families/nft_expr.h"

namespace nlkit {

namespace {

// nft's data type ids (nftables' datatype.h); a concatenation is (first << 6) | second.
constexpr uint32_t kTypeIpv4 = 7;
constexpr uint32_t kTypeIpv6 = 8;
constexpr uint32_t kTypeService = 13;
constexpr uint32_t Concat(uint32_t a, uint32_t b) { return (a << 6) | b; }

struct MapKind {
  bool tcp;
  int family;
  bool by_address;
  std::string Name() const {
    return std::string(tcp ? "tcp" : "udp") + (family == AF_INET ? "4" : "6") + (by_address ? "_ip" : "_any");
  }
  uint32_t AddrLen() const { return family == AF_INET ? 4 : 16; }
  uint32_t AddrType() const { return family == AF_INET ? kTypeIpv4 : kTypeIpv6; }
  // Registers (values are laid out in 4-byte slots): the port follows the address.
  uint32_t PortReg() const { return family == AF_INET ? nft::kReg32_01 : nft::kReg2; }
};

std::vector<MapKind> AllMaps() {
  std::vector<MapKind> out;
  for (bool tcp : {true, false})
    for (int family : {AF_INET, AF_INET6})
      for (bool by_address : {true, false}) out.push_back(MapKind{tcp, family, by_address});
  return out;
}

// Set ids for the batch that creates the maps: any distinct non-zero numbers.
uint32_t SetId(size_t i) { return static_cast<uint32_t>(i + 1); }

// A value as the kernel stores it: the address, then the port in a 4-byte slot.
std::vector<uint8_t> AddrPort(const IpAddr& a, uint16_t port) {
  std::vector<uint8_t> v(a.bytes.begin(), a.bytes.begin() + a.size());
  v.push_back(static_cast<uint8_t>(port >> 8));
  v.push_back(static_cast<uint8_t>(port & 0xff));
  v.push_back(0);
  v.push_back(0);
  return v;
}

MapKind KindOf(const PortMappingSpec& s) { return MapKind{s.tcp, s.family, s.host_ip.has_value()}; }

std::vector<uint8_t> KeyOf(const PortMappingSpec& s) {
  return s.host_ip ? AddrPort(*s.host_ip, s.host_port) : nft::Be16(s.host_port);
}

bool SkipsIpv6Loopback(const MapKind& k, const char* chain) {
  return k.family == AF_INET6 && !k.by_address && std::string_view(chain) == "output";
}

// A rule is known by its comment. One that changed what it does gets a new comment, so that a
// table made by an earlier version has it replaced (TryAdd deletes the obsolete one in the same
// batch that adds the new): the IPv6 any-address output rules skip [::1] since 2026-12-03.
std::string RuleComment(const MapKind& k, const char* chain) {
  return "nlkit portmap " + k.Name() + " " + chain + (SkipsIpv6Loopback(k, chain) ? " (not ::1)" : "");
}
bool IsObsoleteComment(const std::string& comment) {
  return comment == "nlkit portmap tcp6_any output" || comment == "nlkit portmap udp6_any output";
}

// Address-keyed rules go at the head of their chain, any-address ones at its end: a packet to
// 192.0.2.2:8080 must meet the mapping for that address before the one for every address on
// port 8080. Inserting rather than relying on the order of one batch keeps that true when a
// missing rule is put back later (someone deleted it) while the any-address ones stayed.
MessageBuilder DnatRule(const std::string& table, const char* chain, const MapKind& k, uint32_t set_id, bool legacy = false) {
  MessageBuilder m = nft::NewRule(nft::kFamilyInet, table, chain, /*at_head=*/k.by_address);
  nft::Expressions e(m);
  const uint8_t nfproto = k.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
  e.MetaLoad(NFT_META_NFPROTO);
  e.Cmp(NFT_CMP_EQ, {nfproto});
  // Only traffic addressed to this host: without it, a container's connection to port 8080 of
  // some other machine would be hijacked into the published container.
  e.FibDaddrType();
  e.Cmp(NFT_CMP_EQ, nft::HostU32(RTN_LOCAL));
  e.MetaLoad(NFT_META_L4PROTO);
  e.Cmp(NFT_CMP_EQ, {static_cast<uint8_t>(k.tcp ? IPPROTO_TCP : IPPROTO_UDP)});
  if (SkipsIpv6Loopback(k, chain) && !legacy) {
    // The host's own connections to [::1]:port stay its own: DNATed, they would leave with source
    // ::1, which IPv6 never routes off the host (there is no route_localnet for IPv6; nlkit
    // refuses hostIp ::1 for that reason), and a host service listening there would be cut off.
    e.PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 24, 16);
    std::vector<uint8_t> loopback(16, 0);
    loopback[15] = 1;
    e.Cmp(NFT_CMP_NEQ, loopback);
  }
  if (k.by_address) {
    e.PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, k.family == AF_INET ? 16 : 24, k.AddrLen());
    e.PayloadLoad(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, k.PortReg());
  } else {
    e.PayloadLoad(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  }
  e.Lookup(k.Name(), set_id, nft::kReg1, nft::kReg1);
  e.Nat(NFT_NAT_DNAT, nfproto, nft::kReg1, k.PortReg(), 0);
  e.Close();
  nft::PutRuleComment(m, legacy ? "nlkit portmap " + k.Name() + " " + chain : RuleComment(k, chain));
  return m;
}

// Connections the host makes to 127.0.0.1:PORT are DNATed to a container but keep their loopback
// source, which the container cannot answer: masquerade them on the way out of any interface
// but lo. (Routing them there at all needs net.ipv4.conf.<bridge>.route_localnet=1.)
const char kLocalhostComment[] = "nlkit portmap localhost masquerade";

MessageBuilder LocalhostMasqueradeRule(const std::string& table) {
  MessageBuilder m = nft::NewRule(nft::kFamilyInet, table, "postrouting");
  nft::Expressions e(m);
  e.MetaLoad(NFT_META_NFPROTO);
  e.Cmp(NFT_CMP_EQ, {static_cast<uint8_t>(NFPROTO_IPV4)});
  e.PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 12, 1);
  e.Cmp(NFT_CMP_EQ, {127});
  e.CtStatusDnat();
  e.MetaLoad(NFT_META_OIFNAME);
  e.Cmp(NFT_CMP_NEQ, nft::IfnameValue("lo"));
  e.Masq();
  e.Close();
  nft::PutRuleComment(m, kLocalhostComment);
  return m;
}

// What a first mapping must create: the table, chains, maps and the rules that are missing.
std::vector<MessageBuilder> Setup(const std::string& table, const std::set<std::string>& have_comments) {
  std::vector<MessageBuilder> out = NatTableAndChains(table);
  const auto maps = AllMaps();
  for (size_t i = 0; i < maps.size(); ++i) {
    const MapKind& k = maps[i];
    const uint32_t key_type = k.by_address ? Concat(k.AddrType(), kTypeService) : kTypeService;
    const uint32_t key_len = k.by_address ? k.AddrLen() + 4 : 2;
    out.push_back(nft::NewMap(nft::kFamilyInet, table, k.Name(), SetId(i), key_type, key_len,
                              Concat(k.AddrType(), kTypeService), k.AddrLen() + 4));
  }
  for (const char* chain : {"prerouting", "output"}) {
    for (size_t i = 0; i < maps.size(); ++i) {
      if (!have_comments.count(RuleComment(maps[i], chain))) out.push_back(DnatRule(table, chain, maps[i], SetId(i)));
    }
  }
  if (!have_comments.count(kLocalhostComment)) out.push_back(LocalhostMasqueradeRule(table));
  // Mappings on 127.0.0.1 are why route_localnet gets turned on; the guard makes that safe.
  if (!have_comments.count(kLocalnetGuardComment)) {
    AppendLocalnetGuard(out, table);
  }
  return out;
}

size_t MapIndex(const MapKind& k) {
  const auto maps = AllMaps();
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].Name() == k.Name()) return i;
  }
  return 0;
}

std::string Describe(const PortMappingSpec& s) {
  std::string host = s.host_ip ? s.host_ip->ToString() : std::string(s.family == AF_INET ? "0.0.0.0" : "[::]");
  return std::string(s.tcp ? "tcp " : "udp ") + host + ":" + std::to_string(s.host_port) + " -> " +
         s.container_ip.ToString() + ":" + std::to_string(s.container_port);
}

uint16_t RandomPort() {
  uint16_t r = 0;
  FillRandom(reinterpret_cast<uint8_t*>(&r), sizeof(r));
  return static_cast<uint16_t>(32768 + r % (60999 - 32768 + 1));  // Linux's default ephemeral range
}

// One attempt: read the generation and the static rules, then one batch with whatever setup is
// missing and the element.
Result<bool> TryAdd(NetlinkSocket& sock, const std::string& table, const PortMappingSpec& s) {
  auto gen = nft::GetGeneration(sock);
  if (!gen) return std::move(gen.error().In("addPortMapping", Describe(s)));
  auto rules = nft::DumpRules(sock, nft::kFamilyInet, table);
  if (!rules) return std::move(rules.error().In("addPortMapping", Describe(s)));
  std::set<std::string> have;
  for (const auto& r : *rules) have.insert(r.comment);
  const size_t expected = AllMaps().size() * 2 + 2;
  size_t present = have.count(kLocalhostComment) + have.count(kLocalnetGuardComment);
  for (const MapKind& k : AllMaps())
    for (const char* chain : {"prerouting", "output"}) present += have.count(RuleComment(k, chain));
  std::vector<MessageBuilder> batch;
  for (const auto& r : *rules) {
    if (IsObsoleteComment(r.comment)) batch.push_back(nft::DelRule(nft::kFamilyInet, table, r.chain, r.handle));
  }
  const bool setup = present != expected;
  if (setup) {
    for (auto& m : Setup(table, have)) batch.push_back(std::move(m));
  }
  const MapKind k = KindOf(s);
  batch.push_back(nft::NewMapElement(nft::kFamilyInet, table, k.Name(), setup ? SetId(MapIndex(k)) : 0, KeyOf(s),
                                     AddrPort(s.container_ip, s.container_port), s.owner.empty() ? "" : OwnerTag(s.owner)));
  auto outcomes = nft::CommitBatch(sock, std::move(batch), *gen);
  if (!outcomes) return std::move(outcomes.error().In("addPortMapping", Describe(s)));
  const RequestOutcome& element = outcomes->back();
  if (element.ack.errnum == EEXIST) {
    Error e = RefusalError(element.ack, "addPortMapping", Describe(s));
    e.detail = "host port " + std::to_string(s.host_port) + "/" + (s.tcp ? "tcp" : "udp") + " is already mapped";
    return e;
  }
  for (const auto& o : *outcomes) {
    if (o.ack.errnum != 0) return NatBatchError(*outcomes, "addPortMapping", Describe(s));
  }
  return true;
}

bool SameIp(const IpAddr& a, const IpAddr& b) { return a.family == b.family && std::memcmp(a.bytes.data(), b.bytes.data(), a.size()) == 0; }

// A UDP flow to the mapping's host port (on its host address, when it has one).
bool ToHostPort(const ConntrackEntry& e, const PortMappingSpec& s) {
  return e.orig.proto == IPPROTO_UDP && e.orig.dport == s.host_port && (!s.host_ip || SameIp(e.orig.dst, *s.host_ip));
}
// ... that was DNATed to the mapping's container: its answers come from the container's port.
bool ToContainer(const ConntrackEntry& e, const PortMappingSpec& s) {
  return SameIp(e.reply.src, s.container_ip) && e.reply.sport == s.container_port;
}

// UDP flows outlive a mapping change (conntrack.h): after an add, those to the host port on one of
// the host's own addresses (as the mapping's rules match: fib daddr type local) that were not
// DNATed to this container (they reached the host itself, or a container mapped there before);
// after a removal, those DNATed to the container. The next packet of each starts a new flow that
// meets the rules as they are now. Flows that only pass through the host (a container's, or the
// host's own, to some server's port of the same number) are not touched. TCP needs none of this:
// a new connection is a new flow.
Status ClearUdpFlows(Namespace& ns, NetlinkSocket& sock, const PortMappingSpec& s, bool added, const char* operation) {
  if (s.tcp) return OkStatus();
  const auto failed = [&](Error error) -> Status {
    Error e = std::move(error.In(operation, Describe(s)));
    e.detail = std::string(added ? "the mapping is in place" : "the mapping is removed") +
               "; clearing the conntrack entries of UDP flows to its port failed" + (e.detail.empty() ? "" : ": " + e.detail);
    return e;
  };
  std::vector<IpAddr> local;
  if (added && !s.host_ip) {
    auto addresses = ListAddresses(ns, std::nullopt, s.family);
    if (!addresses) return failed(std::move(addresses.error()));
    for (const AddressInfo& a : *addresses) {
      if (a.local) local.push_back(*a.local);
      else if (a.address) local.push_back(*a.address);
    }
  }
  const auto to_host = [&](const ConntrackEntry& e) {
    if (s.host_ip) return true;  // ToHostPort matched the address
    for (const IpAddr& a : local) {
      if (SameIp(a, e.orig.dst)) return true;
    }
    return false;
  };
  auto cleared = DeleteConntrackWhere(sock, s.family, ConntrackDumpFilter{IPPROTO_UDP, s.host_port}, [&](const ConntrackEntry& e) {
    if (!ToHostPort(e, s)) return false;
    const bool dnat_to_container = (e.status & IPS_DST_NAT) != 0 && ToContainer(e, s);
    return added ? !dnat_to_container && to_host(e) : dnat_to_container;
  });
  if (cleared) return OkStatus();
  return failed(std::move(cleared.error()));
}

}  // namespace

MessageBuilder LegacyIpv6OutputRuleForTest(const std::string& table, bool tcp) {
  return DnatRule(table, "output", MapKind{tcp, AF_INET6, false}, 0, /*legacy=*/true);
}

Result<PortMappingSpec> AddPortMapping(Namespace& ns, const std::string& table, PortMappingSpec spec) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  const bool pick = spec.host_port == 0;
  for (int tries = 0;; ++tries) {
    if (pick) spec.host_port = RandomPort();
    auto r = WithGenerationRetry<bool>([&] { return TryAdd(**sock, table, spec); });
    if (r.ok()) {
      NLKIT_TRY(ClearUdpFlows(ns, **sock, spec, /*added=*/true, "addPortMapping"));
      return spec;
    }
    // A picked port that is taken: pick another.
    if (pick && r.error().errnum == EEXIST && tries < 16) continue;
    return std::move(r.error());
  }
}

// Removes the element only if it still maps to this container (and carries this owner, when one
// is given), in a batch guarded by the generation it was read in: a host port is a key that
// another container may hold by now (its own mapping made after this one was removed, or while a
// sweep was working through a stale list), and deleting by key alone would take that one.
Result<bool> RemovePortMapping(Namespace& ns, const std::string& table, const PortMappingSpec& spec) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  const std::string what = Describe(spec);
  const std::string map = KindOf(spec).Name();
  const std::vector<uint8_t> key = KeyOf(spec);
  auto removed = WithGenerationRetry<bool>([&]() -> Result<bool> {
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error().In("removePortMapping", what));
    auto element = nft::GetMapElement(**sock, nft::kFamilyInet, table, map, key);
    if (!element) return std::move(element.error().In("removePortMapping", what));
    if (!*element) return false;  // no such mapping, map or table: already gone
    if ((*element)->data != AddrPort(spec.container_ip, spec.container_port)) return false;  // another container's
    if (!spec.owner.empty() && (*element)->comment != OwnerTag(spec.owner)) return false;  // another owner's
    std::vector<MessageBuilder> batch;
    batch.push_back(nft::DelMapElement(nft::kFamilyInet, table, map, key));
    auto outcomes = nft::CommitBatch(**sock, std::move(batch), *gen);
    if (!outcomes) return std::move(outcomes.error().In("removePortMapping", what));
    // A changed generation (ERESTART) is retried from the read; the element cannot have gone
    // otherwise.
    for (const auto& o : *outcomes) {
      if (o.ack.errnum != 0) return NatBatchError(*outcomes, "removePortMapping", what);
    }
    return true;
  });
  if (removed && *removed) NLKIT_TRY(ClearUdpFlows(ns, **sock, spec, /*added=*/false, "removePortMapping"));
  return removed;
}

Result<std::vector<PortMappingSpec>> ListPortMappings(Namespace& ns, const std::string& table) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  std::vector<PortMappingSpec> out;
  for (const MapKind& k : AllMaps()) {
    auto elements = nft::DumpMapElements(**sock, nft::kFamilyInet, table, k.Name());
    if (!elements) return std::move(elements.error());
    const size_t alen = k.AddrLen();
    for (const auto& el : *elements) {
      PortMappingSpec s;
      s.tcp = k.tcp;
      s.family = k.family;
      if (el.data.size() < alen + 2) return Error::Protocol("port mapping value of unexpected size in " + k.Name());
      s.container_ip.family = k.family;
      std::memcpy(s.container_ip.bytes.data(), el.data.data(), alen);
      s.container_port = static_cast<uint16_t>((el.data[alen] << 8) | el.data[alen + 1]);
      s.owner = OwnerOfTag(el.comment);
      if (k.by_address) {
        if (el.key.size() < alen + 2) return Error::Protocol("port mapping key of unexpected size in " + k.Name());
        IpAddr host;
        host.family = k.family;
        std::memcpy(host.bytes.data(), el.key.data(), alen);
        s.host_ip = host;
        s.host_port = static_cast<uint16_t>((el.key[alen] << 8) | el.key[alen + 1]);
      } else {
        if (el.key.size() < 2) return Error::Protocol("port mapping key of unexpected size in " + k.Name());
        s.host_port = static_cast<uint16_t>((el.key[0] << 8) | el.key[1]);
      }
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace nlkit
