// JS glue for neighbours and bridge FDB entries.
#include <linux/neighbour.h>

#include "addon/addon.h"
#include "addon/named_values.h"
#include "families/neighbor.h"

namespace nlkit {

namespace {

constexpr Named kStates[] = {{"incomplete", NUD_INCOMPLETE}, {"reachable", NUD_REACHABLE}, {"stale", NUD_STALE},
                           {"delay", NUD_DELAY},           {"probe", NUD_PROBE},         {"failed", NUD_FAILED},
                           {"noarp", NUD_NOARP},           {"permanent", NUD_PERMANENT}};
constexpr Named kFlags[] = {{"self", NTF_SELF}, {"master", NTF_MASTER}, {"router", NTF_ROUTER},
                          {"extern_learn", NTF_EXT_LEARNED}, {"proxy", NTF_PROXY}};

int FamilyOf(const Napi::Object& o) {
  auto f = OptString(o, "family");
  if (!f || *f == "bridge") return f ? AF_BRIDGE : 0;
  if (*f == "4") return AF_INET;
  if (*f == "6") return AF_INET6;
  throw Napi::TypeError::New(o.Env(), "nlkit native: family must be '4', '6' or 'bridge'");
}

NeighborSpec ReadSpec(const Napi::Object& o) {
  NeighborSpec s;
  s.family = FamilyOf(o);
  s.dev = ReqLinkRef(o, "dev");
  s.address = OptIp(o, "address");
  s.mac = OptMac(o, "mac");
  s.dst = OptIp(o, "dst");
  if (auto v = OptU32(o, "vlan")) s.vlan = static_cast<uint16_t>(*v);
  s.vni = OptU32(o, "vni");
  if (auto states = OptObject(o, "state")) {
    Napi::Array a = states->As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      const std::string name = a.Get(i).ToString().Utf8Value();
      for (const Named& b : kStates) {
        if (name == b.name) s.state = static_cast<uint16_t>(s.state | b.value);
      }
    }
  }
  if (OptBool(o, "self").value_or(false)) s.flags |= NTF_SELF;
  if (OptBool(o, "master").value_or(false)) s.flags |= NTF_MASTER;
  const std::string mode = OptString(o, "mode").value_or("create");
  if (mode == "replace") s.mode = NeighborSpec::Mode::kReplace;
  if (mode == "append") s.mode = NeighborSpec::Mode::kAppend;
  return s;
}

}  // namespace

Napi::Value NeighborToJs(Napi::Env env, const NeighborInfo& n) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", n.family == AF_INET ? Napi::Value(Napi::Number::New(env, 4))
                  : n.family == AF_INET6 ? Napi::Value(Napi::Number::New(env, 6))
                                         : Napi::Value(Napi::String::New(env, "bridge")));
  o.Set("dev", n.index);
  if (n.address) o.Set("address", n.address->ToString());
  if (n.mac) o.Set("mac", MacToString(n.mac->data(), n.mac->size()));
  if (n.dst) o.Set("dst", n.dst->ToString());
  o.Set("state", NamesOfBits(env, kStates, n.state));
  o.Set("flags", NamesOfBits(env, kFlags, n.flags));
  if (n.vlan) o.Set("vlan", *n.vlan);
  if (n.vni) o.Set("vni", *n.vni);
  if (n.master) o.Set("master", *n.master);
  return o;
}

namespace {

Napi::Value Write(NlkitAddon& addon, const Napi::CallbackInfo& info, bool add) {
  Napi::Object req = RequestArg(info);
  NeighborSpec spec = ReadSpec(req);
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec, add](Namespace& ns) -> Result<Materializer> {
    Status s = add ? AddNeighbor(ns, spec) : DeleteNeighbor(ns, spec);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

}  // namespace

Napi::Value NeighborAdd(NlkitAddon& addon, const Napi::CallbackInfo& info) { return Write(addon, info, true); }
Napi::Value NeighborDelete(NlkitAddon& addon, const Napi::CallbackInfo& info) { return Write(addon, info, false); }

Napi::Value NeighborList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  const int family = FamilyOf(req);
  auto dev = OptLinkRef(req, "dev");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [family, dev](Namespace& ns) -> Result<Materializer> {
    auto list = ListNeighbors(ns, family, dev);
    if (!list) return std::move(list.error());
    return ListOf(std::move(*list), NeighborToJs);
  });
}

}  // namespace nlkit
