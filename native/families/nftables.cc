#include "families/nftables.h"

#include "families/nft_uapi.h"

#include "families/nfnetlink.h"
#include "families/nft_expr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>

namespace nlkit::nft {

namespace {

// Linux 6.3 added the DESTROY messages; the uapi headers this builds against may predate them.
constexpr uint16_t kMsgDestroyTable = 26;

uint16_t Type(uint16_t msg) { return NfnlType(NFNL_SUBSYS_NFTABLES, msg); }

MessageBuilder NftMessage(uint16_t msg, uint16_t flags, uint8_t family) { return NfnlMessage(NFNL_SUBSYS_NFTABLES, msg, flags, family); }

MessageBuilder BatchMarker(uint16_t type, uint32_t generation) {
  MessageBuilder m(type, NLM_F_REQUEST);
  nfgenmsg h{};
  h.nfgen_family = AF_UNSPEC;
  h.version = NFNETLINK_V0;
  h.res_id = htons(NFNL_SUBSYS_NFTABLES);
  m.PutHeader(h);
  if (generation) m.PutBe32(NFNL_BATCH_GENID, generation);
  return m;
}

// The attributes after nfgenmsg, or a Protocol error.
template <size_t N>
Status NftAttrs(const nlkit::Message& m, AttrTable<N>& t, const char* what) {
  if (m.payload.size() < NLMSG_ALIGN(sizeof(nfgenmsg)) || !ParseAttrs(m.payload.subspan(NLMSG_ALIGN(sizeof(nfgenmsg))), t)) {
    return Error::Protocol(std::string("malformed ") + what);
  }
  return OkStatus();
}

}  // namespace

MessageBuilder NewTable(uint8_t family, const std::string& table) {
  // NLM_F_CREATE without NLM_F_EXCL: succeeds when the table exists.
  MessageBuilder m = NftMessage(NFT_MSG_NEWTABLE, NLM_F_CREATE, family);
  m.PutString(NFTA_TABLE_NAME, table);
  return m;
}

MessageBuilder NewBaseChain(uint8_t family, const std::string& table, const std::string& chain, const char* type,
                            uint32_t hook, int32_t priority) {
  MessageBuilder m = NftMessage(NFT_MSG_NEWCHAIN, NLM_F_CREATE, family);
  m.PutString(NFTA_CHAIN_TABLE, table);
  m.PutString(NFTA_CHAIN_NAME, chain);
  const size_t h = m.BeginNest(NFTA_CHAIN_HOOK);
  m.PutBe32(NFTA_HOOK_HOOKNUM, hook);
  m.PutBe32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(priority));
  m.EndNest(h);
  m.PutBe32(NFTA_CHAIN_POLICY, NF_ACCEPT);
  m.PutString(NFTA_CHAIN_TYPE, type);
  return m;
}

MessageBuilder NewRule(uint8_t family, const std::string& table, const std::string& chain, bool at_head) {
  MessageBuilder m = NftMessage(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_ECHO | (at_head ? 0 : NLM_F_APPEND), family);
  m.PutString(NFTA_RULE_TABLE, table);
  m.PutString(NFTA_RULE_CHAIN, chain);
  return m;
}

MessageBuilder DelRule(uint8_t family, const std::string& table, const std::string& chain, uint64_t handle) {
  MessageBuilder m = NftMessage(NFT_MSG_DELRULE, 0, family);
  m.PutString(NFTA_RULE_TABLE, table);
  m.PutString(NFTA_RULE_CHAIN, chain);
  m.PutU64(NFTA_RULE_HANDLE, htobe64(handle));
  return m;
}

MessageBuilder DelTable(uint8_t family, const std::string& table, bool destroy) {
  MessageBuilder m = NftMessage(destroy ? kMsgDestroyTable : static_cast<uint16_t>(NFT_MSG_DELTABLE), 0, family);
  m.PutString(NFTA_TABLE_NAME, table);
  return m;
}

MessageBuilder NewMap(uint8_t family, const std::string& table, const std::string& name, uint32_t id,
                      uint32_t key_type, uint32_t key_len, uint32_t data_type, uint32_t data_len) {
  MessageBuilder m = NftMessage(NFT_MSG_NEWSET, NLM_F_CREATE, family);
  m.PutString(NFTA_SET_TABLE, table);
  m.PutString(NFTA_SET_NAME, name);
  m.PutBe32(NFTA_SET_FLAGS, NFT_SET_MAP);
  m.PutBe32(NFTA_SET_KEY_TYPE, key_type);
  m.PutBe32(NFTA_SET_KEY_LEN, key_len);
  m.PutBe32(NFTA_SET_DATA_TYPE, data_type);
  m.PutBe32(NFTA_SET_DATA_LEN, data_len);
  m.PutBe32(NFTA_SET_ID, id);
  return m;
}

