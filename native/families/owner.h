// Owner tags: what nlkit makes for a container carries the caller's container id, so that a
// launcher killed mid-start can find and remove it after a restart (sweep). The tag is the host
// veth's alias and a port mapping's element comment: "nlkit:<container id>".
#pragma once

#include <string>

namespace nlkit {

inline std::string OwnerTag(const std::string& owner) { return "nlkit:" + owner; }

// The owner a tag names; empty when it is not an owner tag.
inline std::string OwnerOfTag(const std::string& tag) {
  return tag.rfind("nlkit:", 0) == 0 ? tag.substr(6) : std::string();
}

}  // namespace nlkit
