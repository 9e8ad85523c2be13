#include "netlink/message.h"

#include <arpa/inet.h>

namespace nlkit {

MessageBuilder::MessageBuilder(uint16_t type, uint16_t flags) {
  buf_.reserve(256);
  nlmsghdr h{};
  h.nlmsg_len = sizeof(nlmsghdr);
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  Append(&h, sizeof(h));
}

void MessageBuilder::Append(const void* data, size_t len) {
  const size_t at = buf_.size();
  buf_.resize(at + len);
  if (len > 0 && data != nullptr) std::memcpy(buf_.data() + at, data, len);
  Pad();
  SetLength();
}

void MessageBuilder::Pad() { buf_.resize(Align4(buf_.size()), 0); }

void MessageBuilder::SetLength() {
  const uint32_t len = static_cast<uint32_t>(buf_.size());
  std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof(len));
}

void MessageBuilder::PutAttr(uint16_t type, const void* data, size_t len) {
  if (len > 0xffff - NLA_HDRLEN) {
    overflowed_ = true;
    return;
  }
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
  a.nla_type = type;
  const size_t at = buf_.size();
  buf_.resize(at + NLA_HDRLEN + len);
  std::memcpy(buf_.data() + at, &a, sizeof(a));
  if (len > 0) std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
  Pad();
  SetLength();
}

void MessageBuilder::PutBe16(uint16_t type, uint16_t v) { PutU16(type, htons(v)); }
void MessageBuilder::PutBe32(uint16_t type, uint32_t v) { PutU32(type, htonl(v)); }

void MessageBuilder::PutString(uint16_t type, std::string_view s) {
  if (s.size() + 1 > 0xffff - NLA_HDRLEN) {
    overflowed_ = true;
    return;
  }
  const size_t at = buf_.size();
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + s.size() + 1);
  a.nla_type = type;
  buf_.resize(at + NLA_HDRLEN + s.size() + 1, 0);
  std::memcpy(buf_.data() + at, &a, sizeof(a));
  std::memcpy(buf_.data() + at + NLA_HDRLEN, s.data(), s.size());
  Pad();
  SetLength();
}

size_t MessageBuilder::BeginNest(uint16_t type) {
  const size_t at = buf_.size();
  PutAttr(type | NLA_F_NESTED, nullptr, 0);
  return at;
}

void MessageBuilder::EndNest(size_t offset) {
  if (buf_.size() - offset > 0xffff) {
    overflowed_ = true;
    return;
  }
  const uint16_t len = static_cast<uint16_t>(buf_.size() - offset);
  std::memcpy(buf_.data() + offset + offsetof(nlattr, nla_len), &len, sizeof(len));
}

void MessageBuilder::SetSeq(uint32_t seq) {
  std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof(seq));
}

uint32_t MessageBuilder::seq() const {
  uint32_t v;
  std::memcpy(&v, buf_.data() + offsetof(nlmsghdr, nlmsg_seq), sizeof(v));
  return v;
}

uint16_t MessageBuilder::flags() const {
  uint16_t v;
  std::memcpy(&v, buf_.data() + offsetof(nlmsghdr, nlmsg_flags), sizeof(v));
  return v;
}

uint16_t MessageBuilder::type() const {
  uint16_t v;
  std::memcpy(&v, buf_.data() + offsetof(nlmsghdr, nlmsg_type), sizeof(v));
  return v;
}

void MessageBuilder::AddFlags(uint16_t add) {
  const uint16_t v = flags() | add;
  std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_flags), &v, sizeof(v));
}