namespace {
void PutElementList(MessageBuilder& m, const std::string& table, const std::string& map, uint32_t set_id) {
  m.PutString(NFTA_SET_ELEM_LIST_TABLE, table);
  m.PutString(NFTA_SET_ELEM_LIST_SET, map);
  if (set_id) m.PutBe32(NFTA_SET_ELEM_LIST_SET_ID, set_id);
}
void PutData(MessageBuilder& m, uint16_t type, const std::vector<uint8_t>& value) {
  const size_t n = m.BeginNest(type);
  m.PutAttr(NFTA_DATA_VALUE, value.data(), value.size());
  m.EndNest(n);
}
}  // namespace

namespace {
// One element in an element-list message: its key, its data when `data` is given (a map), and a
// comment when one is given, in the same TLV as a rule's (NFTNL_UDATA_SET_ELEM_COMMENT is type 0 too).
MessageBuilder ElementMessage(uint16_t msg, uint16_t flags, uint8_t family, const std::string& table, const std::string& set,
                              uint32_t set_id, const std::vector<uint8_t>& key, const std::vector<uint8_t>* data,
                              const std::string& comment) {
  MessageBuilder m = NftMessage(msg, flags, family);
  PutElementList(m, table, set, set_id);
  const size_t list = m.BeginNest(NFTA_SET_ELEM_LIST_ELEMENTS);
  const size_t elem = m.BeginNest(NFTA_LIST_ELEM);
  PutData(m, NFTA_SET_ELEM_KEY, key);
  if (data) PutData(m, NFTA_SET_ELEM_DATA, *data);
  if (!comment.empty()) {
    const auto userdata = CommentUserdata(comment);
    m.PutAttr(NFTA_SET_ELEM_USERDATA, userdata.data(), userdata.size());
  }
  m.EndNest(elem);
  m.EndNest(list);
  return m;
}
}  // namespace

MessageBuilder NewMapElement(uint8_t family, const std::string& table, const std::string& map, uint32_t set_id,
                             const std::vector<uint8_t>& key, const std::vector<uint8_t>& data,
                             const std::string& comment) {
  return ElementMessage(NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, family, table, map, set_id, key, &data, comment);
}

MessageBuilder NewSet(uint8_t family, const std::string& table, const std::string& name, uint32_t id,
                      uint32_t key_type, uint32_t key_len, bool key_host_order) {
  MessageBuilder m = NftMessage(NFT_MSG_NEWSET, NLM_F_CREATE, family);
  m.PutString(NFTA_SET_TABLE, table);
  m.PutString(NFTA_SET_NAME, name);
  m.PutBe32(NFTA_SET_KEY_TYPE, key_type);
  m.PutBe32(NFTA_SET_KEY_LEN, key_len);
  m.PutBe32(NFTA_SET_ID, id);
  if (key_host_order) {
    // libnftnl's udata TLV: type NFTNL_UDATA_SET_KEYBYTEORDER (0), length 4, a host-order u32
    // BYTEORDER_HOST_ENDIAN (1). Read off `nft --debug=mnl add set ... { type ifname; }`.
    const uint32_t host_endian = 1;
    uint8_t udata[6] = {0, 4};
    std::memcpy(udata + 2, &host_endian, sizeof(host_endian));
    m.PutAttr(NFTA_SET_USERDATA, udata, sizeof(udata));
  }
  return m;
}

MessageBuilder NewSetElement(uint8_t family, const std::string& table, const std::string& set, uint32_t set_id,
                             const std::vector<uint8_t>& key) {
  return ElementMessage(NFT_MSG_NEWSETELEM, NLM_F_CREATE, family, table, set, set_id, key, nullptr, {});
}

MessageBuilder DelMapElement(uint8_t family, const std::string& table, const std::string& map,
                             const std::vector<uint8_t>& key) {
  return ElementMessage(NFT_MSG_DELSETELEM, 0, family, table, map, 0, key, nullptr, {});
}

namespace {
std::vector<uint8_t> ValueOf(const std::optional<Bytes>& nest) {
  if (!nest) return {};
  AttrTable<NFTA_DATA_MAX + 1> t;
  if (!ParseAttrs(*nest, t) || !t[NFTA_DATA_VALUE]) return {};
  return std::vector<uint8_t>(t[NFTA_DATA_VALUE]->begin(), t[NFTA_DATA_VALUE]->end());
}
}  // namespace

