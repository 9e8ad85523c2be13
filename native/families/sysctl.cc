#include "families/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace nlkit {

namespace {

Result<std::string> PathOf(const std::vector<std::string>& segments) {
  if (segments.empty()) return Error::Invalid("empty sysctl key");
  std::string path = "/proc/sys/net";
  for (const std::string& s : segments) {
    if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos || s.find('\0') != std::string::npos) {
      return Error::Invalid("sysctl key segment '" + s + "' would leave /proc/sys/net");
    }
    path += "/" + s;
  }
  return path;
}

std::string KeyOf(const std::vector<std::string>& segments) {
  std::string key = "net";
  for (const std::string& s : segments) key += "." + s;
  return key;
}

// Opens the sysctl file from inside `ns` (a no-op visit when the worker already lives there).
Result<UniqueFd> OpenIn(Namespace& ns, const std::string& path, int flags, const std::string& key) {
  auto visit = EnterUnlessHome(ns);
  if (!visit) return std::move(visit.error());
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return Error::System(errno, flags == O_RDONLY ? "getSysctl" : "setSysctl", key);
  return fd;
}

}  // namespace

Result<std::string> ReadSysctl(Namespace& ns, const std::vector<std::string>& segments) {
  auto path = PathOf(segments);
  if (!path) return std::move(path.error());
  const std::string key = KeyOf(segments);
  auto fd = OpenIn(ns, *path, O_RDONLY, key);
  if (!fd) return std::move(fd.error());
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd->get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::System(errno, "getSysctl", key);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) return Error::Protocol("sysctl value larger than 1 MiB: " + key);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Status WriteSysctl(Namespace& ns, const std::vector<std::string>& segments, const std::string& value) {
  auto path = PathOf(segments);
  if (!path) return std::move(path.error());
  const std::string key = KeyOf(segments);
  auto fd = OpenIn(ns, *path, O_WRONLY, key);
  if (!fd) return std::move(fd.error());
  const std::string line = value + "\n";
  for (;;) {
    const ssize_t n = ::write(fd->get(), line.data(), line.size());
    if (n >= 0) return OkStatus();
    if (errno == EINTR) continue;
    return Error::System(errno, "setSysctl", key + " = " + value);
  }
}

}  // namespace nlkit