std::optional<Attr> AttrIterator::Next() {
  if (rest_.size() < NLA_HDRLEN) {
    // Bytes left over that cannot hold an attribute header: the area is malformed (the kernel
    // pads inside each attribute's stride, never after the last one).
    if (!rest_.empty()) malformed_ = true;
    rest_ = {};
    return std::nullopt;
  }
  nlattr a;
  std::memcpy(&a, rest_.data(), sizeof(a));
  if (a.nla_len < NLA_HDRLEN || a.nla_len > rest_.size()) {
    malformed_ = true;
    rest_ = {};
    return std::nullopt;
  }
  Attr out;
  out.type = a.nla_type & NLA_TYPE_MASK;
  out.payload = rest_.subspan(NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
  const size_t step = Align4(a.nla_len);
  rest_ = step >= rest_.size() ? Bytes{} : rest_.subspan(step);
  return out;
}

namespace {
template <typename T>
std::optional<T> Exact(const std::optional<Bytes>& a) {
  if (!a || a->size() != sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, a->data(), sizeof(T));
  return v;
}
}  // namespace

std::optional<uint8_t> AttrU8(const std::optional<Bytes>& a) { return Exact<uint8_t>(a); }
std::optional<uint16_t> AttrU16(const std::optional<Bytes>& a) { return Exact<uint16_t>(a); }
std::optional<uint32_t> AttrU32(const std::optional<Bytes>& a) { return Exact<uint32_t>(a); }
std::optional<int32_t> AttrS32(const std::optional<Bytes>& a) { return Exact<int32_t>(a); }
std::optional<uint64_t> AttrU64(const std::optional<Bytes>& a) { return Exact<uint64_t>(a); }
std::optional<uint16_t> AttrBe16(const std::optional<Bytes>& a) {
  auto v = Exact<uint16_t>(a);
  if (!v) return std::nullopt;
  return ntohs(*v);
}
std::optional<uint32_t> AttrBe32(const std::optional<Bytes>& a) {
  auto v = Exact<uint32_t>(a);
  if (!v) return std::nullopt;
  return ntohl(*v);
}

std::optional<std::string> AttrString(const std::optional<Bytes>& a) {
  if (!a) return std::nullopt;
  const auto* p = reinterpret_cast<const char*>(a->data());
  size_t n = 0;
  while (n < a->size() && p[n] != '\0') ++n;
  return std::string(p, n);
}

std::optional<Message> MessageSplitter::Next() {
  if (malformed_ || rest_.size() < sizeof(nlmsghdr)) {
    malformed_ = malformed_ || !rest_.empty();  // a tail too short for a header
    return std::nullopt;
  }
  Message m;
  std::memcpy(&m.header, rest_.data(), sizeof(nlmsghdr));
  const uint32_t len = m.header.nlmsg_len;
  if (len < sizeof(nlmsghdr) || len > rest_.size()) {
    malformed_ = true;
    bad_length_ = len;
    bad_room_ = rest_.size();
    return std::nullopt;
  }
  m.whole = rest_.subspan(0, len);
  m.payload = rest_.subspan(sizeof(nlmsghdr), len - sizeof(nlmsghdr));
  const size_t step = NLMSG_ALIGN(len);
  rest_ = step >= rest_.size() ? Bytes{} : rest_.subspan(step);
  return m;
}

Status MessageSplitter::Done() const {
  if (!malformed_) return OkStatus();
  if (bad_room_ == 0) return Error::Protocol("trailing bytes after the last netlink message");
  return Error::Protocol("netlink message length " + std::to_string(bad_length_) + " does not fit in " +
                         std::to_string(bad_room_) + " received bytes");
}

Result<std::vector<Message>> SplitMessages(Bytes datagram) {
  std::vector<Message> out;
  MessageSplitter split(datagram);
  while (auto m = split.Next()) out.push_back(*m);
  NLKIT_TRY(split.Done());
  return out;
}

namespace {
// Extended-ack TLVs: NLMSGERR_ATTR_MSG (text) and NLMSGERR_ATTR_OFFS (offset of the bad attribute).
void ReadExtAck(Bytes tlvs, AckInfo& info) {
  AttrTable<NLMSGERR_ATTR_MAX + 1> t;
  ParseAttrs(tlvs, t);  // a malformed trailer only loses the text, never the errno
  if (auto msg = AttrString(t[NLMSGERR_ATTR_MSG])) info.extack = *msg;
  if (auto off = AttrU32(t[NLMSGERR_ATTR_OFFS])) info.offset = *off;
}

// The kernel reports errors as -errno, errno at most MAX_ERRNO (4095). Anything below is not an
// error code (and negating INT_MIN would overflow: the sanitizer run found that one).
constexpr int kMaxErrno = 4095;
bool IsErrorCode(int v) { return v <= 0 && v >= -kMaxErrno; }
}  // namespace

Result<AckInfo> DecodeError(const Message& m) {
  auto e = ReadStruct<nlmsgerr>(m.payload);
  if (!e) return Error::Protocol("truncated NLMSG_ERROR");
  if (!IsErrorCode(e->error)) return Error::Protocol("NLMSG_ERROR with error " + std::to_string(e->error));
  AckInfo info;
  info.errnum = -e->error;
  size_t used = sizeof(nlmsgerr);
  if (!(m.header.nlmsg_flags & NLM_F_CAPPED)) {
    // The kernel echoed our whole request after the error code.
    const size_t echoed = e->msg.nlmsg_len;
    if (echoed < sizeof(nlmsghdr)) return Error::Protocol("bad echoed header in NLMSG_ERROR");
    used = sizeof(int) + NLMSG_ALIGN(echoed);
  }
  if ((m.header.nlmsg_flags & NLM_F_ACK_TLVS) && used <= m.payload.size()) {
    ReadExtAck(m.payload.subspan(used), info);
  }
  return info;
}

Result<AckInfo> DecodeDone(const Message& m) {
  AckInfo info;
  if (m.payload.size() >= sizeof(int)) {
    int v;
    std::memcpy(&v, m.payload.data(), sizeof(v));
    if (v < 0 && !IsErrorCode(v)) return Error::Protocol("NLMSG_DONE with error " + std::to_string(v));
    info.errnum = v < 0 ? -v : 0;
    if (m.header.nlmsg_flags & NLM_F_ACK_TLVS) ReadExtAck(m.payload.subspan(sizeof(int)), info);
  }
  return info;
}

}  // namespace nlkit
