// JS glue for links: normalized request object -> LinkSpec (JS thread), the operation on a
// worker, LinkInfo -> JS object (JS thread again).
#include <linux/if_ether.h>
#include <linux/if_link.h>

#include "addon/addon.h"
#include "addon/named_values.h"

namespace nlkit {

namespace {


constexpr Named kMacvlanModes[] = {{"private", MACVLAN_MODE_PRIVATE}, {"vepa", MACVLAN_MODE_VEPA},
                                   {"bridge", MACVLAN_MODE_BRIDGE},   {"passthru", MACVLAN_MODE_PASSTHRU},
                                   {"source", MACVLAN_MODE_SOURCE}};
constexpr Named kIpvlanModes[] = {{"l2", IPVLAN_MODE_L2}, {"l3", IPVLAN_MODE_L3}, {"l3s", IPVLAN_MODE_L3S}};
constexpr Named kIpvlanFlags[] = {{"bridge", 0}, {"private", IPVLAN_F_PRIVATE}, {"vepa", IPVLAN_F_VEPA}};
constexpr Named kVlanProtocols[] = {{"802.1Q", ETH_P_8021Q}, {"802.1ad", ETH_P_8021AD}};

// --- JS -> C++ -----------------------------------------------------------------------------------

struct PendingNetns {
  std::optional<NetnsTarget> peer;
  std::optional<NetnsTarget> move_to;
};

LinkSpec ReadLinkSpec(NlkitAddon& addon, const Napi::Object& o, PendingNetns& pending) {
  LinkSpec s;
  s.kind = ReqString(o, "kind");
  s.name = ReqString(o, "name");
  s.mtu = OptU32(o, "mtu");
  s.txqlen = OptU32(o, "txQueueLen");
  s.mac = OptMac(o, "mac");
  s.up = OptBool(o, "up");
  s.alias = OptString(o, "alias");
  s.master = OptLinkRef(o, "master");
  s.parent = OptLinkRef(o, "parent");
  if (auto peer = OptObject(o, "peer")) {
    VethPeerSpec p;
    p.name = ReqString(*peer, "name");
    p.mac = OptMac(*peer, "mac");
    p.mtu = OptU32(*peer, "mtu");
    p.txqlen = OptU32(*peer, "txQueueLen");
    if (!peer->Get("netns").IsUndefined()) pending.peer = addon.TargetOf(*peer, "netns");
    s.peer = std::move(p);
  }
  if (auto id = OptU32(o, "vlanId")) s.vlan_id = static_cast<uint16_t>(*id);
  if (auto proto = ValueOf(kVlanProtocols, o, "vlanProtocol")) s.vlan_protocol = static_cast<uint16_t>(*proto);
  s.macvlan_mode = ValueOf(kMacvlanModes, o, "macvlanMode");
  if (auto m = ValueOf(kIpvlanModes, o, "ipvlanMode")) s.ipvlan_mode = static_cast<uint16_t>(*m);
  if (auto f = ValueOf(kIpvlanFlags, o, "ipvlanFlag")) s.ipvlan_flags = static_cast<uint16_t>(*f);
  if (auto v = OptObject(o, "vxlan")) {
    VxlanSpec x;
    x.vni = OptU32(*v, "vni").value_or(0);
    x.local = OptIp(*v, "local");
    x.remote = OptIp(*v, "remote");
    x.group = OptIp(*v, "group");
    if (auto port = OptU32(*v, "port")) x.port = static_cast<uint16_t>(*port);
    x.device = OptLinkRef(*v, "device");
    if (auto ttl = OptU32(*v, "ttl")) x.ttl = static_cast<uint8_t>(*ttl);
    x.learning = OptBool(*v, "learning");
    s.vxlan = std::move(x);
  }
  if (auto b = OptObject(o, "bridge")) {
    s.bridge_stp = OptBool(*b, "stp");
    s.bridge_vlan_filtering = OptBool(*b, "vlanFiltering");
    s.bridge_forward_delay = OptU32(*b, "forwardDelay");
    s.bridge_ageing_time = OptU32(*b, "ageingTime");
  }
  return s;
}

LinkChangesSpec ReadChanges(NlkitAddon& addon, const Napi::Object& o, PendingNetns& pending) {
  LinkChangesSpec c;
  c.up = OptBool(o, "up");
  c.mtu = OptU32(o, "mtu");
  c.mac = OptMac(o, "mac");
  c.name = OptString(o, "name");
  c.alias = OptString(o, "alias");
  c.txqlen = OptU32(o, "txQueueLen");
  Napi::Value master = o.Get("master");
  if (!master.IsUndefined()) {
    c.set_master = true;
    c.master = OptLinkRef(o, "master");  // null: release
  }
  if (!o.Get("moveTo").IsUndefined()) pending.move_to = addon.TargetOf(o, "moveTo");
  c.hairpin = OptBool(o, "hairpin");
  c.isolated = OptBool(o, "isolated");
  c.learning = OptBool(o, "learning");
  return c;
}

// --- C++ -> JS -----------------------------------------------------------------------------------


Materializer LinkResult(LinkInfo info) {
  return [info = std::move(info)](Napi::Env env) { return LinkToJs(env, info); };
}

// Kind-specific information (bridge port, bridge, vlan, macvlan, ipvlan, vxlan), as one object of
// the fields present; an empty handle when the link has none of them.
Napi::Object KindExtras(Napi::Env env, const LinkInfo& l) {
  if (!l.bridge_port && !l.bridge && !l.vlan_id && !l.macvlan_mode && !l.ipvlan_mode && !l.vxlan) return Napi::Object();
  Napi::Object o = Napi::Object::New(env);
  if (l.bridge_port) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("hairpin", l.bridge_port->hairpin);
    p.Set("isolated", l.bridge_port->isolated);
    p.Set("learning", l.bridge_port->learning);
    o.Set("bridgePort", p);
  }
  if (l.bridge) {
    Napi::Object b = Napi::Object::New(env);
    b.Set("stp", l.bridge->stp);
    b.Set("vlanFiltering", l.bridge->vlan_filtering);
    if (l.bridge->forward_delay) b.Set("forwardDelay", *l.bridge->forward_delay);
    if (l.bridge->ageing_time) b.Set("ageingTime", *l.bridge->ageing_time);
    o.Set("bridge", b);
  }
  if (l.vlan_id) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("id", *l.vlan_id);
    const char* proto = NameOf(kVlanProtocols, l.vlan_protocol.value_or(ETH_P_8021Q));
    v.Set("protocol", proto != nullptr ? proto : "802.1Q");
    o.Set("vlan", v);
  }
  if (l.macvlan_mode) {
    Napi::Object m = Napi::Object::New(env);
    const char* mode = NameOf(kMacvlanModes, *l.macvlan_mode);
    m.Set("mode", mode != nullptr ? mode : "unknown");
    o.Set("macvlan", m);
  }
  if (l.ipvlan_mode) {
    Napi::Object m = Napi::Object::New(env);
    const char* mode = NameOf(kIpvlanModes, *l.ipvlan_mode);
    m.Set("mode", mode != nullptr ? mode : "unknown");
    Napi::Array fl = Napi::Array::New(env);
    const uint16_t bits = l.ipvlan_flags.value_or(0);
    uint32_t k = 0;
    if (bits & IPVLAN_F_PRIVATE) fl.Set(k++, "private");
    if (bits & IPVLAN_F_VEPA) fl.Set(k++, "vepa");
    if (!(bits & (IPVLAN_F_PRIVATE | IPVLAN_F_VEPA))) fl.Set(k++, "bridge");
    m.Set("flags", fl);
    o.Set("ipvlan", m);
  }
  if (l.vxlan) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("vni", l.vxlan->vni);
    if (l.vxlan->local) v.Set("local", l.vxlan->local->ToString());
    if (l.vxlan->remote) v.Set("remote", l.vxlan->remote->ToString());
    if (l.vxlan->group) v.Set("group", l.vxlan->group->ToString());
    if (l.vxlan->port) v.Set("port", *l.vxlan->port);
    if (l.vxlan->device) v.Set("device", *l.vxlan->device);
    if (l.vxlan->ttl) v.Set("ttl", *l.vxlan->ttl);
    if (l.vxlan->learning) v.Set("learning", *l.vxlan->learning);
    o.Set("vxlan", v);
  }
  return o;
}
}  // namespace

