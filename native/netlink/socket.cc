#include "netlink/socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <limits.h>

#include <array>
#include <atomic>
#include <memory>
#include <vector>
#include <string>

#include "core/clock.h"

namespace nlkit {

namespace {
constexpr int kReceiveBuffer = 4 << 20;      // room for big dumps and echo bursts
constexpr int kReceiveTimeoutSeconds = 30;   // the kernel answers in microseconds; 30 s is a fault
constexpr size_t kReceiveBufferBytes = 1 << 20;

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
}  // namespace

Result<NetlinkSocket> NetlinkSocket::Open(int protocol) {
  SyscallTimer timer;
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) return Error::System(errno, "socket", "netlink protocol " + std::to_string(protocol));

  const int one = 1;
  // Best effort: old kernels lack these and still work, only with less precise errors.
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  if (protocol == NETLINK_ROUTE) {
    ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
  }
  // SO_RCVBUFFORCE needs CAP_NET_ADMIN over the initial user namespace; fall back to the capped
  // one, and once refused, go straight to it (a socket is opened for every new namespace).
  static std::atomic<bool> force_refused{false};
  if (force_refused.load(std::memory_order_relaxed) ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof(kReceiveBuffer)) != 0) {
    force_refused.store(true, std::memory_order_relaxed);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof(kReceiveBuffer));
  }
  timeval tv{kReceiveTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return Error::System(errno, "bind", "netlink socket");
  }
  socklen_t len = sizeof(local);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return Error::System(errno, "getsockname", "netlink socket");
  }
  NLKIT_TRY(ConnectToKernel(fd.get(), "netlink socket"));
  return NetlinkSocket(std::move(fd), protocol, local.nl_pid);
}

Status ConnectToKernel(int fd, const char* what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) != 0) return Error::System(errno, "connect", what);
  return OkStatus();
}

namespace {
// A failure of the socket itself, named by the layer above (Error::In).
Error TransportError(int errnum, const char* syscall) {
  Error e = Error::System(errnum, syscall, "the netlink socket");
  e.transport = true;
  return e;
}
}  // namespace

Status NetlinkSocket::Send(std::span<const MessageBuilder> messages) {
  // The iovecs of a usual batch (a container's is four or five) live on the stack; only a long
  // nftables batch allocates them.
  constexpr size_t kInline = 16;
  std::array<iovec, kInline> inline_iov;
  std::vector<iovec> long_iov;
  iovec* iov = inline_iov.data();
  for (const MessageBuilder& m : messages) {
    if (m.overflowed()) return Error::Invalid("a netlink attribute longer than 65531 bytes");
  }
  // sendmsg takes at most IOV_MAX (1024) iovecs, whatever their size (EMSGSIZE beyond): a longer
  // batch (only an nftables one can be: Transact sends in chunks) goes as one buffer, copied. The
  // kernel reads a datagram the same either way.
  size_t iov_count = messages.size();
  std::vector<uint8_t> joined;
  if (iov_count > IOV_MAX) {
    size_t total = 0;
    for (const MessageBuilder& m : messages) total += m.size();
    joined.reserve(total);
    for (const MessageBuilder& m : messages) joined.insert(joined.end(), m.data(), m.data() + m.size());
    iov[0] = iovec{joined.data(), joined.size()};
    iov_count = 1;
  } else {
    if (iov_count > kInline) {
      long_iov.resize(iov_count);
      iov = long_iov.data();
    }
    for (size_t i = 0; i < iov_count; ++i) iov[i] = iovec{const_cast<uint8_t*>(messages[i].data()), messages[i].size()};
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof(kernel);
  msg.msg_iov = iov;
  msg.msg_iovlen = iov_count;
  for (;;) {
    const ssize_t n = [&] {
      SyscallTimer timer;
      return ::sendmsg(fd_.get(), &msg, 0);
    }();
    if (n >= 0) return OkStatus();
    if (errno == EINTR) continue;
    broken_ = true;
    return TransportError(errno, "sendmsg");
  }
}

Result<Bytes> NetlinkSocket::Receive() {
  // One recvmsg per datagram, into a buffer far larger than anything the kernel sends: dump
  // datagrams are at most 32 KiB, and a single reply is one object. The buffer is per thread and
  // left uninitialised, so only the bytes the kernel writes ever become resident. (Peeking first
  // to size the buffer doubled the system calls of every reply.)
  thread_local const std::unique_ptr<uint8_t[]> buffer = std::make_unique_for_overwrite<uint8_t[]>(kReceiveBufferBytes);
  for (;;) {
    iovec iov{buffer.get(), kReceiveBufferBytes};
    sockaddr_nl from{};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    // MSG_TRUNC makes recvmsg return the datagram's real size, so a cut reply is detected.
    const ssize_t n = [&] {
      SyscallTimer timer;
      return ::recvmsg(fd_.get(), &msg, MSG_TRUNC);
    }();
    if (n < 0) {
      if (errno == EINTR) continue;
      broken_ = true;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        Error e = TransportError(ETIMEDOUT, "recvmsg");
        e.detail = "no reply from the kernel";
        return e;
      }
      return TransportError(errno, "recvmsg");
    }
    if (static_cast<size_t>(n) > kReceiveBufferBytes) {
      broken_ = true;
      return Error::Protocol("a netlink reply of " + std::to_string(n) + " bytes exceeded the " +
                             std::to_string(kReceiveBufferBytes >> 10) + " KiB receive buffer");
    }
    if (from.nl_pid != 0) continue;  // only the kernel talks to us
    return Bytes(buffer.get(), static_cast<size_t>(n));
  }
}

}  // namespace nlkit
