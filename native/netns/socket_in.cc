#include "netns/socket_in.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace nlkit {

Result<std::pair<int, uint16_t>> OpenSocketIn(Namespace& ns, const SocketSpec& spec) {
  UniqueFd fd;
  {
    auto visit = EnterUnlessHome(ns);
    if (!visit) return std::move(visit.error());
    fd.reset(::socket(spec.family, (spec.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return Error::System(errno, "openSocket", "socket in " + ns.label());
  }  // back home: the socket stays in the namespace it was made in
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (spec.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(spec.bind_port);
    if (spec.bind_address) std::memcpy(&sin->sin_addr, spec.bind_address->bytes.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(spec.bind_port);
    if (spec.bind_address) std::memcpy(&sin6->sin6_addr, spec.bind_address->bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  uint16_t port = 0;
  if (spec.bind) {
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      return Error::System(errno, "openSocket", "bind in " + ns.label());
    }
    socklen_t got = sizeof(ss);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &got) == 0) {
      port = ntohs(spec.family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                          : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    }
  }
  return std::make_pair(fd.release(), port);  // ownership passes to the caller
}

}  // namespace nlkit