Status DecodeElements(const nlkit::Message& m, std::vector<ElementInfo>& out) {
  AttrTable<NFTA_SET_ELEM_LIST_MAX + 1> t;
  NLKIT_TRY(NftAttrs(m, t, "NFT_MSG_NEWSETELEM"));
  if (!t[NFTA_SET_ELEM_LIST_ELEMENTS]) return OkStatus();
  AttrIterator it(*t[NFTA_SET_ELEM_LIST_ELEMENTS]);
  while (auto elem = it.Next()) {
    AttrTable<NFTA_SET_ELEM_MAX + 1> e;
    if (!ParseAttrs(elem->payload, e)) return Error::Protocol("malformed set element");
    out.push_back(ElementInfo{ValueOf(e[NFTA_SET_ELEM_KEY]), ValueOf(e[NFTA_SET_ELEM_DATA]),
                              e[NFTA_SET_ELEM_USERDATA] ? CommentFromUserdata(*e[NFTA_SET_ELEM_USERDATA]) : std::string()});
  }
  return it.malformed() ? Status(Error::Protocol("malformed set element list")) : OkStatus();
}

Result<std::optional<ElementInfo>> GetMapElement(NetlinkSocket& sock, uint8_t family, const std::string& table,
                                                 const std::string& map, const std::vector<uint8_t>& key) {
  auto out = TransactOne(sock, ElementMessage(NFT_MSG_GETSETELEM, 0, family, table, map, 0, key, nullptr, {}));
  if (!out) {
    if (out.error().kind == ErrorKind::kNetlink && out.error().errnum == ENOENT) return std::optional<ElementInfo>{};
    return std::move(out.error().In("getMapElement", "map " + map));
  }
  auto reply = ReplyOf(*out, Type(NFT_MSG_NEWSETELEM), "NFT_MSG_GETSETELEM");
  if (!reply) return std::move(reply.error());
  std::vector<ElementInfo> found;
  NLKIT_TRY(DecodeElements(*reply, found));
  if (found.size() != 1 || found[0].key != key) return Error::Protocol("NFT_MSG_GETSETELEM answered with another element");
  return std::optional<ElementInfo>(std::move(found[0]));
}

Result<std::vector<ElementInfo>> DumpMapElements(NetlinkSocket& sock, uint8_t family, const std::string& table,
                                                 const std::string& map) {
  MessageBuilder req = NftMessage(NFT_MSG_GETSETELEM, NLM_F_DUMP, family);
  PutElementList(req, table, map, 0);
  std::vector<ElementInfo> out;
  Status s = Dump(
      sock, req,
      [&](const nlkit::Message& m) -> Status {
        if (m.header.nlmsg_type != Type(NFT_MSG_NEWSETELEM)) return OkStatus();
        return DecodeElements(m, out);
      },
      [&] { out.clear(); });
  if (!s.ok()) {
    if (s.error().kind == ErrorKind::kNetlink && s.error().errnum == ENOENT) return std::vector<ElementInfo>{};
    return std::move(s.error().In("listPortMappings", "map " + map));
  }
  return out;
}

Result<uint32_t> GetGeneration(NetlinkSocket& sock) {
  auto out = TransactOne(sock, NftMessage(NFT_MSG_GETGEN, 0, AF_UNSPEC));
  if (!out) return std::move(out.error().In("nftables", "generation"));
  auto reply = ReplyOf(*out, Type(NFT_MSG_NEWGEN), "NFT_MSG_GETGEN");
  if (!reply) return std::move(reply.error());
  AttrTable<NFTA_GEN_MAX + 1> t;
  NLKIT_TRY(NftAttrs(*reply, t, "NFT_MSG_NEWGEN"));
  if (auto id = AttrBe32(t[NFTA_GEN_ID])) return *id;
  return Error::Protocol("NFT_MSG_GETGEN without NFTA_GEN_ID");
}

Result<RuleInfo> DecodeRule(const nlkit::Message& m) {
  AttrTable<NFTA_RULE_MAX + 1> t;
  NLKIT_TRY(NftAttrs(m, t, "NFT_MSG_NEWRULE"));
  RuleInfo r;
  r.chain = AttrString(t[NFTA_RULE_CHAIN]).value_or("");
  if (auto h = AttrU64(t[NFTA_RULE_HANDLE])) r.handle = be64toh(*h);
  if (t[NFTA_RULE_USERDATA]) r.comment = CommentFromUserdata(*t[NFTA_RULE_USERDATA]);
  return r;
}

