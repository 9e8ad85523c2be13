// Building and parsing netlink messages and their (nested) attributes.
//
// This file knows the netlink framing and nothing about any object family. Every read is
// bounds-checked: a truncated or malformed reply yields an empty optional or a Protocol error,
// never an out-of-bounds read. Fixed-size structs are copied out with memcpy, so a misaligned
// buffer is fine too.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace nlkit {

using Bytes = std::span<const uint8_t>;

constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

// One request message under construction. Offsets, not pointers, refer into the buffer, because
// appending may reallocate it.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint16_t flags);

  // Appends a fixed family header (ifinfomsg, ifaddrmsg, nfgenmsg...) right after nlmsghdr.
  template <typename T>
  void PutHeader(const T& header) {
    Append(&header, sizeof(T));
  }

  void PutU8(uint16_t type, uint8_t v) { PutAttr(type, &v, 1); }
  void PutU16(uint16_t type, uint16_t v) { PutAttr(type, &v, 2); }
  void PutU32(uint16_t type, uint32_t v) { PutAttr(type, &v, 4); }
  void PutS32(uint16_t type, int32_t v) { PutAttr(type, &v, 4); }
  void PutU64(uint16_t type, uint64_t v) { PutAttr(type, &v, 8); }
  void PutBe16(uint16_t type, uint16_t host_order);
  void PutBe32(uint16_t type, uint32_t host_order);
  void PutString(uint16_t type, std::string_view s);  // with its NUL
  void PutBytes(uint16_t type, Bytes b) { PutAttr(type, b.data(), b.size()); }
  void PutFlag(uint16_t type) { PutAttr(type, nullptr, 0); }
  void PutAttr(uint16_t type, const void* data, size_t len);

  // A nest: BeginNest returns its offset; EndNest patches its length.
  size_t BeginNest(uint16_t type);
  void EndNest(size_t offset);

  // An inline struct inside a nest (the veth peer's ifinfomsg is one).
  template <typename T>
  void PutRaw(const T& s) {
    Append(&s, sizeof(T));
  }

  void SetSeq(uint32_t seq);
  uint32_t seq() const;
  uint16_t flags() const;
  uint16_t type() const;
  void AddFlags(uint16_t flags);
  size_t size() const { return buf_.size(); }
  // An attribute or nest longer than netlink's 16-bit length field can say: the message is
  // unusable (its lengths would wrap), and the socket refuses to send it.
  bool overflowed() const { return overflowed_; }
  const uint8_t* data() const { return buf_.data(); }
  Bytes bytes() const { return Bytes(buf_.data(), buf_.size()); }

 private:
  void Append(const void* data, size_t len);
  void Pad();
  void SetLength();
  std::vector<uint8_t> buf_;
  bool overflowed_ = false;
};

// One attribute as found in a reply.
struct Attr {
  uint16_t type = 0;  // with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off
  Bytes payload;
};

// Iterates the attributes in `area`. Stops (and sets malformed()) at the first attribute whose
// header or length does not fit.
class AttrIterator {
 public:
  explicit AttrIterator(Bytes area) : rest_(area) {}
  std::optional<Attr> Next();
  bool malformed() const { return malformed_; }

 private:
  Bytes rest_;
  bool malformed_ = false;
};

// Indexes the attributes of `area` by type, last one wins, types above max ignored.
// Returns false when the area is malformed.
template <size_t N>
struct AttrTable {
  std::optional<Bytes> at[N]{};
  const std::optional<Bytes>& operator[](size_t type) const {
    static const std::optional<Bytes> none;
    return type < N ? at[type] : none;
  }
};

template <size_t N>
bool ParseAttrs(Bytes area, AttrTable<N>& table) {
  AttrIterator it(area);
  while (auto a = it.Next()) {
    if (a->type < N) table.at[a->type] = a->payload;
  }
  return !it.malformed();
}

// Typed reads of an attribute payload; nullopt when the payload has the wrong size.
std::optional<uint8_t> AttrU8(const std::optional<Bytes>& a);
std::optional<uint16_t> AttrU16(const std::optional<Bytes>& a);
std::optional<uint32_t> AttrU32(const std::optional<Bytes>& a);
std::optional<int32_t> AttrS32(const std::optional<Bytes>& a);
std::optional<uint64_t> AttrU64(const std::optional<Bytes>& a);
std::optional<uint16_t> AttrBe16(const std::optional<Bytes>& a);
std::optional<uint32_t> AttrBe32(const std::optional<Bytes>& a);
// A NUL-terminated (or unterminated, up to the payload's end) string.
std::optional<std::string> AttrString(const std::optional<Bytes>& a);

// Copies a fixed struct from the front of `b`; nullopt if `b` is shorter.
template <typename T>
std::optional<T> ReadStruct(Bytes b, size_t offset = 0) {
  if (offset > b.size() || b.size() - offset < sizeof(T)) return std::nullopt;
  T out;
  std::memcpy(&out, b.data() + offset, sizeof(T));
  return out;
}

// One netlink message found in a received datagram.
struct Message {
  nlmsghdr header{};
  Bytes payload;  // what follows nlmsghdr, up to nlmsg_len
  Bytes whole;    // header and payload
};

// Walks the messages of a received datagram in place: no copy, no allocation (the engine runs it
// on every reply). Stops at the end of the datagram or at a message whose length does not fit.
class MessageSplitter {
 public:
  explicit MessageSplitter(Bytes datagram) : rest_(datagram) {}
  // The next message; nullopt at the end, or at a malformed message (see Done).
  std::optional<Message> Next();
  // Once Next() returned nullopt: OK when the datagram ended cleanly, else a Protocol error.
  Status Done() const;

 private:
  Bytes rest_;
  uint32_t bad_length_ = 0;  // the nlmsg_len that did not fit
  size_t bad_room_ = 0;      // the bytes that were left for it
  bool malformed_ = false;
};

// Splits a datagram into messages. Errors on a message whose length does not fit.
Result<std::vector<Message>> SplitMessages(Bytes datagram);

// An NLMSG_ERROR (or NLMSG_DONE with extended ack) decoded: errnum 0 is an ACK.
struct AckInfo {
  int errnum = 0;
  std::string extack;
  int64_t offset = -1;
};
// Decodes NLMSG_ERROR. With NETLINK_CAP_ACK the original request is not echoed back, unless the
// kernel ignored the option: both layouts are handled through nlmsg_len of the embedded header.
Result<AckInfo> DecodeError(const Message& m);
// Decodes the int and optional extack TLVs that an NLMSG_DONE carries at the end of a dump.
Result<AckInfo> DecodeDone(const Message& m);

}  // namespace nlkit
