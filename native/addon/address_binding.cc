// JS glue for addresses.
#include <linux/if_addr.h>

#include "addon/addon.h"
#include "addon/named_values.h"
#include "families/address.h"

namespace nlkit {

namespace {



}  // namespace

Napi::Value AddressToJs(Napi::Env env, const AddressInfo& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("link", a.index);
  o.Set("family", a.family == AF_INET ? 4 : 6);
  const std::optional<IpAddr>& local = a.local ? a.local : a.address;
  if (local) {
    o.Set("address", local->ToString());
    o.Set("cidr", local->ToString() + "/" + std::to_string(a.prefix_len));
  }
  o.Set("prefixLength", a.prefix_len);
  if (a.local && a.address && a.address->bytes != a.local->bytes) o.Set("peer", a.address->ToString());
  if (a.broadcast) o.Set("broadcast", a.broadcast->ToString());
  o.Set("scope", ScopeToJs(env, a.scope));
  if (a.label) o.Set("label", *a.label);
  // The names ip(8) prints. Bit 0x01 is IFA_F_SECONDARY for IPv4 and IFA_F_TEMPORARY (a privacy
  // address) for IPv6: the same value, two meanings.
  static constexpr Named kFlags4[] = {{"secondary", IFA_F_SECONDARY},     {"nodad", IFA_F_NODAD},
                                      {"dadfailed", IFA_F_DADFAILED},     {"tentative", IFA_F_TENTATIVE},
                                      {"permanent", IFA_F_PERMANENT},     {"deprecated", IFA_F_DEPRECATED},
                                      {"noprefixroute", IFA_F_NOPREFIXROUTE}};
  static constexpr Named kFlags6[] = {{"temporary", IFA_F_TEMPORARY},     {"nodad", IFA_F_NODAD},
                                      {"optimistic", IFA_F_OPTIMISTIC},   {"dadfailed", IFA_F_DADFAILED},
                                      {"home", IFA_F_HOMEADDRESS},        {"deprecated", IFA_F_DEPRECATED},
                                      {"tentative", IFA_F_TENTATIVE},     {"permanent", IFA_F_PERMANENT},
                                      {"mngtmpaddr", IFA_F_MANAGETEMPADDR}, {"noprefixroute", IFA_F_NOPREFIXROUTE},
                                      {"autojoin", IFA_F_MCAUTOJOIN},     {"stable-privacy", IFA_F_STABLE_PRIVACY}};
  o.Set("flags", a.family == AF_INET ? NamesOfBits(env, kFlags4, a.flags) : NamesOfBits(env, kFlags6, a.flags));
  if (a.valid_lifetime && *a.valid_lifetime != 0xffffffffu) o.Set("validLifetime", *a.valid_lifetime);
  if (a.preferred_lifetime && *a.preferred_lifetime != 0xffffffffu) o.Set("preferredLifetime", *a.preferred_lifetime);
  return o;
}

AddressSpec ReadAddressSpec(const Napi::Object& o) {
  AddressSpec s;
  s.link = ReqLinkRef(o, "link");
  auto local = OptIp(o, "address");
  if (!local) throw Napi::TypeError::New(o.Env(), "nlkit native: 'address' is required");
  s.local = *local;
  s.prefix_len = static_cast<uint8_t>(OptU32(o, "prefixLength").value_or(s.local.family == AF_INET ? 32 : 128));
  s.peer = OptIp(o, "peer");
  s.broadcast = OptIp(o, "broadcast");
  s.scope = OptScope(o, "scope");
  s.label = OptString(o, "label");
  s.valid_lifetime = OptU32(o, "validLifetime");
  s.preferred_lifetime = OptU32(o, "preferredLifetime");
  s.no_dad = OptBool(o, "noDad").value_or(false);
  return s;
}

Napi::Value AddressAdd(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  AddressSpec spec = ReadAddressSpec(req);
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec](Namespace& ns) -> Result<Materializer> {
    auto a = AddAddress(ns, spec);
    if (!a) return std::move(a.error());
    return Materializer([a = std::move(*a)](Napi::Env env) { return AddressToJs(env, a); });
  });
}

Napi::Value AddressDelete(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  AddressSpec spec = ReadAddressSpec(req);
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec](Namespace& ns) -> Result<Materializer> {
    Status s = DeleteAddress(ns, spec);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

Napi::Value AddressList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  auto link = OptLinkRef(req, "link");
  const int family = OptFamily(req, "family");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [link, family](Namespace& ns) -> Result<Materializer> {
    auto list = ListAddresses(ns, link, family);
    if (!list) return std::move(list.error());
    return ListOf(std::move(*list), AddressToJs);
  });
}

}  // namespace nlkit
