// JS glue for routes.
#include <linux/rtnetlink.h>

#include "addon/addon.h"
#include "addon/named_values.h"
#include "families/route.h"

namespace nlkit {

namespace {

constexpr Named kTypes[] = {{"unicast", RTN_UNICAST},   {"local", RTN_LOCAL},           {"broadcast", RTN_BROADCAST},
                               {"anycast", RTN_ANYCAST},   {"multicast", RTN_MULTICAST},   {"blackhole", RTN_BLACKHOLE},
                               {"unreachable", RTN_UNREACHABLE}, {"prohibit", RTN_PROHIBIT}, {"throw", RTN_THROW}};



Napi::Value WriteRouteBinding(NlkitAddon& addon, const Napi::CallbackInfo& info, RouteWrite how) {
  Napi::Object req = RequestArg(info);
  RouteSpec spec = ReadRouteSpec(req);
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec, how](Namespace& ns) -> Result<Materializer> {
    Status s = WriteRoute(ns, spec, how);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

}  // namespace

Napi::Value RouteToJs(Napi::Env env, const RouteInfo& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", r.family == AF_INET ? 4 : 6);
  o.Set("to", r.dst ? r.dst->ToString() + "/" + std::to_string(r.dst_len) : std::string("default"));
  if (r.gateway) o.Set("via", r.gateway->ToString());
  if (r.oif) o.Set("dev", *r.oif);
  if (r.prefsrc) o.Set("src", r.prefsrc->ToString());
  if (r.metric) o.Set("metric", *r.metric);
  o.Set("table", r.table);
  o.Set("scope", ScopeToJs(env, r.scope));
  o.Set("type", NameOrNumber(env, kTypes, r.type));
  o.Set("protocol", r.protocol);
  if (r.mtu) o.Set("mtu", *r.mtu);
  if (r.flags & RTNH_F_ONLINK) o.Set("onlink", true);
  if (!r.nexthops.empty()) {
    Napi::Array hops = Napi::Array::New(env, r.nexthops.size());
    for (size_t i = 0; i < r.nexthops.size(); ++i) {
      const NextHopInfo& nh = r.nexthops[i];
      Napi::Object h = Napi::Object::New(env);
      if (nh.gateway) h.Set("via", nh.gateway->ToString());
      if (nh.oif) h.Set("dev", nh.oif);
      h.Set("weight", nh.weight);
      if (nh.flags & RTNH_F_ONLINK) h.Set("onlink", true);
      hops.Set(static_cast<uint32_t>(i), h);
    }
    o.Set("nexthops", hops);
  }
  return o;
}

RouteSpec ReadRouteSpec(const Napi::Object& o) {
  RouteSpec s;
  s.family = OptFamily(o, "family");
  if (s.family == 0) throw Napi::TypeError::New(o.Env(), "nlkit native: 'family' is required");
  s.dst = OptIp(o, "to");
  s.dst_len = static_cast<uint8_t>(OptU32(o, "toLength").value_or(0));
  s.gateway = OptIp(o, "via");
  s.dev = OptLinkRef(o, "dev");
  s.prefsrc = OptIp(o, "src");
  s.metric = OptU32(o, "metric");
  if (auto table = OptU32(o, "table")) s.table = *table;
  s.scope = OptScope(o, "scope");
  s.onlink = OptBool(o, "onlink").value_or(false);
  s.mtu = OptU32(o, "mtu");
  if (auto type = ValueOf(kTypes, o, "type")) s.type = static_cast<uint8_t>(*type);
  s.nexthops = ReadArray<NextHopSpec>(o.Get("nexthops"), "nexthops", [](const Napi::Object& h) {
    NextHopSpec hop;
    hop.gateway = OptIp(h, "via");
    hop.dev = OptLinkRef(h, "dev");
    const uint32_t weight = OptU32(h, "weight").value_or(1);
    if (weight < 1 || weight > 256) throw Napi::TypeError::New(h.Env(), "nlkit native: 'weight' must be 1 to 256");
    hop.weight = static_cast<uint16_t>(weight);
    hop.onlink = OptBool(h, "onlink").value_or(false);
    return hop;
  });
  return s;
}

Napi::Value RouteAdd(NlkitAddon& addon, const Napi::CallbackInfo& info) { return WriteRouteBinding(addon, info, RouteWrite::kAdd); }
Napi::Value RouteReplace(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  return WriteRouteBinding(addon, info, RouteWrite::kReplace);
}
Napi::Value RouteDelete(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  return WriteRouteBinding(addon, info, RouteWrite::kDelete);
}

Napi::Value RouteList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  const int family = OptFamily(req, "family");
  const uint32_t table = OptU32(req, "table").value_or(0);
  auto dev = OptLinkRef(req, "dev");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [family, table, dev](Namespace& ns) -> Result<Materializer> {
    auto list = ListRoutes(ns, family, table, dev);
    if (!list) return std::move(list.error());
    return ListOf(std::move(*list), RouteToJs);
  });
}

Napi::Value RouteGet(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  auto to = OptIp(req, "to");
  if (!to) throw Napi::TypeError::New(info.Env(), "nlkit native: 'to' is required");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [dst = *to](Namespace& ns) -> Result<Materializer> {
    auto r = GetRoute(ns, dst);
    if (!r) return std::move(r.error());
    return Materializer([r = std::move(*r)](Napi::Env env) { return RouteToJs(env, r); });
  });
}

}  // namespace nlkit
