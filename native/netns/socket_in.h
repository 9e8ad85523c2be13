// A TCP or UDP socket that belongs to another network namespace: created on a worker inside it,
// optionally bound there, and handed to JS as an fd (net.Socket / net.Server adopt it).
#pragma once

#include <optional>
#include <string>

#include "families/link.h"

namespace nlkit {

struct SocketSpec {
  int family = 0;      // AF_INET, AF_INET6
  bool tcp = true;     // else UDP
  bool bind = false;  // bind to bind_address (or any) and bind_port (0: a free one)
  std::optional<IpAddr> bind_address;
  uint16_t bind_port = 0;
};

// Returns the fd (the caller owns it) and the bound port.
Result<std::pair<int, uint16_t>> OpenSocketIn(Namespace& ns, const SocketSpec& spec);

}  // namespace nlkit

namespace nlkit {

// Test support: one UDP exchange across namespaces. A server socket bound in `server_ns` at
// server_address:server_port, a client socket in `client_ns` that sends `payload` to
// target:target_port; the server answers whatever arrives with "<payload> from <sender ip>".
// Reports what the server saw and what the client got back, or empty strings on timeouts.
struct UdpProbeResult {
  std::string server_saw_from;  // the sender address the server saw
  std::string client_got;       // the answer the client received
};
struct UdpProbeSpec {
  IpAddr server_address;
  uint16_t server_port = 0;
  IpAddr target;
  uint16_t target_port = 0;
  std::string payload;
  int timeout_ms = 1000;
  uint16_t client_port = 0;  // the client's source port; 0: an ephemeral one
};
Result<UdpProbeResult> UdpProbe(Namespace& server_ns, Namespace& client_ns, const UdpProbeSpec& spec);

}  // namespace nlkit
