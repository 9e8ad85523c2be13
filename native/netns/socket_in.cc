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
    // TCP only, as Node's net servers do: a listener can be made again at once over the old
    // connections' TIME_WAIT. For UDP it would let a second socket share the port.
    if (spec.tcp) {
      const int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
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

#include <poll.h>

namespace nlkit {

namespace {
socklen_t ToSockaddr(const IpAddr& a, uint16_t port, sockaddr_storage& ss) {
  ss = {};
  if (a.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::string AddressOf(const sockaddr_storage& ss) {
  IpAddr a;
  a.family = ss.ss_family;
  if (ss.ss_family == AF_INET) {
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, 4);
  } else {
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, 16);
  }
  return a.ToString();
}

// Waits for one datagram; empty on timeout.
Result<std::pair<std::string, sockaddr_storage>> ReceiveOne(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) return Error::System(errno, "poll", "udp probe");
  std::pair<std::string, sockaddr_storage> out{};
  if (n == 0) return out;
  char buf[2048];
  socklen_t len = sizeof(out.second);
  const ssize_t got = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&out.second), &len);
  if (got < 0) return Error::System(errno, "recvfrom", "udp probe");
  out.first.assign(buf, static_cast<size_t>(got));
  return out;
}
}  // namespace

Result<UdpProbeResult> UdpProbe(Namespace& server_ns, Namespace& client_ns, const UdpProbeSpec& spec) {
  SocketSpec server_spec;
  server_spec.family = spec.server_address.family;
  server_spec.tcp = false;
  server_spec.bind = true;
  server_spec.bind_address = spec.server_address;
  server_spec.bind_port = spec.server_port;
  auto server = OpenSocketIn(server_ns, server_spec);
  if (!server) return std::move(server.error());
  UniqueFd server_fd(server->first);
  SocketSpec client_spec;
  client_spec.family = spec.target.family;
  client_spec.tcp = false;
  if (spec.client_port != 0) {
    // A fixed source port: the same flow, to conntrack, as the last exchange from it.
    client_spec.bind = true;
    client_spec.bind_address = IpAddr{spec.target.family, {}};
    client_spec.bind_port = spec.client_port;
  }
  auto client = OpenSocketIn(client_ns, client_spec);
  if (!client) return std::move(client.error());
  UniqueFd client_fd(client->first);

  sockaddr_storage to{};
  const socklen_t to_len = ToSockaddr(spec.target, spec.target_port, to);
  if (::sendto(client_fd.get(), spec.payload.data(), spec.payload.size(), 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0) {
    return Error::System(errno, "sendto", "udp probe");
  }
  UdpProbeResult out;
  auto request = ReceiveOne(server_fd.get(), spec.timeout_ms);
  if (!request) return std::move(request.error());
  if (request->first.empty()) return out;
  out.server_saw_from = AddressOf(request->second);
  const std::string answer = request->first + " from " + out.server_saw_from;
  const socklen_t back_len = request->second.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  ::sendto(server_fd.get(), answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&request->second), back_len);
  auto reply = ReceiveOne(client_fd.get(), spec.timeout_ms);
  if (!reply) return std::move(reply.error());
  out.client_got = reply->first;
  return out;
}

}  // namespace nlkit