Napi::Value LinkToJs(Napi::Env env, const LinkInfo& l) {
  // The object itself is made by lib/link-object.ts (makeLink), from these arguments.
  const Napi::Value none = env.Undefined();
  const auto opt = [&](const auto& v) -> Napi::Value { return v ? Napi::Value::From(env, *v) : none; };
  // A NIC reports IFLA_LINK == its own index (meaningless); a veth whose peer is in another
  // namespace may legitimately have the same number there, which IFLA_LINK_NETNSID tells apart.
  const bool other_ns = l.link_netnsid && *l.link_netnsid >= 0;
  const bool show_link = l.link && *l.link && (static_cast<int32_t>(*l.link) != l.index || other_ns);
  Napi::Object extras = KindExtras(env, l);
  napi_value argv[] = {
      Napi::Number::New(env, l.index),
      Napi::String::New(env, l.name),
      l.kind.empty() ? none : Napi::String::New(env, l.kind),
      l.address ? Napi::String::New(env, MacToString(l.address->data(), l.address->size())) : none,
      Napi::Number::New(env, l.mtu),
      opt(l.min_mtu),
      opt(l.max_mtu),
      opt(l.txqlen),
      opt(l.alias),
      Napi::Number::New(env, l.flags),
      Napi::Number::New(env, l.operstate),
      l.master && *l.master ? Napi::Value::From(env, *l.master) : none,
      show_link ? Napi::Value::From(env, *l.link) : none,
      other_ns ? Napi::Value::From(env, *l.link_netnsid) : none,
      extras.IsEmpty() ? none : static_cast<Napi::Value>(extras),
  };
  return CallFactory(env, env.GetInstanceData<NlkitAddon>()->link_factory(), "link", std::size(argv), argv);
}

