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
  static constexpr Named kFlags[] = {{"secondary", IFA_F_SECONDARY}, {"nodad", IFA_F_NODAD},
                                     {"dadfailed", IFA_F_DADFAILED},   {"tentative", IFA_F_TENTATIVE},
                                     {"permanent", IFA_F_PERMANENT},   {"deprecated", IFA_F_DEPRECATED}};
  o.Set("flags", NamesOfBits(env, kFlags, a.flags));
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
