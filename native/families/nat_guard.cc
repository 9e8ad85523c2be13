#include "families/nat_guard.h"

#include "families/nft_uapi.h"
#include "families/nat.h"

#include <sys/socket.h>

#include "families/nft_expr.h"

namespace nlkit {

const char kLocalnetGuardComment[] = "nlkit localnet guard: 127.0.0.0/8 only from lo (CVE-2020-8558)";

namespace {
constexpr const char* kGuardChain = "guard";
constexpr int32_t kPriorityRaw = -300;
}  // namespace

MessageBuilder LocalnetGuardChain(const std::string& table) {
  return nft::NewBaseChain(nft::kFamilyInet, table, kGuardChain, "filter", NF_INET_PRE_ROUTING, kPriorityRaw);
}

// meta nfproto ipv4 ip daddr 127.0.0.0/8 iifname != "lo" drop
MessageBuilder LocalnetGuardRule(const std::string& table) {
  MessageBuilder m = nft::NewRule(nft::kFamilyInet, table, kGuardChain);
  nft::Expressions e(m);
  e.MetaLoad(NFT_META_NFPROTO);
  e.Cmp(NFT_CMP_EQ, {static_cast<uint8_t>(NFPROTO_IPV4)});
  e.PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 16, 1);  // the destination's first byte: a /8
  e.Cmp(NFT_CMP_EQ, {127});
  e.MetaLoad(NFT_META_IIFNAME);
  e.Cmp(NFT_CMP_NEQ, nft::IfnameValue("lo"));
  e.Verdict(NF_DROP);
  e.Close();
  nft::PutRuleComment(m, kLocalnetGuardComment);
  return m;
}

void AppendLocalnetGuard(std::vector<MessageBuilder>& batch, const std::string& table) {
  batch.push_back(LocalnetGuardChain(table));
  batch.push_back(LocalnetGuardRule(table));
}

Result<bool> EnsureLocalnetGuard(Namespace& ns, const std::string& table) {
  return AddRulesOnce(
      ns, table, kLocalnetGuardComment,
      [&] {
        std::vector<MessageBuilder> out;
        AppendLocalnetGuard(out, table);
        return out;
      },
      "guard localnet", "the localnet guard rule");
}

}  // namespace nlkit
