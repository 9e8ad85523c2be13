// JS glue for nlkit's NAT table: masquerade rules, listing, flushing.
#include "addon/addon.h"
#include "families/nat.h"
#include "families/portmap.h"

namespace nlkit {

namespace {
MasqueradeSpec ReadMasquerade(const Napi::Object& o) {
  MasqueradeSpec s;
  auto source = OptIp(o, "source");
  if (!source) throw Napi::TypeError::New(o.Env(), "nlkit native: 'source' is required");
  s.source = *source;
  s.prefix_len = static_cast<uint8_t>(OptU32(o, "prefixLength").value_or(0));
  s.out_interface = OptString(o, "outInterface");
  s.exclude_interface = OptString(o, "excludeInterface");
  s.hairpin = OptBool(o, "hairpin").value_or(true);
  return s;
}
PortMappingSpec ReadPortMapping(const Napi::Object& o) {
  PortMappingSpec s;
  s.tcp = ReqString(o, "protocol") == "tcp";
  s.family = OptFamily(o, "family");
  s.host_ip = OptIp(o, "hostIp");
  s.host_port = static_cast<uint16_t>(OptU32(o, "hostPort").value_or(0));
  auto ip = OptIp(o, "containerIp");
  if (!ip || s.family == 0) throw Napi::TypeError::New(o.Env(), "nlkit native: 'containerIp' and 'family' are required");
  s.container_ip = *ip;
  s.container_port = static_cast<uint16_t>(OptU32(o, "containerPort").value_or(0));
  return s;
}

Napi::Value PortMappingToJs(Napi::Env env, const PortMappingSpec& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("protocol", s.tcp ? "tcp" : "udp");
  o.Set("family", s.family == AF_INET ? 4 : 6);
  if (s.host_ip) o.Set("hostIp", s.host_ip->ToString());
  o.Set("hostPort", s.host_port);
  o.Set("containerIp", s.container_ip.ToString());
  o.Set("containerPort", s.container_port);
  return o;
}
// { removed: <count or bool> }, the answer of both removals.
template <typename T>
Materializer Removed(T value) {
  return [value](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("removed", value);
    return o;
  };
}
}  // namespace

Napi::Value NatPortMappingAdd(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  PortMappingSpec spec = ReadPortMapping(req);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec, table](Namespace& ns) -> Result<Materializer> {
    auto made = AddPortMapping(ns, table, spec);
    if (!made) return std::move(made.error());
    return Materializer([m = *made](Napi::Env env) { return PortMappingToJs(env, m); });
  });
}

Napi::Value NatPortMappingRemove(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  PortMappingSpec spec = ReadPortMapping(req);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec, table](Namespace& ns) -> Result<Materializer> {
    auto removed = RemovePortMapping(ns, table, spec);
    if (!removed) return std::move(removed.error());
    return Removed(*removed);
  });
}

Napi::Value NatPortMappingList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table](Namespace& ns) -> Result<Materializer> {
    auto list = ListPortMappings(ns, table);
    if (!list) return std::move(list.error());
    return ListOf(std::move(*list), PortMappingToJs);
  });
}

Napi::Value NatMasqueradeAdd(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  MasqueradeSpec spec = ReadMasquerade(req);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec, table](Namespace& ns) -> Result<Materializer> {
    auto added = AddMasquerade(ns, table, spec);
    if (!added) return std::move(added.error());
    const std::string comment = MasqueradeComment(spec);
    return Materializer([added = *added, comment](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("added", added.added);
      o.Set("handle", static_cast<double>(added.handle));
      o.Set("comment", comment);
      return o;
    });
  });
}

Napi::Value NatMasqueradeRemove(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  MasqueradeSpec spec = ReadMasquerade(req);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec, table](Namespace& ns) -> Result<Materializer> {
    auto removed = RemoveMasquerade(ns, table, spec);
    if (!removed) return std::move(removed.error());
    return Removed(static_cast<double>(*removed));
  });
}

Napi::Value NatList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table](Namespace& ns) -> Result<Materializer> {
    auto rules = ListNatRules(ns, table);
    if (!rules) return std::move(rules.error());
    return ListOf(std::move(*rules), [](Napi::Env env, const nft::RuleInfo& r) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("chain", r.chain);
      o.Set("handle", static_cast<double>(r.handle));
      o.Set("comment", r.comment);
      return o;
    });
  });
}

Napi::Value NatFlush(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table](Namespace& ns) -> Result<Materializer> {
    Status s = FlushNat(ns, table);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

}  // namespace nlkit
