// Creating, deleting and listing network namespaces without forking, the way `ip netns` does:
// a named namespace is a bind mount of /proc/thread-self/ns/net on <dir>/<name>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netns/namespace.h"

namespace nlkit {

// Makes a new network namespace on the calling (worker) thread and returns to the thread's home.
// With a name, it is also bind-mounted at <dir>/<name> so that it outlives the returned object
// and `ip netns` sees it; without one it lives as long as the returned object.
Result<NamespacePtr> CreateNamespace(const std::string& dir, const std::optional<std::string>& name);

// Unmounts and removes <dir>/<name>. The kernel frees the namespace once nothing else holds it.
Status DeleteNamedNamespace(const std::string& dir, const std::string& name);

// Names under <dir>, sorted; an absent directory is an empty list.
Result<std::vector<std::string>> ListNamedNamespaces(const std::string& dir);

}  // namespace nlkit
