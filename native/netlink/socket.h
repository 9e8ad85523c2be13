// A raw netlink socket of one protocol, owned. It belongs to the network namespace of the thread
// that created it, for its whole life (see netns/namespace.h for how that thread is chosen).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "core/fd.h"
#include "core/result.h"
#include "netlink/message.h"

namespace nlkit {

// Connects a bound netlink socket to the kernel (port 0). The kernel then refuses a datagram any
// other process sends it (ECONNREFUSED to the sender): no forged reply or notification, and no
// junk filling the buffer in front of the kernel's own. `what` names the socket in the error.
Status ConnectToKernel(int fd, const char* what);

class NetlinkSocket {
 public:
  // Opens and configures a socket in the calling thread's network namespace: extended ACKs with
  // the kernel's error text, capped ACKs, strict dump checking where the protocol has it, a large
  // receive buffer and a receive timeout so that a silent kernel is an error, not a hang.
  static Result<NetlinkSocket> Open(int protocol);

  NetlinkSocket(NetlinkSocket&&) = default;
  NetlinkSocket& operator=(NetlinkSocket&&) = default;

  int protocol() const { return protocol_; }
  uint32_t port_id() const { return port_id_; }
  uint32_t NextSeq() { return ++seq_; }

  // Sends several messages in one sendmsg (one datagram: the kernel handles them in order).
  Status Send(std::span<const MessageBuilder> messages);
  // Receives one datagram. The bytes live in a buffer of the calling thread and stay valid until
  // that thread's next Receive on any socket.
  Result<Bytes> Receive();

  // A socket whose conversation went wrong (timeout, truncated reply) may still hold replies
  // meant for an earlier request; it must not be reused.
  void MarkBroken() { broken_ = true; }
  bool broken() const { return broken_; }

 private:
  NetlinkSocket(UniqueFd fd, int protocol, uint32_t port_id)
      : fd_(std::move(fd)), protocol_(protocol), port_id_(port_id) {}

  UniqueFd fd_;
  int protocol_ = 0;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
  bool broken_ = false;
};

}  // namespace nlkit
