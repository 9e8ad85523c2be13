#include "netns/namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "netlink/fault_injection.h"

namespace nlkit {

namespace {
thread_local UniqueFd t_home_fd;
thread_local NetnsKey t_home_key;
thread_local int t_poison_errno = 0;  // nonzero: the thread could not get home (what setns said)
}  // namespace

Result<NetnsKey> KeyOf(int ns_fd) {
  struct stat st {};
  if (::fstat(ns_fd, &st) != 0) return Error::System(errno, "fstat", "netns fd");
  return NetnsKey{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

Status ThreadHome::Init() {
  UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::System(errno, "open", "/proc/thread-self/ns/net");
  auto key = KeyOf(fd.get());
  if (!key) return std::move(key.error());
  t_home_key = *key;
  t_home_fd = std::move(fd);
  return OkStatus();
}

int ThreadHome::fd() { return t_home_fd.get(); }
const NetnsKey& ThreadHome::key() { return t_home_key; }
bool ThreadHome::poisoned() { return t_poison_errno != 0; }
int ThreadHome::poison_errno() { return t_poison_errno; }
void ThreadHome::Poison(int err) { t_poison_errno = err != 0 ? err : EIO; }

namespace {
// A thread that could not get home is in a namespace it does not know: nothing more may be done
// on it, not even the rest of the current job.
Error PoisonedError() {
  Error e = Error::System(t_poison_errno, "setns", "worker thread");
  e.detail = "the thread could not return to its own network namespace earlier in this call";
  return e;
}
}  // namespace

Result<NetnsVisit> NetnsVisit::Enter(int ns_fd, const std::string& label) {
  if (t_poison_errno != 0) return PoisonedError();
  if (!t_home_fd.valid()) NLKIT_TRY(ThreadHome::Init());
  SyscallTimer timer;
  if (::setns(ns_fd, CLONE_NEWNET) != 0) return Error::System(errno, "setns", "netns " + label);
  return NetnsVisit();
}

NetnsVisit::~NetnsVisit() {
  if (!active_) return;
  SyscallTimer timer;
  if (TakeHomeFault()) {
    ThreadHome::Poison(EIO);
  } else if (::setns(t_home_fd.get(), CLONE_NEWNET) != 0) {
    ThreadHome::Poison(errno);
  }
}

Result<std::optional<NetnsVisit>> EnterUnlessHome(const Namespace& ns) {
  if (t_poison_errno != 0) return PoisonedError();
  if (!t_home_fd.valid()) NLKIT_TRY(ThreadHome::Init());
  if (ns.key() == t_home_key) return std::optional<NetnsVisit>{};
  auto visit = NetnsVisit::Enter(ns.fd(), ns.label());
  if (!visit) return std::move(visit.error());
  return std::optional<NetnsVisit>{std::move(*visit)};
}

SocketLease::~SocketLease() {
  if (owner_ && socket_ && !socket_->broken()) owner_->Return(std::move(*socket_));
}

Result<std::shared_ptr<Namespace>> Namespace::Open(const std::string& path, const std::string& label) {
  // O_NONBLOCK: a caller's path may name a FIFO without a writer (or a tty), whose plain open
  // would block the worker for good; a namespace file opens the same either way.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return Error::System(errno, "open netns", label);
  return Adopt(std::move(fd), label);
}

Result<std::shared_ptr<Namespace>> Namespace::Adopt(UniqueFd fd, std::string label) {
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    Error e = Error::System(EINVAL, "open netns", label);
    e.detail = "not a network namespace";
    return e;
  }
  auto key = KeyOf(fd.get());
  if (!key) return std::move(key.error());
  return std::make_shared<Namespace>(std::move(fd), *key, std::move(label));
}

Result<SocketLease> Namespace::Acquire(int protocol) {
  if (t_poison_errno != 0) return PoisonedError();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->protocol() == protocol) {
        NetlinkSocket s = std::move(*it);
        idle_.erase(it);
        return SocketLease(shared_from_this(), std::move(s));
      }
    }
  }
  auto visit = EnterUnlessHome(*this);
  if (!visit) return std::move(visit.error());
  auto s = NetlinkSocket::Open(protocol);
  if (!s) return std::move(s.error());
  return SocketLease(shared_from_this(), std::move(*s));
}

void Namespace::Return(NetlinkSocket socket) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(socket));
}

}  // namespace nlkit
