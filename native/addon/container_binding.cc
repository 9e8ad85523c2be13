// JS glue for attachContainer / detachContainer and findPeer.
#include <errno.h>

#include "addon/addon.h"
#include "families/container.h"
#include "families/link_peer.h"

namespace nlkit {

namespace {

// The elements of req[key] (absent: none), each given to `read` as an Element.
template <typename T, typename Element = Napi::Object, typename Reader>
std::vector<T> ReadArray(const Napi::Object& req, const char* key, Reader read) {
  std::vector<T> out;
  Napi::Value v = req.Get(key);
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(req.Env(), std::string("nlkit native: '") + key + "' must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(read(a.Get(i).As<Element>()));
  return out;
}

Napi::Object EndToJs(Napi::Env env, const AttachedEnd& end) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", end.index);
  o.Set("name", end.name);
  o.Set("mac", MacToString(end.mac.data(), end.mac.size()));
  o.Set("mtu", end.mtu);
  return o;
}

Napi::Value AttachToJs(Napi::Env env, const AttachResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("host", EndToJs(env, r.host));
  o.Set("container", EndToJs(env, r.container));
  Napi::Array addresses = Napi::Array::New(env, r.addresses.size());
  for (size_t i = 0; i < r.addresses.size(); ++i) {
    const AddressSpec& a = r.addresses[i];
    addresses.Set(static_cast<uint32_t>(i), a.local.ToString() + "/" + std::to_string(a.prefix_len));
  }
  o.Set("addresses", addresses);
  Napi::Array routes = Napi::Array::New(env, r.routes.size());
  for (size_t i = 0; i < r.routes.size(); ++i) {
    const RouteSpec& s = r.routes[i];
    Napi::Object route = Napi::Object::New(env);
    route.Set("family", s.family == AF_INET ? 4 : 6);
    route.Set("to", s.dst ? s.dst->ToString() + "/" + std::to_string(s.dst_len) : std::string("default"));
    if (s.gateway) route.Set("via", s.gateway->ToString());
    route.Set("dev", r.container.index);
    if (s.metric) route.Set("metric", *s.metric);
    routes.Set(static_cast<uint32_t>(i), route);
  }
  o.Set("routes", routes);
  return o;
}

}  // namespace

Napi::Value ContainerAttach(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  AttachSpec spec;
  spec.bridge = ReqLinkRef(req, "bridge");
  spec.ifname = ReqString(req, "ifname");
  spec.host_ifname = OptString(req, "hostIfname");
  spec.mtu = OptU32(req, "mtu");
  spec.mac = OptMac(req, "mac");
  spec.hairpin = OptBool(req, "hairpin");
  spec.isolated = OptBool(req, "isolated");
  spec.owner = OptString(req, "owner");
  // Addresses and routes arrive without a link/dev: they go on the container interface.
  spec.addresses = ReadArray<AddressSpec>(req, "addresses", [](const Napi::Object& o) {
    AddressSpec a;
    auto ip = OptIp(o, "address");
    if (!ip) throw Napi::TypeError::New(o.Env(), "nlkit native: address missing");
    a.local = *ip;
    a.prefix_len = static_cast<uint8_t>(OptU32(o, "prefixLength").value_or(ip->family == AF_INET ? 32 : 128));
    a.no_dad = OptBool(o, "noDad").value_or(false);
    return a;
  });
  // A default route via each gateway, then the other routes. Gateways come as bare addresses: a
  // full route request costs a dozen property reads, a measurable share of an attach.
  spec.routes = ReadArray<RouteSpec, Napi::Value>(req, "gateways", [](const Napi::Value& g) {
    auto ip = g.IsString() ? IpAddr::Parse(g.As<Napi::String>().Utf8Value()) : std::nullopt;
    if (!ip) throw Napi::TypeError::New(g.Env(), "nlkit native: 'gateways' must hold IP addresses");
    RouteSpec r;
    r.family = ip->family;
    r.gateway = *ip;
    return r;
  });
  for (RouteSpec& r : ReadArray<RouteSpec>(req, "routes", [](const Napi::Object& o) { return ReadRouteSpec(o); })) {
    spec.routes.push_back(std::move(r));
  }
  NetnsTarget container = addon.TargetOf(req, "container");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"),
                        [spec = std::move(spec), container](Namespace& host) mutable -> Result<Materializer> {
                          auto ctr = OpenTarget(container);
                          if (!ctr) return std::move(ctr.error().In("attachContainer: open container netns", ""));
                          auto r = AttachContainer(host, *ctr, std::move(spec));
                          if (!r) return std::move(r.error());
                          return Materializer([r = std::move(*r)](Napi::Env env) { return AttachToJs(env, r); });
                        });
}

// Succeeds when the link, or the namespace it was in, is already gone.
Napi::Value ContainerDetach(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string ifname = ReqString(req, "ifname");
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.pool().Submit(info.Env(), [where, ifname]() -> Result<Materializer> {
    auto done = Nothing();
    auto ns = OpenTarget(where);
    if (!ns) {
      if (ns.error().kind == ErrorKind::kSystem && ns.error().errnum == ENOENT) return done;
      return std::move(ns.error());
    }
    Status s = DetachLink(**ns, ifname);
    if (!s.ok()) return std::move(s.error().In("detachContainer", "link " + ifname));
    return done;
  });
}

Napi::Value LinkFindPeer(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  LinkRefArg ref = ReqLinkRef(req, "link");
  std::vector<std::string> candidates;
  if (auto c = OptObject(req, "candidates")) {
    Napi::Array a = c->As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) candidates.push_back(a.Get(i).ToString().Utf8Value());
  }
  NamespacePtr initial = addon.initial();
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"),
                        [ref, candidates, initial](Namespace& ns) -> Result<Materializer> {
                          auto p = FindPeer(ns, ref, *initial, candidates);
                          if (!p) return std::move(p.error());
                          return Materializer([p = std::move(*p)](Napi::Env env) -> Napi::Value {
                            Napi::Object o = Napi::Object::New(env);
                            o.Set("link", LinkToJs(env, p.link));
                            if (p.netns_id) o.Set("netnsId", *p.netns_id);
                            o.Set("sameNetns", p.same_netns);
                            o.Set("initialNetns", p.initial_netns);
                            if (p.netns_path) o.Set("netnsPath", *p.netns_path);
                            return o;
                          });
                        });
}

}  // namespace nlkit
