#include "families/conntrack.h"

#include "families/nft_uapi.h"

#include <errno.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "families/nfnetlink.h"
#include "netlink/engine.h"

namespace nlkit {

namespace {

uint16_t Type(uint16_t msg) { return NfnlType(NFNL_SUBSYS_CTNETLINK, msg); }

MessageBuilder CtMessage(uint16_t msg, uint16_t flags, int family) {
  return NfnlMessage(NFNL_SUBSYS_CTNETLINK, msg, flags, static_cast<uint8_t>(family));
}

// CTA_TUPLE_*: { CTA_TUPLE_IP { src, dst }, CTA_TUPLE_PROTO { num, ports } }.
std::optional<ConntrackTuple> DecodeTuple(Bytes area, int family) {
  AttrTable<CTA_TUPLE_MAX + 1> t;
  if (!ParseAttrs(area, t) || !t[CTA_TUPLE_IP] || !t[CTA_TUPLE_PROTO]) return std::nullopt;
  AttrTable<CTA_IP_MAX + 1> ip;
  AttrTable<CTA_PROTO_MAX + 1> proto;
  if (!ParseAttrs(*t[CTA_TUPLE_IP], ip) || !ParseAttrs(*t[CTA_TUPLE_PROTO], proto)) return std::nullopt;
  const bool v4 = family == AF_INET;
  auto src = IpAddr::FromBytes(family, ip[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC]);
  auto dst = IpAddr::FromBytes(family, ip[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST]);
  auto num = AttrU8(proto[CTA_PROTO_NUM]);
  if (!src || !dst || !num) return std::nullopt;
  ConntrackTuple out;
  out.src = *src;
  out.dst = *dst;
  out.proto = *num;
  out.sport = AttrBe16(proto[CTA_PROTO_SRC_PORT]).value_or(0);
  out.dport = AttrBe16(proto[CTA_PROTO_DST_PORT]).value_or(0);
  return out;
}

void PutTuple(MessageBuilder& m, uint16_t type, const ConntrackTuple& t, int family) {
  const bool v4 = family == AF_INET;
  const size_t tuple = m.BeginNest(type);
  const size_t ip = m.BeginNest(CTA_TUPLE_IP);
  PutIp(m, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, t.src);
  PutIp(m, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, t.dst);
  m.EndNest(ip);
  const size_t proto = m.BeginNest(CTA_TUPLE_PROTO);
  m.PutU8(CTA_PROTO_NUM, t.proto);
  if (t.sport || t.dport) {
    m.PutBe16(CTA_PROTO_SRC_PORT, t.sport);
    m.PutBe16(CTA_PROTO_DST_PORT, t.dport);
  }
  m.EndNest(proto);
  m.EndNest(tuple);
}

// Errors that mean "no conntrack to look at": the subsystem is not there (nfnetlink answers
// EINVAL for a subsystem it does not have, when nf_conntrack_netlink cannot be loaded), or the
// family has no table.
bool NothingTracked(const Error& e) {
  return e.kind == ErrorKind::kNetlink && (e.errnum == ENOENT || e.errnum == EINVAL || e.errnum == EOPNOTSUPP ||
                                           e.errnum == EPROTONOSUPPORT || e.errnum == EAFNOSUPPORT);
}

}  // namespace

Result<ConntrackEntry> DecodeConntrack(const Message& m) {
  auto h = ReadStruct<nfgenmsg>(m.payload);
  if (!h) return Error::Protocol("truncated nfgenmsg in IPCTNL_MSG_CT_NEW");
  AttrTable<CTA_MAX + 1> t;
  if (!ParseAttrs(m.payload.subspan(NLMSG_ALIGN(sizeof(nfgenmsg))), t)) {
    return Error::Protocol("malformed attributes in IPCTNL_MSG_CT_NEW");
  }
  ConntrackEntry e;
  e.family = h->nfgen_family;
  if (e.family != AF_INET && e.family != AF_INET6) return Error::Protocol("conntrack entry of family " + std::to_string(e.family));
  auto orig = t[CTA_TUPLE_ORIG] ? DecodeTuple(*t[CTA_TUPLE_ORIG], e.family) : std::nullopt;
  auto reply = t[CTA_TUPLE_REPLY] ? DecodeTuple(*t[CTA_TUPLE_REPLY], e.family) : std::nullopt;
  if (!orig || !reply) return Error::Protocol("conntrack entry without its tuples");
  e.orig = *orig;
  e.reply = *reply;
  e.status = AttrBe32(t[CTA_STATUS]).value_or(0);
  e.zone = AttrBe16(t[CTA_ZONE]);
  return e;
}

MessageBuilder EncodeConntrackDelete(const ConntrackEntry& e) {
  MessageBuilder m = CtMessage(IPCTNL_MSG_CT_DELETE, 0, e.family);
  PutTuple(m, CTA_TUPLE_ORIG, e.orig, e.family);
  if (e.zone) m.PutBe16(CTA_ZONE, *e.zone);
  return m;
}

namespace {

// The kernel's CTA_FILTER flags (net/netfilter/nf_internals.h; not in the uapi headers).
constexpr uint32_t kFilterProtoNum = 1u << 3;
constexpr uint32_t kFilterProtoDstPort = 1u << 5;

Result<std::vector<ConntrackEntry>> DumpEntries(NetlinkSocket& sock, int family, const std::optional<ConntrackDumpFilter>& filter,
                                                const std::function<bool(const ConntrackEntry&)>& matches) {
  MessageBuilder req = CtMessage(IPCTNL_MSG_CT_GET, NLM_F_DUMP, family);
  if (filter) {
    const size_t tuple = req.BeginNest(CTA_TUPLE_ORIG);
    const size_t proto = req.BeginNest(CTA_TUPLE_PROTO);
    req.PutU8(CTA_PROTO_NUM, filter->proto);
    req.PutBe16(CTA_PROTO_DST_PORT, filter->dport);
    req.EndNest(proto);
    req.EndNest(tuple);
    const size_t f = req.BeginNest(CTA_FILTER);
    req.PutU32(CTA_FILTER_ORIG_FLAGS, kFilterProtoNum | kFilterProtoDstPort);
    req.PutU32(CTA_FILTER_REPLY_FLAGS, 0);
    req.EndNest(f);
  }
  return DumpAll<ConntrackEntry>(sock, req, Type(IPCTNL_MSG_CT_NEW), DecodeConntrack, matches);
}

}  // namespace

Result<size_t> DeleteConntrackWhere(NetlinkSocket& sock, int family, const std::optional<ConntrackDumpFilter>& filter,
                                    const std::function<bool(const ConntrackEntry&)>& matches) {
  auto entries = DumpEntries(sock, family, filter, matches);
  // A kernel before 5.10 ignores CTA_FILTER; one that refuses it (EINVAL, EOPNOTSUPP) is asked
  // again without it.
  if (!entries && filter && entries.error().kind == ErrorKind::kNetlink &&
      (entries.error().errnum == EINVAL || entries.error().errnum == EOPNOTSUPP)) {
    entries = DumpEntries(sock, family, std::nullopt, matches);
  }
  if (!entries) {
    if (NothingTracked(entries.error())) return size_t{0};
    return std::move(entries.error());
  }
  if (entries->empty()) return size_t{0};
  std::vector<MessageBuilder> deletes;
  for (const ConntrackEntry& e : *entries) deletes.push_back(EncodeConntrackDelete(e));
  auto outcomes = Transact(sock, deletes);
  if (!outcomes) return std::move(outcomes.error());
  size_t deleted = 0;
  for (const RequestOutcome& o : *outcomes) {
    if (o.ack.errnum == 0) {
      ++deleted;
    } else if (o.ack.errnum != ENOENT) {
      return RefusalError(o.ack, {}, {});
    }
  }
  return deleted;
}

}  // namespace nlkit
