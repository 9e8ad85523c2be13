#include "families/isolation.h"

#include "families/nft_uapi.h"
#include "families/nat.h"

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
  const std::vector<uint8_t> key = nft::IfnameValue(bridge);
  // The set (made if missing) and this bridge's element in it.
  const auto set_and_element = [&] {
    std::vector<MessageBuilder> out;
    out.push_back(nft::NewSet(nft::kFamilyInet, table, kSet, kSetId, kTypeIfname, kIfnameLen, true));
    out.push_back(nft::NewSetElement(nft::kFamilyInet, table, kSet, kSetId, key));
    return out;
  };
  return AddRulesOnce(
      ns, table, IsolationComment(bridge),
      [&] {
        std::vector<MessageBuilder> out = set_and_element();
        out.push_back(IsolationRule(table, bridge));
        return out;
      },
      "addNetworkIsolation", bridge,
      // The rule drops what goes from its bridge to any bridge in the set; the bridge's own element
      // is what makes the other bridges' rules drop what comes to it. A rule whose element went
      // (deleted by hand, or a removal that found no rule) gets it back.
      [&](NetlinkSocket& sock) -> Result<std::vector<MessageBuilder>> {
        auto elements = nft::DumpMapElements(sock, nft::kFamilyInet, table, kSet);
        if (!elements) return std::move(elements.error());
        for (const auto& el : *elements) {
          if (el.key == key) return std::vector<MessageBuilder>{};
        }
        return set_and_element();
      });
}

Result<bool> RemoveNetworkIsolation(Namespace& ns, const std::string& table, const std::string& bridge) {
  const std::string comment = IsolationComment(bridge);
  const std::vector<uint8_t> key = nft::IfnameValue(bridge);
  auto removed = RemoveRulesWhere(
      ns, table, [&](const nft::RuleInfo& r, const std::vector<nft::RuleInfo>&) { return r.comment == comment; },
      [&](NetlinkSocket& sock, std::vector<MessageBuilder>& batch) -> Status {
        // A batch is atomic: deleting an element someone already removed would undo the rule's
        // deletion too, so the element goes only if it is there.
        auto elements = nft::DumpMapElements(sock, nft::kFamilyInet, table, kSet);
        if (!elements) return std::move(elements.error());
        for (const auto& el : *elements) {
          if (el.key == key) batch.push_back(nft::DelMapElement(nft::kFamilyInet, table, kSet, key));
        }
        return OkStatus();
      },
      "removeNetworkIsolation", bridge);
  if (!removed) return std::move(removed.error());
  return *removed > 0;
}

}  // namespace nlkit
