// The nfnetlink message layout nftables and conntrack share: the message type is the subsystem
// and the subsystem's message, and the family header is a struct nfgenmsg.
#pragma once

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdint>

#include "netlink/message.h"

namespace nlkit {

inline uint16_t NfnlType(uint8_t subsystem, uint16_t msg) { return static_cast<uint16_t>((subsystem << 8) | msg); }

// A request of `subsystem` with its nfgenmsg header (version 0, resource id 0).
inline MessageBuilder NfnlMessage(uint8_t subsystem, uint16_t msg, uint16_t flags, uint8_t family) {
  MessageBuilder m(NfnlType(subsystem, msg), NLM_F_REQUEST | flags);
  nfgenmsg h{};
  h.nfgen_family = family;
  h.version = NFNETLINK_V0;
  h.res_id = htons(0);
  m.PutHeader(h);
  return m;
}

}  // namespace nlkit
