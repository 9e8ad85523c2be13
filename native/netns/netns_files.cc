#include "netns/netns_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/stat.h>

#include <algorithm>
#include <mutex>

namespace nlkit {

namespace {

// Like `mkdir -p` for the netns directory (mode 0755).
Status MakeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error::System(errno, "mkdir", prefix);
    }
  }
  return OkStatus();
}

// ip(8) makes the netns directory a shared mount point, so that deleting a namespace in one
// mount namespace unmounts it in the others too and the kernel can free it sooner.
Status MakeSharedMountPoint(const std::string& dir) {
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return OkStatus();
  if (errno != EINVAL) return Error::System(errno, "mount --make-shared", dir);
  // Not a mount point yet: bind it onto itself first.
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
    return Error::System(errno, "mount --bind", dir);
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return Error::System(errno, "mount --make-shared", dir);
  }
  return OkStatus();
}

}  // namespace

// While alive, the calling thread is in a namespace of its own that unshare() just made.
class UnsharedNetns {
 public:
  static Result<NetnsVisit> Enter() {
    if (ThreadHome::fd() < 0) NLKIT_TRY(ThreadHome::Init());
    if (::unshare(CLONE_NEWNET) != 0) return Error::System(errno, "unshare", "new network namespace");
    return NetnsVisit();  // its destructor setns()es back home
  }
};

Result<NamespacePtr> CreateNamespace(const std::string& dir, const std::optional<std::string>& name) {
  std::string path;
  if (name) {
    {
      // Two first createNetns calls at once would each find the directory not yet a mount point
      // and each bind it onto itself, stacking mounts. (ip(8) running at the same time still can.)
      static std::mutex dir_setup;
      std::lock_guard<std::mutex> lock(dir_setup);
      NLKIT_TRY(MakeDirs(dir));
      NLKIT_TRY(MakeSharedMountPoint(dir));
    }
    path = dir + "/" + *name;
    UniqueFd placeholder(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
    if (!placeholder.valid()) return Error::System(errno, "createNetns", "netns " + path);
  }

  UniqueFd fd;
  {
    auto visit = UnsharedNetns::Enter();
    if (!visit) {
      if (name) ::unlink(path.c_str());
      return std::move(visit.error());
    }
    fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      const int err = errno;
      if (name) ::unlink(path.c_str());
      return Error::System(err, "open", "/proc/thread-self/ns/net");
    }
    if (name && ::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      const int err = errno;
      ::unlink(path.c_str());
      return Error::System(err, "mount --bind", "netns " + path);
    }
  }  // back in the thread's home namespace here
  if (ThreadHome::poisoned()) {
    // Nothing half-made: the mount and the file go (neither depends on the thread's namespace).
    if (name) {
      ::umount2(path.c_str(), MNT_DETACH);
      ::unlink(path.c_str());
    }
    return Error::System(ThreadHome::poison_errno(), "setns", "returning a worker thread to its namespace");
  }
  return Namespace::Adopt(std::move(fd), name ? path : std::string("anonymous netns"));
}

Status DeleteNamedNamespace(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Error::System(errno, "deleteNetns", "netns " + path);
  // nlkit and ip(8) put files there, never symlinks. umount2 would follow one and detach whatever
  // mount it points at (UMOUNT_NOFOLLOW below guards the race between this check and it).
  if (S_ISLNK(st.st_mode)) {
    Error e = Error::System(EINVAL, "deleteNetns", "netns " + path);
    e.detail = "a symbolic link, not a namespace: left as it is";
    return e;
  }
  // Only a namespace file (nsfs) is unmounted. With a mistaken netnsDir ('/var/run' and the name
  // 'netns', say) the path can be any mount point, and a detach would take it from every process.
  // Anything else is only unlinked, which the kernel refuses for a mount point (EBUSY) or a
  // directory (EISDIR); a plain file is a leftover of a creation cut short, and goes.
  UniqueFd at(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!at.valid()) return Error::System(errno, "deleteNetns", "netns " + path);
  struct statfs fs {};
  if (::fstatfs(at.get(), &fs) != 0) return Error::System(errno, "statfs", "netns " + path);
  const bool isNamespace = fs.f_type == NSFS_MAGIC;
  // EINVAL: no longer a mount point (unmounted meanwhile); removing the file is still what's asked.
  if (isNamespace && ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL) {
    return Error::System(errno, "umount", "netns " + path);
  }
  if (::unlink(path.c_str()) != 0) {
    Error e = Error::System(errno, "unlink", "netns " + path);
    if (!isNamespace) e.detail = "not a network namespace: left as it is";
    return e;
  }
  return OkStatus();
}

Result<std::vector<std::string>> ListNamedNamespaces(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    return Error::System(errno, "opendir", dir);
  }
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace nlkit
