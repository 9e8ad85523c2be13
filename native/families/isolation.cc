#include "families/isolation.h"
// Before the uapi headers: linux/in.h (via linux/netfilter.h) must come after glibc's netinet/in.h.
#include "families/nat.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include "families/nft_expr.h"

namespace nlkit {

namespace {
constexpr const char* kSet = "isolated_nets";
constexpr uint32_t kTypeIfname = 41;  // nft's datatype id for ifname (nftables' datatype.h)
constexpr uint32_t kIfnameLen = 16;   // IFNAMSIZ
constexpr uint32_t kSetId = 1;        // names the set for the rule in the same batch

MessageBuilder IsolationRule(const std::string& table, const std::string& bridge) {
  MessageBuilder m = nft::NewRule(nft::kFamilyInet, table, "forward");
  nft::Expressions e(m);
  e.MetaLoad(NFT_META_IIFNAME);
  e.Cmp(NFT_CMP_EQ, nft::IfnameValue(bridge));
  e.MetaLoad(NFT_META_OIFNAME);
  e.Cmp(NFT_CMP_NEQ, nft::IfnameValue(bridge));
  e.Lookup(kSet, kSetId, nft::kReg1, 0);
  e.Verdict(NF_DROP);
  e.Close();
  nft::PutRuleComment(m, IsolationComment(bridge));
  return m;
}
}  // namespace

std::string IsolationComment(const std::string& bridge) { return "nlkit isolate " + bridge; }

Result<bool> AddNetworkIsolation(Namespace& ns, const std::string& table, const std::string& bridge) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  const std::string comment = IsolationComment(bridge);
  return WithGenerationRetry<bool>([&]() -> Result<bool> {
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error());
    auto rules = nft::DumpRules(**sock, nft::kFamilyInet, table);
    if (!rules) return std::move(rules.error());
    for (const auto& r : *rules) {
      if (r.comment == comment) return false;
    }
    std::vector<MessageBuilder> batch = NatTableAndChains(table);
    batch.push_back(nft::NewSet(nft::kFamilyInet, table, kSet, kSetId, kTypeIfname, kIfnameLen, true));
    batch.push_back(nft::NewSetElement(nft::kFamilyInet, table, kSet, kSetId, nft::IfnameValue(bridge)));
    batch.push_back(IsolationRule(table, bridge));
    auto outcomes = nft::CommitBatch(**sock, std::move(batch), *gen);
    if (!outcomes) return std::move(outcomes.error().In("addNetworkIsolation", bridge));
    for (const auto& o : *outcomes) {
      if (o.ack.errnum != 0) return NatBatchError(*outcomes, "addNetworkIsolation", bridge);
    }
    return true;
  });
}

Result<bool> RemoveNetworkIsolation(Namespace& ns, const std::string& table, const std::string& bridge) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  const std::string comment = IsolationComment(bridge);
  return WithGenerationRetry<bool>([&]() -> Result<bool> {
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error());
    auto rules = nft::DumpRules(**sock, nft::kFamilyInet, table);
    if (!rules) return std::move(rules.error());
    std::vector<MessageBuilder> batch;
    for (const auto& r : *rules) {
      if (r.comment == comment) batch.push_back(nft::DelRule(nft::kFamilyInet, table, r.chain, r.handle));
    }
    if (batch.empty()) return false;
    // A batch is atomic: deleting an element someone already removed would undo the rule's
    // deletion too, so the element goes only if it is there.
    auto elements = nft::DumpMapElements(**sock, nft::kFamilyInet, table, kSet);
    if (!elements) return std::move(elements.error());
    const std::vector<uint8_t> key = nft::IfnameValue(bridge);
    for (const auto& el : *elements) {
      if (el.key == key) batch.push_back(nft::DelMapElement(nft::kFamilyInet, table, kSet, key));
    }
    auto outcomes = nft::CommitBatch(**sock, std::move(batch), *gen);
    if (!outcomes) return std::move(outcomes.error().In("removeNetworkIsolation", bridge));
    for (const auto& o : *outcomes) {
      if (o.ack.errnum != 0) return NatBatchError(*outcomes, "removeNetworkIsolation", bridge);
    }
    return true;
  });
}

}  // namespace nlkit
