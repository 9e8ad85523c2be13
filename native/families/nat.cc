#include "families/nat.h"

#include "families/nft_uapi.h"

#include <errno.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "families/nat_guard.h"
#include "families/nft_expr.h"

namespace nlkit {

void GenerationBackoff(int attempt) {
  if (attempt < 3) return;  // the first retries at once: usually one other writer got in between
  thread_local std::minstd_rand rng(std::random_device{}());
  const int ceiling_us = std::min(50 << std::min(attempt - 3, 5), 2000);  // 50 us .. 1.6 ms
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, ceiling_us)(rng)));
}

// The base chains nlkit's table holds (priorities as the nft tool names them).
std::vector<MessageBuilder> NatTableAndChains(const std::string& table) {
  std::vector<MessageBuilder> out;
  out.push_back(nft::NewTable(nft::kFamilyInet, table));
  out.push_back(nft::NewBaseChain(nft::kFamilyInet, table, "postrouting", "nat", NF_INET_POST_ROUTING, 100));
  out.push_back(nft::NewBaseChain(nft::kFamilyInet, table, "prerouting", "nat", NF_INET_PRE_ROUTING, -100));
  out.push_back(nft::NewBaseChain(nft::kFamilyInet, table, "output", "nat", NF_INET_LOCAL_OUT, -100));
  out.push_back(nft::NewBaseChain(nft::kFamilyInet, table, "forward", "filter", NF_INET_FORWARD, 0));
  return out;
}

Error NatBatchError(const std::vector<RequestOutcome>& outcomes, const std::string& op, const std::string& object) {
  for (const RequestOutcome& o : outcomes) {
    if (o.ack.errnum == 0) continue;
    Error e = RefusalError(o.ack, op, object);
    e.detail = o.step;
    return e;
  }
  return Error::Protocol("nftables batch failed without an error");
}

Status CommitOrError(NetlinkSocket& sock, std::vector<MessageBuilder> batch, uint32_t generation, const std::string& operation,
                     const std::string& object) {
  auto outcomes = nft::CommitBatch(sock, std::move(batch), generation);
  if (!outcomes) return std::move(outcomes.error().In(operation, object));
  for (const auto& o : *outcomes) {
    if (o.ack.errnum != 0) return NatBatchError(*outcomes, operation, object);
  }
  return OkStatus();
}

Result<bool> AddRulesOnce(Namespace& ns, const std::string& table, const std::string& comment,
                          const std::function<std::vector<MessageBuilder>()>& build, const std::string& operation,
                          const std::string& object, const RepairFn& repair) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  return WithGenerationRetry<bool>([&]() -> Result<bool> {
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error().In(operation, object));
    auto rules = nft::DumpRules(**sock, nft::kFamilyInet, table);
    if (!rules) return std::move(rules.error().In(operation, object));
    bool present = false;
    for (const auto& r : *rules) present = present || r.comment == comment;
    std::vector<MessageBuilder> more;
    if (!present) {
      more = build();
    } else if (repair) {
      auto missing = repair(**sock);
      if (!missing) return std::move(missing.error().In(operation, object));
      more = std::move(*missing);
    }
    if (more.empty()) return false;
    std::vector<MessageBuilder> batch = NatTableAndChains(table);
    for (auto& m : more) batch.push_back(std::move(m));
    NLKIT_TRY(CommitOrError(**sock, std::move(batch), *gen, operation, object));
    return true;
  });
}

Result<size_t> RemoveRulesWhere(Namespace& ns, const std::string& table,
                                const std::function<bool(const nft::RuleInfo&, const std::vector<nft::RuleInfo>&)>& matches,
                                const std::function<Status(NetlinkSocket&, std::vector<MessageBuilder>&)>& also,
                                const std::string& operation, const std::string& object) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  return WithGenerationRetry<size_t>([&]() -> Result<size_t> {
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error().In(operation, object));
    auto rules = nft::DumpRules(**sock, nft::kFamilyInet, table);
    if (!rules) return std::move(rules.error().In(operation, object));
    std::vector<MessageBuilder> batch;
    for (const auto& r : *rules) {
      if (matches(r, *rules)) batch.push_back(nft::DelRule(nft::kFamilyInet, table, r.chain, r.handle));
    }
    if (also) {
      Status extra = also(**sock, batch);
      if (!extra.ok()) return std::move(extra.error().In(operation, object));
    }
    const size_t n = batch.size();
    if (n == 0) return size_t{0};
    NLKIT_TRY(CommitOrError(**sock, std::move(batch), *gen, operation, object));
    return n;
  });
}

