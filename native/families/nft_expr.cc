#include "families/nft_expr.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include <cstring>

namespace nlkit::nft {

Expressions::Expressions(MessageBuilder& m) : m_(m), list_(m.BeginNest(NFTA_RULE_EXPRESSIONS)) {}

void Expressions::Close() { m_.EndNest(list_); }

size_t Expressions::Begin(const char* name) {
  const size_t elem = m_.BeginNest(NFTA_LIST_ELEM);
  m_.PutString(NFTA_EXPR_NAME, name);
  return elem;
}

void Expressions::End(size_t elem, size_t data) {
  m_.EndNest(data);
  m_.EndNest(elem);
}

void Expressions::MetaLoad(uint32_t key, uint32_t dreg) {
  const size_t e = Begin("meta");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_META_DREG, dreg);
  m_.PutBe32(NFTA_META_KEY, key);
  End(e, d);
}

void Expressions::PayloadLoad(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
  const size_t e = Begin("payload");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_PAYLOAD_DREG, dreg);
  m_.PutBe32(NFTA_PAYLOAD_BASE, base);
  m_.PutBe32(NFTA_PAYLOAD_OFFSET, offset);
  m_.PutBe32(NFTA_PAYLOAD_LEN, len);
  End(e, d);
}

void Expressions::Cmp(uint32_t op, const std::vector<uint8_t>& value, uint32_t sreg) {
  const size_t e = Begin("cmp");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_CMP_SREG, sreg);
  m_.PutBe32(NFTA_CMP_OP, op);
  const size_t data = m_.BeginNest(NFTA_CMP_DATA);
  m_.PutAttr(NFTA_DATA_VALUE, value.data(), value.size());
  m_.EndNest(data);
  End(e, d);
}

void Expressions::Bitwise(uint32_t len, const std::vector<uint8_t>& mask, uint32_t reg) {
  const size_t e = Begin("bitwise");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_BITWISE_SREG, reg);
  m_.PutBe32(NFTA_BITWISE_DREG, reg);
  m_.PutBe32(NFTA_BITWISE_LEN, len);
  size_t n = m_.BeginNest(NFTA_BITWISE_MASK);
  m_.PutAttr(NFTA_DATA_VALUE, mask.data(), mask.size());
  m_.EndNest(n);
  const std::vector<uint8_t> zero(len, 0);
  n = m_.BeginNest(NFTA_BITWISE_XOR);
  m_.PutAttr(NFTA_DATA_VALUE, zero.data(), zero.size());
  m_.EndNest(n);
  End(e, d);
}

void Expressions::Immediate(const std::vector<uint8_t>& value, uint32_t dreg) {
  const size_t e = Begin("immediate");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_IMMEDIATE_DREG, dreg);
  const size_t data = m_.BeginNest(NFTA_IMMEDIATE_DATA);
  m_.PutAttr(NFTA_DATA_VALUE, value.data(), value.size());
  m_.EndNest(data);
  End(e, d);
}

void Expressions::Verdict(int32_t code) {
  const size_t e = Begin("immediate");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
  const size_t data = m_.BeginNest(NFTA_IMMEDIATE_DATA);
  const size_t verdict = m_.BeginNest(NFTA_DATA_VERDICT);
  m_.PutBe32(NFTA_VERDICT_CODE, static_cast<uint32_t>(code));
  m_.EndNest(verdict);
  m_.EndNest(data);
  End(e, d);
}

void Expressions::Masq() {
  const size_t e = Begin("masq");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  End(e, d);
}

void Expressions::Nat(uint32_t type, uint32_t family, uint32_t addr_reg, uint32_t proto_reg, uint32_t flags) {
  const size_t e = Begin("nat");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_NAT_TYPE, type);
  m_.PutBe32(NFTA_NAT_FAMILY, family);
  m_.PutBe32(NFTA_NAT_REG_ADDR_MIN, addr_reg);
  if (proto_reg) m_.PutBe32(NFTA_NAT_REG_PROTO_MIN, proto_reg);
  if (flags) m_.PutBe32(NFTA_NAT_FLAGS, flags);
  End(e, d);
}

void Expressions::FibDaddrType(uint32_t dreg) {
  const size_t e = Begin("fib");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_FIB_DREG, dreg);
  m_.PutBe32(NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
  m_.PutBe32(NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
  End(e, d);
}

void Expressions::Lookup(const std::string& set, uint32_t set_id, uint32_t sreg, uint32_t dreg) {
  const size_t e = Begin("lookup");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutString(NFTA_LOOKUP_SET, set);
  if (set_id) m_.PutBe32(NFTA_LOOKUP_SET_ID, set_id);
  m_.PutBe32(NFTA_LOOKUP_SREG, sreg);
  if (dreg != 0) m_.PutBe32(NFTA_LOOKUP_DREG, dreg);  // 0: a set, membership only
  End(e, d);
}

void Expressions::CtStatusDnat() {
  const size_t e = Begin("ct");
  const size_t d = m_.BeginNest(NFTA_EXPR_DATA);
  m_.PutBe32(NFTA_CT_DREG, kReg1);
  m_.PutBe32(NFTA_CT_KEY, NFT_CT_STATUS);
  End(e, d);
  Bitwise(4, HostU32(IPS_DST_NAT));
  Cmp(NFT_CMP_NEQ, HostU32(0));
}

std::vector<uint8_t> IfnameValue(const std::string& name) {
  std::vector<uint8_t> v(16, 0);
  std::memcpy(v.data(), name.data(), std::min<size_t>(name.size(), 15));
  return v;
}

std::vector<uint8_t> Be16(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v & 0xff)}; }

std::vector<uint8_t> HostU32(uint32_t v) {
  std::vector<uint8_t> out(4);
  std::memcpy(out.data(), &v, 4);
  return out;
}

std::vector<uint8_t> CommentUserdata(const std::string& text) {
  // NFT_USERDATA_MAXLEN is 256 bytes for the whole TLV: type, length, text, NUL.
  const size_t n = std::min<size_t>(text.size(), 253);
  std::vector<uint8_t> out(n + 3, 0);
  out[0] = 0;                                // NFTNL_UDATA_RULE_COMMENT
  out[1] = static_cast<uint8_t>(n + 1);      // length including the NUL
  std::memcpy(out.data() + 2, text.data(), n);  // the last byte stays NUL
  return out;
}

void PutRuleComment(MessageBuilder& rule, const std::string& text) {
  const auto userdata = CommentUserdata(text);
  rule.PutAttr(NFTA_RULE_USERDATA, userdata.data(), userdata.size());
}

std::string CommentFromUserdata(Bytes u) {
  size_t i = 0;
  while (i + 2 <= u.size()) {
    const uint8_t type = u[i];
    const uint8_t len = u[i + 1];
    if (i + 2 + len > u.size()) break;
    if (type == 0 && len > 0) {
      const auto* p = reinterpret_cast<const char*>(u.data() + i + 2);
      size_t n = 0;
      while (n < len && p[n] != '\0') ++n;
      return std::string(p, n);
    }
    i += 2 + len;
  }
  return {};
}

}  // namespace nlkit::nft
