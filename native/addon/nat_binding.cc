// JS glue for nlkit's NAT table: masquerade rules, listing, flushing.
#include "addon/addon.h"
#include "families/nat.h"

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
  return s;
}
}  // namespace

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
      o.Set("added", added);
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
    return Materializer([n = *removed](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("removed", static_cast<double>(n));
      return o;
    });
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