namespace {

// Matches the subnet on the source (offset 12 / 8) or destination (16 / 24) address, encoded as
// the nft tool encodes a prefix: only the prefix's bytes when byte-aligned, else the whole address
// masked (so `nft list` prints "ip saddr 10.90.0.0/20").
void MatchPrefix(nft::Expressions& e, const MasqueradeSpec& s, bool destination) {
  if (s.prefix_len == 0) return;
  const bool v4 = s.source.family == AF_INET;
  const uint32_t offset = v4 ? (destination ? 16 : 12) : (destination ? 24 : 8);
  const uint32_t size = static_cast<uint32_t>(s.source.size());
  const bool aligned = s.prefix_len % 8 == 0;
  const uint32_t bytes = aligned ? s.prefix_len / 8u : size;
  e.PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, offset, bytes);
  std::vector<uint8_t> value(s.source.bytes.begin(), s.source.bytes.begin() + bytes);
  if (!aligned) {
    std::vector<uint8_t> mask(bytes, 0);
    for (uint32_t bit = 0; bit < s.prefix_len; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    e.Bitwise(bytes, mask);
  }
  e.Cmp(NFT_CMP_EQ, value);
}

void MatchFamily(nft::Expressions& e, const MasqueradeSpec& s) {
  // In an inet table every rule first pins the family.
  e.MetaLoad(NFT_META_NFPROTO);
  e.Cmp(NFT_CMP_EQ, {static_cast<uint8_t>(s.source.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6)});
}

MessageBuilder MasqueradeRule(const std::string& table, const MasqueradeSpec& s) {
  MessageBuilder m = nft::NewRule(nft::kFamilyInet, table, "postrouting");
  nft::Expressions e(m);
  MatchFamily(e, s);
  MatchPrefix(e, s, false);
  if (s.exclude_interface) {
    e.MetaLoad(NFT_META_OIFNAME);
    e.Cmp(NFT_CMP_NEQ, nft::IfnameValue(*s.exclude_interface));
  }
  if (s.out_interface) {
    e.MetaLoad(NFT_META_OIFNAME);
    e.Cmp(NFT_CMP_EQ, nft::IfnameValue(*s.out_interface));
  }
  e.Masq();
  e.Close();
  nft::PutRuleComment(m, MasqueradeComment(s));
  return m;
}

// ct status dnat ip saddr S ip daddr S masquerade
MessageBuilder HairpinRule(const std::string& table, const MasqueradeSpec& s) {
  MessageBuilder m = nft::NewRule(nft::kFamilyInet, table, "postrouting");
  nft::Expressions e(m);
  MatchFamily(e, s);
  e.CtStatusDnat();
  MatchPrefix(e, s, false);
  MatchPrefix(e, s, true);
  e.Masq();
  e.Close();
  nft::PutRuleComment(m, HairpinComment(s));
  return m;
}

}  // namespace

std::string HairpinComment(const MasqueradeSpec& s) {
  const std::string net = s.source.ToString() + "/" + std::to_string(s.prefix_len);
  return "nlkit hairpin saddr " + net + " daddr " + net;
}

std::string MasqueradeComment(const MasqueradeSpec& s) {
  std::string c = "nlkit masquerade saddr " + s.source.ToString() + "/" + std::to_string(s.prefix_len);
  if (s.out_interface) c += " oifname " + *s.out_interface;
  if (s.exclude_interface) c += " oifname != " + *s.exclude_interface;
  return c;
}

Result<MasqueradeAdded> AddMasquerade(Namespace& ns, const std::string& table, const MasqueradeSpec& spec) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  const std::string comment = MasqueradeComment(spec);
  return WithGenerationRetry<MasqueradeAdded>([&]() -> Result<MasqueradeAdded> {
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error().In("addMasquerade", comment));
    auto rules = nft::DumpRules(**sock, nft::kFamilyInet, table);
    if (!rules) return std::move(rules.error().In("addMasquerade", comment));
    std::optional<uint64_t> existing;
    bool have_hairpin = false;
    for (const auto& r : *rules) {
      if (r.comment == comment) existing = r.handle;
      have_hairpin = have_hairpin || r.comment == HairpinComment(spec);
    }
    const bool have_masq = existing.has_value();
    if (have_masq && (have_hairpin || !spec.hairpin)) return MasqueradeAdded{false, *existing};
    std::vector<MessageBuilder> batch = NatTableAndChains(table);
    if (!have_masq) batch.push_back(MasqueradeRule(table, spec));
    if (spec.hairpin && !have_hairpin) batch.push_back(HairpinRule(table, spec));
    auto outcomes = nft::CommitBatch(**sock, std::move(batch), *gen);
    if (!outcomes) return std::move(outcomes.error().In("addMasquerade", comment));
    for (const auto& o : *outcomes) {
      if (o.ack.errnum != 0) return NatBatchError(*outcomes, "addMasquerade", comment);
    }
    MasqueradeAdded out{!have_masq, existing.value_or(0)};
    if (!have_masq) {
      // The NEWRULE was echoed (NLM_F_ECHO): its handle is the kernel's name for the new rule.
      for (const auto& o : *outcomes) {
        auto echoed = nft::EchoedRule(o);
        if (echoed && echoed->comment == comment) out.handle = echoed->handle;
      }
    }
    return out;
  });
}

