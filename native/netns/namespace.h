// Network namespaces as the native layer holds them, and the only code that moves a thread
// between namespaces.
//
// A netlink socket belongs to the namespace it was created in. To talk to namespace X we enter X
// on a worker thread, create the socket, and go straight back (NetnsVisit); the socket is then
// used from any thread with no further setns. Sockets are pooled per Namespace object, so a
// handle that is reused gets its sockets reused, and closing the handle closes them all (a cached
// socket keeps its namespace alive: the kernel can only free it once they are gone).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/fd.h"
#include "core/result.h"
#include "netlink/socket.h"

namespace nlkit {

// Identity of a namespace: the nsfs device and inode of any fd or path that refers to it.
struct NetnsKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const NetnsKey&) const = default;
};

Result<NetnsKey> KeyOf(int ns_fd);

// The namespace a worker thread lives in between jobs. Each worker records it when it starts.
class ThreadHome {
 public:
  static Status Init();
  static int fd();
  static const NetnsKey& key();
  // Set when a thread could not get back home: it must not run anything else (the pool retires it).
  static bool poisoned();
  // What setns() answered then (EIO for an injected fault), for the errors that say so.
  static int poison_errno();
  static void Poison(int err);
};

// While alive, the calling thread is inside another network namespace.
class NetnsVisit {
 public:
  static Result<NetnsVisit> Enter(int ns_fd, const std::string& label);
  NetnsVisit(NetnsVisit&& other) noexcept : active_(std::exchange(other.active_, false)) {}
  NetnsVisit(const NetnsVisit&) = delete;
  NetnsVisit& operator=(const NetnsVisit&) = delete;
  NetnsVisit& operator=(NetnsVisit&&) = delete;
  ~NetnsVisit();

 private:
  NetnsVisit() : active_(true) {}
  friend class UnsharedNetns;
  bool active_;
};

class Namespace;

// Puts the calling thread inside `ns` for as long as the returned value lives: a visit when `ns`
// is not the thread's home, nothing when it is. Refused on a thread that could not get home
// earlier (it would act in whatever namespace it is stuck in).
Result<std::optional<NetnsVisit>> EnterUnlessHome(const Namespace& ns);

// A pooled socket on loan; it goes back to its namespace's pool when the lease ends, unless the
// conversation broke it (then it is closed: it may still hold stale replies).
class SocketLease {
 public:
  SocketLease(std::shared_ptr<Namespace> owner, NetlinkSocket socket)
      : owner_(std::move(owner)), socket_(std::make_unique<NetlinkSocket>(std::move(socket))) {}
  SocketLease(SocketLease&&) = default;
  SocketLease& operator=(SocketLease&&) = default;
  ~SocketLease();
  NetlinkSocket& operator*() { return *socket_; }
  NetlinkSocket* operator->() { return socket_.get(); }

 private:
  std::shared_ptr<Namespace> owner_;
  std::unique_ptr<NetlinkSocket> socket_;
};

class Namespace : public std::enable_shared_from_this<Namespace> {
 public:
  // Opens a namespace file (/run/netns/x, /proc/PID/ns/net) and checks it is a network namespace.
  static Result<std::shared_ptr<Namespace>> Open(const std::string& path, const std::string& label);
  static Result<std::shared_ptr<Namespace>> Adopt(UniqueFd fd, std::string label);

  int fd() const { return fd_.get(); }
  const NetnsKey& key() const { return key_; }
  const std::string& label() const { return label_; }

  // An idle pooled socket of that protocol, or a new one opened inside this namespace.
  Result<SocketLease> Acquire(int protocol);
  // Pools at most this many idle sockets per namespace; more concurrent users open their own.
  static constexpr size_t kMaxIdle = 8;

  Namespace(UniqueFd fd, NetnsKey key, std::string label)
      : fd_(std::move(fd)), key_(key), label_(std::move(label)) {}

 private:
  friend class SocketLease;
  void Return(NetlinkSocket socket);

  UniqueFd fd_;
  NetnsKey key_;
  std::string label_;
  std::mutex mu_;
  std::vector<NetlinkSocket> idle_;
};

using NamespacePtr = std::shared_ptr<Namespace>;

}  // namespace nlkit
