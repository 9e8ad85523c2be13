// NAT in nlkit's own inet table: the base chains it needs, created on first use in the same
// batch as the first rule, and masquerade rules identified by their comment. The table is never
// owned by a socket (NFT_TABLE_F_OWNER): a runtime's NAT must outlive the process that set it up.
#pragma once

#include <errno.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "families/link.h"
#include "families/nftables.h"

namespace nlkit {

// Shared by the NAT features (masquerade here, port mappings in portmap.h) -------------------

// NEWTABLE and the four base chains: idempotent, sent in every batch that may be the first.
std::vector<MessageBuilder> NatTableAndChains(const std::string& table);
// The first refused message of a committed batch, as an Error naming the step.
Error NatBatchError(const std::vector<RequestOutcome>& outcomes, const std::string& op, const std::string& object);
// Commits `batch` (guarded by `generation` unless it is 0); the first refused command is the error.
Status CommitOrError(NetlinkSocket& sock, std::vector<MessageBuilder> batch, uint32_t generation, const std::string& operation,
                     const std::string& object);
// Runs `attempt` until its generation-guarded batch is accepted. Two answers mean another writer
// committed meanwhile: ERESTART (between our read and our batch) and EINTR (during our read: the
// rules dump kept being interrupted, which the engine retries 20 times before giving up; four
// independent clients writing at once exhausted that). Every round has a winner, but with many
// writers one of them can lose many rounds in a row (five tries ran out with 12 concurrent adds
// on 4 threads), so it retries up to kGenerationRetries times, after the first few with a short
// random pause that spreads the writers apart. It runs on a worker thread: the pause never blocks JS.
constexpr int kGenerationRetries = 64;
void GenerationBackoff(int attempt);

template <typename T, typename Attempt>
Result<T> WithGenerationRetry(Attempt attempt) {
  for (int i = 1;; ++i) {
    Result<T> r = attempt();
    if (r.ok() || i >= kGenerationRetries) return r;
    if (r.error().kind != ErrorKind::kNetlink || (r.error().errnum != ERESTART && r.error().errnum != EINTR)) return r;
    GenerationBackoff(i);
  }
}

// The idempotent, generation-guarded add that rules identified by their comment share: unless a
// rule with `comment` is in the table, commits the table, its chains and what `build` returns, in
// one batch. When the rule is there, `repair` (if given) returns what else is missing that the
// rule relies on (a set element...), committed the same way. Returns whether it added anything.
// `operation` and `object` name it in errors.
using RepairFn = std::function<Result<std::vector<MessageBuilder>>(NetlinkSocket&)>;
Result<bool> AddRulesOnce(Namespace& ns, const std::string& table, const std::string& comment,
                          const std::function<std::vector<MessageBuilder>()>& build, const std::string& operation,
                          const std::string& object, const RepairFn& repair = {});

// Deletes, in one generation-guarded batch, every rule `matches` accepts (it is given each rule and
// the whole table, to see what else is there), plus what `also` adds (it may read the table
// through the socket first), whether or not a rule matched: a companion left behind by a rule
// someone else deleted goes too. Returns how many messages that was; 0 sends nothing.
Result<size_t> RemoveRulesWhere(Namespace& ns, const std::string& table,
                                const std::function<bool(const nft::RuleInfo&, const std::vector<nft::RuleInfo>&)>& matches,
                                const std::function<Status(NetlinkSocket&, std::vector<MessageBuilder>&)>& also,
                                const std::string& operation, const std::string& object);

struct MasqueradeSpec {
  IpAddr source;  // network address (host bits clear)
  uint8_t prefix_len = 0;
  std::optional<std::string> out_interface;      // oifname == X
  std::optional<std::string> exclude_interface;  // oifname != X (Docker: ! -o docker0)
  // Also masquerade DNATed traffic from the subnet back into it ("hairpin": a container reaching a
  // published port of its own host through the host's address gets its answer back through the
  // host, not straight from the other container).
  bool hairpin = true;
};

// The comments that identify the rules, readable in `nft list ruleset`.
std::string MasqueradeComment(const MasqueradeSpec& spec);
std::string HairpinComment(const MasqueradeSpec& spec);

// Adds the rule unless one with the same comment exists (idempotent, generation-guarded).
// Returns the rule's kernel handle (from the NEWRULE echo, or the existing rule's) and whether
// this call added it.
struct MasqueradeAdded {
  bool added = false;
  uint64_t handle = 0;
};
Result<MasqueradeAdded> AddMasquerade(Namespace& ns, const std::string& table, const MasqueradeSpec& spec);
// Removes every rule with that comment; none is fine. Returns how many it removed.
Result<size_t> RemoveMasquerade(Namespace& ns, const std::string& table, const MasqueradeSpec& spec);
Result<std::vector<nft::RuleInfo>> ListNatRules(Namespace& ns, const std::string& table);
// Removes nlkit's table with everything in it; a missing table is fine.
Status FlushNat(Namespace& ns, const std::string& table);

}  // namespace nlkit
