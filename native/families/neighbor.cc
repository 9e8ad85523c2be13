#include "families/neighbor.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "netlink/engine.h"

namespace nlkit {

namespace {

std::string Describe(const NeighborSpec& s) {
  std::string what = s.family == AF_BRIDGE ? "fdb entry" : "neighbor";
  if (s.address) what += " " + s.address->ToString();
  // An FDB entry is its MAC (and, on a vxlan, the remote it leads to): several share a device.
  if (s.family == AF_BRIDGE && s.mac) what += " " + MacToString(*s.mac);
  if (s.dst) what += " dst " + s.dst->ToString();
  if (s.vlan) what += " vlan " + std::to_string(*s.vlan);
  return what + " on " + s.dev.Describe();
}

MessageBuilder Encode(uint16_t type, uint16_t flags, const NeighborSpec& s, uint32_t index) {
  MessageBuilder m(type, flags);
  ndmsg h{};
  h.ndm_family = static_cast<uint8_t>(s.family);
  h.ndm_ifindex = static_cast<int32_t>(index);
  h.ndm_state = s.state != 0 ? s.state : NUD_PERMANENT;
  h.ndm_flags = s.flags;
  m.PutHeader(h);
  if (s.address) PutIp(m, NDA_DST, *s.address);
  if (s.dst) PutIp(m, NDA_DST, *s.dst);
  if (s.mac) m.PutAttr(NDA_LLADDR, s.mac->data(), s.mac->size());
  if (s.vlan) m.PutU16(NDA_VLAN, *s.vlan);
  if (s.vni) m.PutU32(NDA_VNI, *s.vni);
  return m;
}

Status Write(Namespace& ns, const NeighborSpec& s, uint16_t type, uint16_t flags, const char* op) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto idx = ResolveIndexes(**sock, {&s.dev});
  if (!idx) return std::move(idx.error());
  auto out = TransactOne(**sock, Encode(type, flags, s, (*idx)[0]));
  if (!out) return std::move(out.error().In(op, Describe(s)));
  return OkStatus();
}

}  // namespace

Status AddNeighbor(Namespace& ns, const NeighborSpec& s) {
  uint16_t flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  if (s.mode == NeighborSpec::Mode::kReplace) flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
  if (s.mode == NeighborSpec::Mode::kAppend) flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND;
  return Write(ns, s, RTM_NEWNEIGH, flags, "addNeighbor");
}

Status DeleteNeighbor(Namespace& ns, const NeighborSpec& s) {
  return Write(ns, s, RTM_DELNEIGH, NLM_F_REQUEST, "deleteNeighbor");
}

Result<NeighborInfo> DecodeNeighbor(const Message& m) {
  auto nh = ReadStruct<ndmsg>(m.payload);
  if (!nh) return Error::Protocol("truncated ndmsg in RTM_NEWNEIGH");
  AttrTable<NDA_MAX + 1> t;
  if (!ParseAttrs(m.payload.subspan(NLMSG_ALIGN(sizeof(ndmsg))), t)) {
    return Error::Protocol("malformed attributes in RTM_NEWNEIGH");
  }
  NeighborInfo n;
  n.family = nh->ndm_family;
  n.index = static_cast<uint32_t>(nh->ndm_ifindex);
  n.state = nh->ndm_state;
  n.flags = nh->ndm_flags;
  (n.family == AF_BRIDGE ? n.dst : n.address) = IpAddr::FromBytes(0, t[NDA_DST]);
  if (t[NDA_LLADDR] && !t[NDA_LLADDR]->empty() && t[NDA_LLADDR]->size() <= 32) {
    n.mac.emplace(t[NDA_LLADDR]->begin(), t[NDA_LLADDR]->end());
  }
  n.vlan = AttrU16(t[NDA_VLAN]);
  n.vni = AttrU32(t[NDA_VNI]);
  n.master = AttrU32(t[NDA_MASTER]);
  return n;
}

Result<std::vector<NeighborInfo>> ListNeighbors(Namespace& ns, int family, const std::optional<LinkRefArg>& dev) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto index = ResolveOptional(**sock, dev);
  if (!index) return std::move(index.error());
  MessageBuilder req(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
  ndmsg h{};
  h.ndm_family = static_cast<uint8_t>(family);
  req.PutHeader(h);
  // Strict dump checking wants the device filter as NDA_IFINDEX, the header's ifindex zero.
  if (*index) req.PutU32(NDA_IFINDEX, *index);
  const uint32_t want = *index;
  auto out = DumpAll<NeighborInfo>(**sock, req, RTM_NEWNEIGH, DecodeNeighbor,
                                   [want](const NeighborInfo& n) { return want == 0 || n.index == want; });
  if (!out) return std::move(out.error().In("listNeighbors", dev ? dev->Describe() : "neighbors"));
  return out;
}

}  // namespace nlkit
