// Sysctls under /proc/sys/net of any namespace. /proc/sys/net resolves against the network
// namespace of the thread that opens the file, so the open happens on a worker inside the target
// namespace (see netns/namespace.h); the read or write then goes through that fd.
#pragma once

#include <string>
#include <vector>

#include "netns/namespace.h"

namespace nlkit {

// `segments` are the key's parts after "net" ({"ipv4", "ip_forward"}); each must be a plain path
// component (not empty, ".", "..", and without '/'), so the path never leaves /proc/sys/net.
Result<std::string> ReadSysctl(Namespace& ns, const std::vector<std::string>& segments);
Status WriteSysctl(Namespace& ns, const std::vector<std::string>& segments, const std::string& value);

}  // namespace nlkit