Napi::Value LinkCreate(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  PendingNetns pending;
  LinkSpec spec = ReadLinkSpec(addon, req, pending);
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.SubmitIn(info.Env(), where, [spec = std::move(spec), pending](Namespace& ns) mutable -> Result<Materializer> {
    if (pending.peer) {
      auto peer_ns = OpenTarget(*pending.peer);
      if (!peer_ns) return std::move(peer_ns.error());
      spec.peer->netns = std::move(*peer_ns);
    }
    // Give the peer a MAC now, so the result can report it without a lookup in its namespace
    // (and udev has no random address to rewrite).
    if (spec.peer && !spec.peer->mac) spec.peer->mac = RandomMac();
    const std::optional<Mac> peer_mac = spec.peer ? spec.peer->mac : std::nullopt;
    auto link = CreateLink(ns, std::move(spec));
    if (!link) return std::move(link.error());
    return Materializer([link = std::move(*link), peer_mac](Napi::Env env) -> Napi::Value {
      Napi::Object out = Napi::Object::New(env);
      out.Set("link", LinkToJs(env, link));
      if (peer_mac) out.Set("peerMac", MacToString(peer_mac->data(), peer_mac->size()));
      return out;
    });
  });
}

Napi::Value LinkGet(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  LinkRefArg ref = ReqLinkRef(req, "link");
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.SubmitIn(info.Env(), where, [ref](Namespace& ns) -> Result<Materializer> {
    auto link = GetLink(ns, ref);
    if (!link) return std::move(link.error());
    return LinkResult(std::move(*link));
  });
}

Napi::Value LinkList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  auto kind = OptString(req, "kind");
  auto master = OptLinkRef(req, "master");
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.SubmitIn(info.Env(), where, [kind, master](Namespace& ns) -> Result<Materializer> {
    auto links = ListLinks(ns, kind, master);
    if (!links) return std::move(links.error());
    return ListOf(std::move(*links), LinkToJs);
  });
}

Napi::Value LinkDelete(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  LinkRefArg ref = ReqLinkRef(req, "link");
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.SubmitIn(info.Env(), where, [ref](Namespace& ns) -> Result<Materializer> {
    Status s = DeleteLink(ns, ref);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

Napi::Value LinkSet(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  LinkRefArg ref = ReqLinkRef(req, "link");
  PendingNetns pending;
  Napi::Object changes_obj = OptObject(req, "changes").value_or(Napi::Object::New(info.Env()));
  LinkChangesSpec changes = ReadChanges(addon, changes_obj, pending);
  NetnsTarget where = addon.TargetOf(req, "netns");
  return addon.SubmitIn(info.Env(), where, [ref, changes, pending](Namespace& ns) mutable -> Result<Materializer> {
    if (pending.move_to) {
      auto to = OpenTarget(*pending.move_to);
      if (!to) return std::move(to.error());
      changes.move_to = std::move(*to);
    }
    auto link = SetLink(ns, ref, changes);
    if (!link) return std::move(link.error());
    return LinkResult(std::move(*link));
  });
}

// Test hook: the exact RTM_NEWLINK bytes a createLink request produces (names not resolved:
// `master`/`parent`/`vxlan.device` must be given as ifindexes). Lets tests check the encoding of
// kinds this kernel lacks.
Napi::Value LinkEncodeCreate(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  PendingNetns pending;
  LinkSpec spec = ReadLinkSpec(addon, req, pending);
  ResolvedRefs refs;
  if (spec.master) refs.master = static_cast<uint32_t>(spec.master->index);
  if (spec.parent) refs.parent = static_cast<uint32_t>(spec.parent->index);
  if (spec.vxlan && spec.vxlan->device) refs.vxlan_device = static_cast<uint32_t>(spec.vxlan->device->index);
  MessageBuilder m = EncodeCreateLink(spec, refs);
  if (m.overflowed()) throw Napi::RangeError::New(info.Env(), "nlkit native: an attribute longer than netlink allows");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), m.data(), m.size());
}

// Test hook: decodes one RTM_NEWLINK message the way replies are decoded. Malformed input must
// come back as a thrown error, never a crash or an out-of-bounds read.
Napi::Value LinkDecode(NlkitAddon&, const Napi::CallbackInfo& info) {
  auto link = DecodeLink(BufferArg(info));
  if (!link) ThrowDecodeError(info.Env(), link.error());
  return LinkToJs(info.Env(), *link);
}

}  // namespace nlkit