Result<size_t> RemoveMasquerade(Namespace& ns, const std::string& table, const MasqueradeSpec& spec) {
  const std::string comment = MasqueradeComment(spec);
  const std::string hairpin = HairpinComment(spec);
  // Masquerade rules for the same subnet (another outInterface or excludeInterface) share one
  // hairpin rule: it goes with the last of them. (A rule added without hairpin also keeps it; the
  // rules do not say which wanted one.)
  const std::string same_subnet = MasqueradeComment(MasqueradeSpec{spec.source, spec.prefix_len, {}, {}, false});
  const auto shares_subnet = [&](const nft::RuleInfo& r) {
    return r.comment != comment && r.comment.compare(0, same_subnet.size(), same_subnet) == 0 &&
           (r.comment.size() == same_subnet.size() || r.comment[same_subnet.size()] == ' ');
  };
  return RemoveRulesWhere(
      ns, table,
      [&](const nft::RuleInfo& r, const std::vector<nft::RuleInfo>& all) {
        if (r.comment == comment) return true;
        if (!spec.hairpin || r.comment != hairpin) return false;
        for (const auto& other : all) {
          if (shares_subnet(other)) return false;
        }
        return true;
      },
      {}, "removeMasquerade", comment);
}

Result<std::vector<nft::RuleInfo>> ListNatRules(Namespace& ns, const std::string& table) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  return nft::DumpRules(**sock, nft::kFamilyInet, table);
}

Status FlushNat(Namespace& ns, const std::string& table) {
  auto sock = ns.Acquire(NETLINK_NETFILTER);
  if (!sock) return std::move(sock.error());
  const std::string object = "table " + table;
  auto flushed = WithGenerationRetry<bool>([&]() -> Result<bool> {
    // The localnet guard lives in this table, and route_localnet, which it makes safe, stays on
    // wherever it was turned on: a flush that took the guard would expose the host's 127.0.0.1
    // services to the bridges' neighbours again (CVE-2020-8558). When the table holds it, it is
    // made again in the same batch, so there is no moment without it.
    auto gen = nft::GetGeneration(**sock);
    if (!gen) return std::move(gen.error().In("flushNat", object));
    auto rules = nft::DumpRules(**sock, nft::kFamilyInet, table);
    if (!rules) return std::move(rules.error().In("flushNat", object));
    bool guarded = false;
    for (const auto& r : *rules) guarded = guarded || r.comment == kLocalnetGuardComment;
    // Kernels before 6.3 have no NFT_MSG_DESTROYTABLE (EINVAL or EOPNOTSUPP): delete instead,
    // and a missing table is fine.
    for (const bool destroy : {true, false}) {
      std::vector<MessageBuilder> batch;
      batch.push_back(nft::DelTable(nft::kFamilyInet, table, destroy));
      if (guarded) {
        batch.push_back(nft::NewTable(nft::kFamilyInet, table));
        AppendLocalnetGuard(batch, table);
      }
      auto outcomes = nft::CommitBatch(**sock, std::move(batch), *gen);
      if (!outcomes) return std::move(outcomes.error().In("flushNat", object));
      const int err = (*outcomes)[0].ack.errnum;
      if (destroy && (err == EINVAL || err == EOPNOTSUPP)) continue;
      if (err == ENOENT && !guarded) return true;  // nothing to flush
      for (const auto& o : *outcomes) {
        if (o.ack.errnum != 0) return NatBatchError(*outcomes, "flushNat", object);
      }
      return true;
    }
    return true;
  });
  if (!flushed) return std::move(flushed.error());
  return OkStatus();
}

}  // namespace nlkit