Result<TableInfo> DecodeTable(const nlkit::Message& m) {
  AttrTable<NFTA_TABLE_MAX + 1> t;
  NLKIT_TRY(NftAttrs(m, t, "NFT_MSG_NEWTABLE"));
  return TableInfo{AttrString(t[NFTA_TABLE_NAME]).value_or(""), AttrBe32(t[NFTA_TABLE_FLAGS]).value_or(0)};
}

Result<ChainInfo> DecodeChain(const nlkit::Message& m) {
  AttrTable<NFTA_CHAIN_MAX + 1> t;
  NLKIT_TRY(NftAttrs(m, t, "NFT_MSG_NEWCHAIN"));
  ChainInfo c;
  c.table = AttrString(t[NFTA_CHAIN_TABLE]).value_or("");
  c.name = AttrString(t[NFTA_CHAIN_NAME]).value_or("");
  c.type = AttrString(t[NFTA_CHAIN_TYPE]).value_or("");
  c.policy = AttrBe32(t[NFTA_CHAIN_POLICY]);
  if (t[NFTA_CHAIN_HOOK]) {
    AttrTable<NFTA_HOOK_MAX + 1> h;
    if (ParseAttrs(*t[NFTA_CHAIN_HOOK], h)) {
      c.hook = AttrBe32(h[NFTA_HOOK_HOOKNUM]);
      if (auto p = AttrBe32(h[NFTA_HOOK_PRIORITY])) c.priority = static_cast<int32_t>(*p);
    }
  }
  return c;
}

Result<SetInfo> DecodeSet(const nlkit::Message& m) {
  AttrTable<NFTA_SET_MAX + 1> t;
  NLKIT_TRY(NftAttrs(m, t, "NFT_MSG_NEWSET"));
  SetInfo s;
  s.table = AttrString(t[NFTA_SET_TABLE]).value_or("");
  s.name = AttrString(t[NFTA_SET_NAME]).value_or("");
  s.flags = AttrBe32(t[NFTA_SET_FLAGS]).value_or(0);
  s.key_type = AttrBe32(t[NFTA_SET_KEY_TYPE]).value_or(0);
  s.key_len = AttrBe32(t[NFTA_SET_KEY_LEN]).value_or(0);
  s.data_type = AttrBe32(t[NFTA_SET_DATA_TYPE]).value_or(0);
  s.data_len = AttrBe32(t[NFTA_SET_DATA_LEN]).value_or(0);
  return s;
}

namespace {
// A dump whose ENOENT (no such table) means "nothing".
// Kernels differ in whether they filter chain and set dumps by table; `keep` filters here too.
template <typename T>
Result<std::vector<T>> DumpOrNone(NetlinkSocket& sock, MessageBuilder& req, uint16_t reply, Result<T> (*decode)(const nlkit::Message&),
                                  const char* what, const std::function<bool(const T&)>& keep = {}) {
  auto out = DumpAll<T>(sock, req, reply, decode, keep);
  if (!out && out.error().kind == ErrorKind::kNetlink && out.error().errnum == ENOENT) return std::vector<T>{};
  if (!out) return std::move(out.error().In("inspectNat", what));
  return out;
}
}  // namespace

Result<std::vector<TableInfo>> DumpTables(NetlinkSocket& sock, uint8_t family) {
  MessageBuilder req = NftMessage(NFT_MSG_GETTABLE, NLM_F_DUMP, family);
  return DumpOrNone<TableInfo>(sock, req, Type(NFT_MSG_NEWTABLE), DecodeTable, "tables");
}

Result<std::vector<ChainInfo>> DumpChains(NetlinkSocket& sock, uint8_t family, const std::string& table) {
  MessageBuilder req = NftMessage(NFT_MSG_GETCHAIN, NLM_F_DUMP, family);
  req.PutString(NFTA_CHAIN_TABLE, table);
  return DumpOrNone<ChainInfo>(sock, req, Type(NFT_MSG_NEWCHAIN), DecodeChain, "chains",
                               [&table](const ChainInfo& c) { return c.table == table; });
}

Result<std::vector<SetInfo>> DumpSets(NetlinkSocket& sock, uint8_t family, const std::string& table) {
  MessageBuilder req = NftMessage(NFT_MSG_GETSET, NLM_F_DUMP, family);
  req.PutString(NFTA_SET_TABLE, table);
  return DumpOrNone<SetInfo>(sock, req, Type(NFT_MSG_NEWSET), DecodeSet, "sets",
                             [&table](const SetInfo& s) { return s.table == table; });
}

std::optional<RuleInfo> EchoedRule(const RequestOutcome& outcome) {
  auto echo = FirstReply(outcome, Type(NFT_MSG_NEWRULE));
  if (!echo) return std::nullopt;
  auto rule = DecodeRule(*echo);
  if (!rule) return std::nullopt;
  return std::move(*rule);
}

