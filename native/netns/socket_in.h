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
