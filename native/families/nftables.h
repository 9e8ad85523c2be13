// nftables over NETLINK_NETFILTER: the messages nlkit sends (tables, base chains, rules,
// deletions), the atomic batch that carries them with a generation-id guard, and rule dumps.
// Expressions are in nft_expr.h; what the rules mean (NAT) is in nat.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/engine.h"

namespace nlkit::nft {

constexpr uint8_t kFamilyInet = 1;  // NFPROTO_INET: one table for IPv4 and IPv6

MessageBuilder NewTable(uint8_t family, const std::string& table);
MessageBuilder NewBaseChain(uint8_t family, const std::string& table, const std::string& chain, const char* type,
                            uint32_t hook, int32_t priority);
// A NEWRULE (appended, echoed so its handle comes back) with table and chain set; the caller adds
// the expressions and the userdata.
// A rule at the end of `chain`, or at its start with `at_head` (`nft insert rule`).
MessageBuilder NewRule(uint8_t family, const std::string& table, const std::string& chain, bool at_head = false);
MessageBuilder DelRule(uint8_t family, const std::string& table, const std::string& chain, uint64_t handle);
// Removes a table with everything in it; with `destroy`, a missing table is no error (6.3+).
MessageBuilder DelTable(uint8_t family, const std::string& table, bool destroy);

// A map (NFT_SET_MAP) from `key_len`-byte keys to `data_len`-byte values. `id` lets rules in the
// same batch refer to it before it exists (NFTA_LOOKUP_SET_ID).
MessageBuilder NewMap(uint8_t family, const std::string& table, const std::string& name, uint32_t id,
                      uint32_t key_type, uint32_t key_len, uint32_t data_type, uint32_t data_len);
// A plain set of `key_len`-byte keys (no data). `key_host_order` for key types nft keeps in host
// byte order (strings such as ifname): the set's userdata says so, as the nft tool writes it, or
// `nft list` prints every element as "".
MessageBuilder NewSet(uint8_t family, const std::string& table, const std::string& name, uint32_t id,
                      uint32_t key_type, uint32_t key_len, bool key_host_order);
// One key of a plain set; an existing key is fine (no NLM_F_EXCL).
MessageBuilder NewSetElement(uint8_t family, const std::string& table, const std::string& set, uint32_t set_id,
                             const std::vector<uint8_t>& key);
// One element of a map: an existing key is EEXIST. `set_id` when the map is created in the same
// batch (0 otherwise).
MessageBuilder NewMapElement(uint8_t family, const std::string& table, const std::string& map, uint32_t set_id,
                             const std::vector<uint8_t>& key, const std::vector<uint8_t>& data,
                             const std::string& comment = {});  // shown by nft as the element's comment
MessageBuilder DelMapElement(uint8_t family, const std::string& table, const std::string& map,
                             const std::vector<uint8_t>& key);

struct ElementInfo {
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  std::string comment;  // from the element's userdata; empty without one
};
// The element of one map with this key (a GET, not a dump); nullopt when the table, the map or the
// element is missing.
Result<std::optional<ElementInfo>> GetMapElement(NetlinkSocket& sock, uint8_t family, const std::string& table,
                                                 const std::string& map, const std::vector<uint8_t>& key);
// The elements of one map; a missing table or map has none.
Result<std::vector<ElementInfo>> DumpMapElements(NetlinkSocket& sock, uint8_t family, const std::string& table,
                                                 const std::string& map);

struct TableInfo {
  std::string name;
  uint32_t flags = 0;
};
struct ChainInfo {
  std::string table;
  std::string name;
  std::string type;  // nat, filter; empty for a regular chain
  std::optional<uint32_t> hook;
  std::optional<int32_t> priority;
  std::optional<uint32_t> policy;
};
struct SetInfo {
  std::string table;
  std::string name;
  uint32_t flags = 0;
  uint32_t key_type = 0, key_len = 0, data_type = 0, data_len = 0;
};
// Dumps of one family's tables, and of one table's chains and sets (a missing table: none).
Result<std::vector<TableInfo>> DumpTables(NetlinkSocket& sock, uint8_t family);
Result<std::vector<ChainInfo>> DumpChains(NetlinkSocket& sock, uint8_t family, const std::string& table);
Result<std::vector<SetInfo>> DumpSets(NetlinkSocket& sock, uint8_t family, const std::string& table);

struct RuleInfo {
  std::string chain;
  uint64_t handle = 0;
  std::string comment;
};

// The reply decoders the dumps use, one message each (public for the sanitizer run in
// native/fuzz/). A malformed message is a Protocol error, never a read past its end.
Result<TableInfo> DecodeTable(const nlkit::Message& m);
Result<ChainInfo> DecodeChain(const nlkit::Message& m);
Result<SetInfo> DecodeSet(const nlkit::Message& m);
Result<RuleInfo> DecodeRule(const nlkit::Message& m);
// Appends the elements of one NFT_MSG_NEWSETELEM message to `out`.
Status DecodeElements(const nlkit::Message& m, std::vector<ElementInfo>& out);

Result<uint32_t> GetGeneration(NetlinkSocket& sock);
// The rule a NEWRULE echoed back (NLM_F_ECHO), from that message's outcome; nullopt without one.
std::optional<RuleInfo> EchoedRule(const RequestOutcome& outcome);
// The rules of one table; a missing table has none.
Result<std::vector<RuleInfo>> DumpRules(NetlinkSocket& sock, uint8_t family, const std::string& table);

// What a batch command is, in words, for an error naming it: "create map tcp4_any"; with EEXIST
// (or EOPNOTSUPP) on a chain or set, that it exists with another definition.
std::string DescribeCommand(const MessageBuilder& m, int errnum);

// Sends `messages` as one atomic batch (BATCH_BEGIN ... BATCH_END). With `generation` non-zero
// the kernel refuses the whole batch with ERESTART if the ruleset changed since it was read.
// Every message gets its own outcome; the batch committed only if all of them succeeded. A
// refused one carries the command's description in `step`.
Result<std::vector<RequestOutcome>> CommitBatch(NetlinkSocket& sock, std::vector<MessageBuilder> messages,
                                                uint32_t generation);

}  // namespace nlkit::nft