Result<std::vector<RuleInfo>> DumpRules(NetlinkSocket& sock, uint8_t family, const std::string& table) {
  MessageBuilder req = NftMessage(NFT_MSG_GETRULE, NLM_F_DUMP, family);
  req.PutString(NFTA_RULE_TABLE, table);
  auto rules = DumpAll<RuleInfo>(sock, req, Type(NFT_MSG_NEWRULE), DecodeRule);
  if (!rules && rules.error().kind == ErrorKind::kNetlink && rules.error().errnum == ENOENT) {
    return std::vector<RuleInfo>{};
  }
  if (!rules) return std::move(rules.error().In("listRules", "table " + table));
  return rules;
}

std::string DescribeCommand(const MessageBuilder& m, int errnum) {
  AttrTable<8> t;
  const size_t head = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
  if (m.size() < head || !ParseAttrs(m.bytes().subspan(head), t)) return "an nftables command";
  const auto name = [&](size_t attr) { return AttrString(t[attr]).value_or("?"); };
  // A table, chain or set made with NLM_F_CREATE alone is accepted when it exists as nlkit makes
  // it. EEXIST means it exists otherwise (another key or value type, chain type or hook); a base
  // chain at another priority is EOPNOTSUPP on 6.18 (nlkit's chains are plain nat and filter
  // chains on inet hooks, which a kernel with nftables' nat support has, so it means the same).
  const std::string differs = errnum == EEXIST || errnum == EOPNOTSUPP ? ", which exists with another definition than nlkit's (made by something "
                                                 "else, or by another version: remove it, or configure another natTable)"
                                               : "";
  switch (m.type() & 0xff) {
    case NFT_MSG_NEWTABLE: return "create table " + name(NFTA_TABLE_NAME);
    case NFT_MSG_NEWCHAIN: return "create chain " + name(NFTA_CHAIN_NAME) + differs;
    case NFT_MSG_NEWSET: {
      const bool map = (AttrBe32(t[NFTA_SET_FLAGS]).value_or(0) & NFT_SET_MAP) != 0;
      return std::string(map ? "create map " : "create set ") + name(NFTA_SET_NAME) + differs;
    }
    case NFT_MSG_NEWRULE: return "add a rule to chain " + name(NFTA_RULE_CHAIN);
    case NFT_MSG_DELRULE: return "delete a rule from chain " + name(NFTA_RULE_CHAIN);
    case NFT_MSG_NEWSETELEM: return "add an element to set " + name(NFTA_SET_ELEM_LIST_SET);
    case NFT_MSG_DELSETELEM: return "delete an element from set " + name(NFTA_SET_ELEM_LIST_SET);
    case NFT_MSG_DELCHAIN: return "delete chain " + name(NFTA_CHAIN_NAME);
    case NFT_MSG_DELSET: return "delete set " + name(NFTA_SET_NAME);
    case NFT_MSG_DELTABLE: return "delete table " + name(NFTA_TABLE_NAME);
    default: return "an nftables command";
  }
}

Result<std::vector<RequestOutcome>> CommitBatch(NetlinkSocket& sock, std::vector<MessageBuilder> messages,
                                                uint32_t generation) {
  std::vector<MessageBuilder> batch;
  batch.reserve(messages.size() + 2);
  batch.push_back(BatchMarker(NFNL_MSG_BATCH_BEGIN, generation));
  for (auto& m : messages) batch.push_back(std::move(m));
  batch.push_back(BatchMarker(NFNL_MSG_BATCH_END, 0));
  std::vector<bool> wait(batch.size(), true);
  wait.front() = false;
  wait.back() = false;
  auto outcomes = SendBatch(sock, batch, wait);
  if (!outcomes) return std::move(outcomes.error());
  const RequestOutcome& begin = outcomes->front();
  if (begin.ack.errnum != 0) return RefusalError(begin.ack, "nftables batch", "");
  // Name what was refused, only on failure. A command answered twice carries a commit-time
  // failure (engine.cc): the transaction as a whole failed there, not that command.
  for (size_t i = 1; i + 1 < outcomes->size(); ++i) {
    RequestOutcome& o = (*outcomes)[i];
    if (o.ack.errnum != 0) o.step = o.answers > 1 ? "commit the transaction" : DescribeCommand(batch[i], o.ack.errnum);
  }
  return std::vector<RequestOutcome>(outcomes->begin() + 1, outcomes->end() - 1);
}

}  // namespace nlkit::nft
