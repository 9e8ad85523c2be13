// Addresses (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR dump), IPv4 and IPv6.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "families/link.h"

namespace nlkit {

struct AddressSpec {
  LinkRefArg link;
  IpAddr local;
  uint8_t prefix_len = 0;
  std::optional<IpAddr> peer;       // point-to-point peer (IFA_ADDRESS)
  std::optional<IpAddr> broadcast;  // IPv4 only
  std::optional<uint8_t> scope;
  std::optional<std::string> label;  // IPv4 only
  std::optional<uint32_t> valid_lifetime, preferred_lifetime;  // seconds
  bool no_dad = false;               // IPv6: skip duplicate address detection
};

// The broadcast address of an IPv4 subnet with room for hosts (/30 or shorter): what a container's
// address gets, as Docker's and CNI's do (the kernel then routes the subnet's broadcasts).
std::optional<IpAddr> SubnetBroadcast(const IpAddr& a, uint8_t prefix_len);

struct AddressInfo {
  int family = 0;
  uint8_t prefix_len = 0;
  uint32_t index = 0;
  uint8_t scope = 0;
  uint32_t flags = 0;
  std::optional<IpAddr> local, address, broadcast;
  std::optional<std::string> label;
  std::optional<uint32_t> valid_lifetime, preferred_lifetime;
  // IPv4 or IPv6: what nlkit reports. Others are decoded bare (the family alone) and skipped.
  bool IsIp() const { return family == AF_INET || family == AF_INET6; }
};

MessageBuilder EncodeAddress(uint16_t type, uint16_t flags, const AddressSpec& spec, uint32_t index);
Result<AddressInfo> DecodeAddress(const Message& m);

// Adds an address and returns it as the kernel reports it (NLM_F_ECHO).
Result<AddressInfo> AddAddress(Namespace& ns, const AddressSpec& spec);
Status DeleteAddress(Namespace& ns, const AddressSpec& spec);
// All addresses of the namespace, or of one link; family 0 = both.
Result<std::vector<AddressInfo>> ListAddresses(Namespace& ns, const std::optional<LinkRefArg>& link, int family);

}  // namespace nlkit
