// nftables expressions, encoded the way the nft tool encodes them (see shared notes,
// nftables-wire.md and nft-debug/): each is a NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }
// inside a rule's NFTA_RULE_EXPRESSIONS. Integers in attributes are big-endian; register values
// are raw bytes in network order, as the kernel compares them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/message.h"

namespace nlkit::nft {

// Registers as the nft tool numbers them: NFT_REG_1 (16 bytes), NFT_REG32_01 for a 32-bit
// slot that follows a 4-byte value in a concatenation.
constexpr uint32_t kReg1 = 1;
constexpr uint32_t kReg2 = 2;
constexpr uint32_t kReg32_01 = 9;

class Expressions {
 public:
  explicit Expressions(MessageBuilder& m);  // opens NFTA_RULE_EXPRESSIONS
  void Close();

  void MetaLoad(uint32_t key, uint32_t dreg = kReg1);
  void PayloadLoad(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg = kReg1);
  void Cmp(uint32_t op, const std::vector<uint8_t>& value, uint32_t sreg = kReg1);
  void Bitwise(uint32_t len, const std::vector<uint8_t>& mask, uint32_t reg = kReg1);
  void Immediate(const std::vector<uint8_t>& value, uint32_t dreg);
  void Verdict(int32_t code);
  void Masq();
  void Nat(uint32_t type, uint32_t family, uint32_t addr_reg, uint32_t proto_reg, uint32_t flags);
  void FibDaddrType(uint32_t dreg = kReg1);
  // `set_id` names a set created earlier in the same batch (0: an existing one). `dreg` 0 for a
  // plain set (a match: the rule goes on only if the key is in it), a register for a map's value.
  void Lookup(const std::string& set, uint32_t set_id, uint32_t sreg, uint32_t dreg);
  // ct status dnat: the connection's destination was NATed (its IPS_DST_NAT bit is set).
  void CtStatusDnat();

 private:
  size_t Begin(const char* name);
  void End(size_t elem, size_t data);
  MessageBuilder& m_;
  size_t list_;
};

// Values as the kernel compares them.
std::vector<uint8_t> IfnameValue(const std::string& name);  // NUL-padded to 16 bytes
std::vector<uint8_t> Be16(uint16_t v);
std::vector<uint8_t> HostU32(uint32_t v);

// The rule comment in the TLV form `nft list` displays: type 0, length with NUL, text, NUL.
std::vector<uint8_t> CommentUserdata(const std::string& text);
// Puts `text` on a NEWRULE as its comment (NFTA_RULE_USERDATA).
void PutRuleComment(MessageBuilder& rule, const std::string& text);
// Reads it back; empty when the userdata holds no comment TLV.
std::string CommentFromUserdata(Bytes userdata);

}  // namespace nlkit::nft
