// JS glue for attachContainer / detachContainer and findPeer.
#include <errno.h>

#include "addon/addon.h"
#include "families/container.h"
#include "families/link_peer.h"

namespace nlkit {

namespace {

// The container's addresses arrive flat, [address, prefixLength, noDad] per address: array
// elements are cheaper to read than named properties of an object per address.
std::vector<AddressSpec> ReadAddresses(const Napi::Value& v) {
  std::vector<AddressSpec> out;
  if (v.IsUndefined()) return out;
  if (!v.IsArray() || v.As<Napi::Array>().Length() % 3 != 0) {
    throw Napi::TypeError::New(v.Env(), "nlkit native: 'addresses' must be an array of [address, prefixLength, noDad]");
  }
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  out.reserve(n / 3);
  for (uint32_t i = 0; i < n; i += 3) {
    AddressSpec spec;
    auto ip = ArgIp(a.Get(i), "addresses");
    if (!ip) throw Napi::TypeError::New(v.Env(), "nlkit native: address missing");
    spec.local = *ip;
    spec.prefix_len = static_cast<uint8_t>(ArgU32(a.Get(i + 1), "prefixLength").value_or(ip->family == AF_INET ? 32 : 128));
    spec.no_dad = ArgBool(a.Get(i + 2), "noDad").value_or(false);
    spec.broadcast = SubnetBroadcast(spec.local, spec.prefix_len);
    out.push_back(spec);
  }
  return out;
}

// Both ends, made by lib/link-object.ts's makeAttachedEnds from eight plain values: the call
// runs right after the worker wakes the JS thread, and one call into JS cost less than filling an
// eight-element array through Node-API (callgrind: about 6,000 instructions of Node-API per attach).
Napi::Value AttachedEndsToJs(Napi::Env env, const AttachResult& r) {
  napi_value argv[8];
  size_t i = 0;
  for (const AttachedEnd* end : {&r.host, &r.container}) {
    const std::string mac = MacToString(end->mac.data(), end->mac.size());
    argv[i++] = Napi::Number::New(env, end->index);
    argv[i++] = Napi::String::New(env, end->name);
    argv[i++] = Napi::String::New(env, mac);
    argv[i++] = Napi::Number::New(env, end->mtu);
  }
  return CallFactory(env, env.GetInstanceData<NlkitAddon>()->ends_factory(), "attachedEnds", std::size(argv), argv);
}

}  // namespace

// Positional arguments, in lib/native.ts's order: this is the call made on every container start,
// and reading a dozen named properties through Node-API was a measurable share of it.
Napi::Value ContainerAttach(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  enum Arg { kHostNetns, kContainer, kBridge, kIfname, kHostIfname, kAddresses, kGateways, kRoutes, kMtu, kMac, kHairpin, kIsolated, kOwner, kCount };
  if (info.Length() < kCount) throw Napi::TypeError::New(info.Env(), "nlkit native: containerAttach takes 13 arguments");
  AttachSpec spec;
  spec.bridge = ReqArgLinkRef(info[kBridge], "bridge");
  spec.ifname = ReqArgString(info[kIfname], "ifname");
  spec.host_ifname = ArgString(info[kHostIfname], "hostIfname");
  spec.mtu = ArgU32(info[kMtu], "mtu");
  spec.mac = ArgMac(info[kMac], "mac");
  spec.hairpin = ArgBool(info[kHairpin], "hairpin");
  spec.isolated = ArgBool(info[kIsolated], "isolated");
  spec.owner = ArgString(info[kOwner], "owner");
  // Addresses and routes go on the container interface. A default route via each gateway
  // (bare addresses: the common case, read cheaply), then the other routes.
  spec.addresses = ReadAddresses(info[kAddresses]);
  spec.routes = ReadArray<RouteSpec, Napi::Value>(info[kGateways], "gateways", [](const Napi::Value& g) {
    auto ip = ArgIp(g, "gateways");
    if (!ip) throw Napi::TypeError::New(g.Env(), "nlkit native: 'gateways' must hold IP addresses");
    RouteSpec r;
    r.family = ip->family;
    r.gateway = *ip;
    return r;
  });
  for (RouteSpec& r : ReadArray<RouteSpec>(info[kRoutes], "routes", [](const Napi::Object& o) { return ReadRouteSpec(o); })) {
    spec.routes.push_back(std::move(r));
  }
  NetnsTarget container = addon.Target(info[kContainer], "container");
  return addon.SubmitIn(info.Env(), addon.Target(info[kHostNetns], "netns"),
                        [spec = std::move(spec), container](Namespace& host) mutable -> Result<Materializer> {
                          auto ctr = OpenTarget(container);
                          if (!ctr) return std::move(ctr.error().In("attachContainer: open container netns", ""));
                          auto r = AttachContainer(host, *ctr, std::move(spec));
                          if (!r) return std::move(r.error());
                          return Materializer([r = std::move(*r)](Napi::Env env) { return AttachedEndsToJs(env, r); });
                        },
                        Lane::kOneAtATime);
}

// Succeeds when the link, or the namespace it was in, is already gone.
Napi::Value ContainerDetach(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string ifname = ReqString(req, "ifname");
  std::string argument = OptString(req, "argument").value_or("ifname");
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.pool().Submit(info.Env(), [where, ifname, argument]() -> Result<Materializer> {
    auto done = Nothing();
    auto ns = OpenTarget(where);
    if (!ns) {
      if (ns.error().kind == ErrorKind::kSystem && ns.error().errnum == ENOENT) return done;
      return std::move(ns.error());
    }
    Status s = DetachLink(**ns, ifname, argument);
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
