#include "families/address.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "netlink/engine.h"

namespace nlkit {

namespace {

std::string Describe(const AddressSpec& s) {
  return "address " + s.local.ToString() + "/" + std::to_string(s.prefix_len) + " on " + s.link.Describe();
}

}  // namespace

std::optional<IpAddr> SubnetBroadcast(const IpAddr& a, uint8_t prefix_len) {
  if (a.family != AF_INET || prefix_len > 30) return std::nullopt;
  IpAddr b = a;
  for (int bit = prefix_len; bit < 32; ++bit) b.bytes[bit >> 3] |= static_cast<uint8_t>(0x80 >> (bit & 7));
  return b;
}

MessageBuilder EncodeAddress(uint16_t type, uint16_t flags, const AddressSpec& s, uint32_t index) {
  MessageBuilder m(type, flags);
  ifaddrmsg h{};
  h.ifa_family = static_cast<uint8_t>(s.local.family);
  h.ifa_prefixlen = s.prefix_len;
  h.ifa_scope = s.scope.value_or(RT_SCOPE_UNIVERSE);
  h.ifa_index = index;
  m.PutHeader(h);
  PutIp(m, IFA_LOCAL, s.local);
  // IFA_ADDRESS is the peer on point-to-point links, else the local address again (as ip(8) sends).
  PutIp(m, IFA_ADDRESS, s.peer ? *s.peer : s.local);
  if (type != RTM_NEWADDR) return m;
  if (s.broadcast) PutIp(m, IFA_BROADCAST, *s.broadcast);
  if (s.label) m.PutString(IFA_LABEL, *s.label);
  if (s.valid_lifetime || s.preferred_lifetime) {
    ifa_cacheinfo ci{};
    ci.ifa_valid = s.valid_lifetime.value_or(0xffffffffu);
    ci.ifa_prefered = s.preferred_lifetime.value_or(ci.ifa_valid);
    m.PutAttr(IFA_CACHEINFO, &ci, sizeof(ci));
  }
  if (s.no_dad) m.PutU32(IFA_FLAGS, IFA_F_NODAD);
  return m;
}

Result<AddressInfo> DecodeAddress(const Message& m) {
  auto h = ReadStruct<ifaddrmsg>(m.payload);
  if (!h) return Error::Protocol("truncated ifaddrmsg in RTM_NEWADDR");
  AddressInfo a;
  a.family = h->ifa_family;
  // Other families (MCTP, Phonet...) answer an AF_UNSPEC dump too: returned bare, for the caller
  // to skip (IsIp), not as an error that would fail the whole dump.
  if (!a.IsIp()) return a;
  AttrTable<IFA_MAX + 1> t;
  if (!ParseAttrs(m.payload.subspan(NLMSG_ALIGN(sizeof(ifaddrmsg))), t)) {
    return Error::Protocol("malformed attributes in RTM_NEWADDR");
  }
  a.prefix_len = h->ifa_prefixlen;
  a.index = h->ifa_index;
  a.scope = h->ifa_scope;
  a.flags = AttrU32(t[IFA_FLAGS]).value_or(h->ifa_flags);
  a.local = IpAddr::FromBytes(a.family, t[IFA_LOCAL]);
  a.address = IpAddr::FromBytes(a.family, t[IFA_ADDRESS]);
  a.broadcast = IpAddr::FromBytes(a.family, t[IFA_BROADCAST]);
  if (auto label = AttrString(t[IFA_LABEL])) a.label = label;
  if (t[IFA_CACHEINFO] && t[IFA_CACHEINFO]->size() >= sizeof(ifa_cacheinfo)) {
    auto ci = ReadStruct<ifa_cacheinfo>(*t[IFA_CACHEINFO]);
    a.valid_lifetime = ci->ifa_valid;
    a.preferred_lifetime = ci->ifa_prefered;
  }
  return a;
}

Result<AddressInfo> AddAddress(Namespace& ns, const AddressSpec& s) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto idx = ResolveIndexes(**sock, {&s.link});
  if (!idx) return std::move(idx.error());
  const uint32_t index = (*idx)[0];
  // The kernel echoes a new IPv4 address (NLM_F_ECHO) but not an IPv6 one; IPv6 instead answers a
  // non-dump RTM_GETADDR, sent in the same sendmsg. Either way: one round trip, the kernel's view
  // (flags such as tentative, the scope it derived, lifetimes).
  std::vector<MessageBuilder> batch;
  batch.push_back(EncodeAddress(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, s, index));
  if (s.local.family == AF_INET6) {
    MessageBuilder get(RTM_GETADDR, NLM_F_REQUEST);
    ifaddrmsg h{};
    h.ifa_family = AF_INET6;
    h.ifa_index = index;
    get.PutHeader(h);
    PutIp(get, IFA_ADDRESS, s.local);
    batch.push_back(std::move(get));
  }
  auto outcomes = Transact(**sock, batch);
  if (!outcomes) return std::move(outcomes.error());
  if ((*outcomes)[0].ack.errnum != 0) return RefusalError((*outcomes)[0].ack, "addAddress", Describe(s));
  for (const RequestOutcome& o : *outcomes) {
    if (auto m = FirstReply(o, RTM_NEWADDR)) return DecodeAddress(*m);
  }
  return Error::Protocol("no RTM_NEWADDR came back for " + Describe(s));
}

Status DeleteAddress(Namespace& ns, const AddressSpec& s) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto idx = ResolveIndexes(**sock, {&s.link});
  if (!idx) return std::move(idx.error());
  auto out = TransactOne(**sock, EncodeAddress(RTM_DELADDR, NLM_F_REQUEST, s, (*idx)[0]));
  if (!out) return std::move(out.error().In("deleteAddress", Describe(s)));
  return OkStatus();
}

Result<std::vector<AddressInfo>> ListAddresses(Namespace& ns, const std::optional<LinkRefArg>& link, int family) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto index = ResolveOptional(**sock, link);
  if (!index) return std::move(index.error());
  MessageBuilder req(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg h{};
  h.ifa_family = static_cast<uint8_t>(family);
  h.ifa_index = *index;  // filtered by the kernel (strict dump checking)
  req.PutHeader(h);
  const uint32_t want = *index;
  auto out = DumpAll<AddressInfo>(**sock, req, RTM_NEWADDR, DecodeAddress,
                                  [want](const AddressInfo& a) { return a.IsIp() && (want == 0 || a.index == want); });
  if (!out) return std::move(out.error().In("listAddresses", link ? link->Describe() : "addresses"));
  return out;
}

}  // namespace nlkit
