// JS glue for nlkit's NAT table: masquerade rules, listing, flushing.
#include "addon/addon.h"
#include "families/nat.h"
#include "families/isolation.h"
#include "families/nat_guard.h"
#include "families/nft_expr.h"
#include "families/nft_uapi.h"
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
  s.owner = OptString(o, "owner").value_or("");
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
  if (!s.owner.empty()) o.Set("owner", s.owner);
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

// A job whose answer is whether it changed anything: a boolean.
Materializer Changed(bool changed) {
  return [changed](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, changed); };
}

// { netns?, table } -> whether the guard was added.
Napi::Value NatGuardLocalnet(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table](Namespace& ns) -> Result<Materializer> {
    auto added = EnsureLocalnetGuard(ns, table);
    if (!added) return std::move(added.error());
    return Changed(*added);
  });
}

// { netns?, table, bridge } -> whether the call changed anything; `add` picks the direction.
Napi::Value NatIsolation(NlkitAddon& addon, const Napi::CallbackInfo& info, bool add) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  std::string bridge = ReqString(req, "bridge");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table, bridge, add](Namespace& ns) -> Result<Materializer> {
    auto changed = add ? AddNetworkIsolation(ns, table, bridge) : RemoveNetworkIsolation(ns, table, bridge);
    if (!changed) return std::move(changed.error());
    return Changed(*changed);
  });
}

Napi::Value NatIsolationAdd(NlkitAddon& addon, const Napi::CallbackInfo& info) { return NatIsolation(addon, info, true); }
Napi::Value NatIsolationRemove(NlkitAddon& addon, const Napi::CallbackInfo& info) { return NatIsolation(addon, info, false); }

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

// Everything in nlkit's table, read back: whether it exists, its chains and maps (the rules and
// mappings come from natList / natPortMappingList).
Napi::Value NatInspect(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table](Namespace& ns) -> Result<Materializer> {
    auto sock = ns.Acquire(NETLINK_NETFILTER);
    if (!sock) return std::move(sock.error());
    auto tables = nft::DumpTables(**sock, nft::kFamilyInet);
    if (!tables) return std::move(tables.error());
    bool exists = false;
    for (const auto& t : *tables) exists = exists || t.name == table;
    auto chains = nft::DumpChains(**sock, nft::kFamilyInet, table);
    if (!chains) return std::move(chains.error());
    auto sets = nft::DumpSets(**sock, nft::kFamilyInet, table);
    if (!sets) return std::move(sets.error());
    return Materializer([exists, chains = std::move(*chains), sets = std::move(*sets)](Napi::Env env) -> Napi::Value {
      static const char* const kHooks[] = {"prerouting", "input", "forward", "output", "postrouting"};
      Napi::Object o = Napi::Object::New(env);
      o.Set("exists", exists);
      Napi::Array cs = Napi::Array::New(env, chains.size());
      for (size_t i = 0; i < chains.size(); ++i) {
        const auto& c = chains[i];
        Napi::Object co = Napi::Object::New(env);
        co.Set("name", c.name);
        if (!c.type.empty()) co.Set("type", c.type);
        if (c.hook && *c.hook < 5) co.Set("hook", kHooks[*c.hook]);
        if (c.priority) co.Set("priority", *c.priority);
        if (c.policy) co.Set("policy", *c.policy == 1 ? "accept" : "drop");
        cs.Set(static_cast<uint32_t>(i), co);
      }
      o.Set("chains", cs);
      Napi::Array ms = Napi::Array::New(env, sets.size());
      for (size_t i = 0; i < sets.size(); ++i) {
        Napi::Object so = Napi::Object::New(env);
        so.Set("name", sets[i].name);
        so.Set("keyLength", sets[i].key_len);
        so.Set("dataLength", sets[i].data_len);
        ms.Set(static_cast<uint32_t>(i), so);
      }
      o.Set("maps", ms);
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

// Test hook: { netns?, table, comment } -> how many rules carrying exactly that comment were
// deleted: what someone else's `nft delete rule` does to nlkit's table, so that tests can check
// how nlkit repairs it.
Napi::Value NftDeleteRulesByComment(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  std::string comment = ReqString(req, "comment");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table, comment](Namespace& ns) -> Result<Materializer> {
    auto removed = RemoveRulesWhere(
        ns, table, [&](const nft::RuleInfo& r, const std::vector<nft::RuleInfo>&) { return r.comment == comment; }, {},
        "deleteRules", comment);
    if (!removed) return std::move(removed.error());
    const double n = static_cast<double>(*removed);
    return Materializer([n](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, n); });
  });
}

// Test hook: { netns?, table, set, name } -> undefined. Deletes the interface-name element `name`
// from `set`, as someone editing nlkit's table by hand would (isolation's set of bridges).
Napi::Value NftDeleteIfnameElement(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  std::string set = ReqString(req, "set");
  std::string name = ReqString(req, "name");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table, set, name](Namespace& ns) -> Result<Materializer> {
    auto sock = ns.Acquire(NETLINK_NETFILTER);
    if (!sock) return std::move(sock.error());
    std::vector<MessageBuilder> batch;
    batch.push_back(nft::DelMapElement(nft::kFamilyInet, table, set, nft::IfnameValue(name)));
    NLKIT_TRY(CommitOrError(**sock, std::move(batch), 0, "nftDeleteIfnameElement", name));
    return Materializer([](Napi::Env env) -> Napi::Value { return env.Undefined(); });
  });
}

// Test hook: { netns?, table } -> the errno of each command of an nftables batch that the kernel
// prepares and then refuses in its commit (a table, then an anonymous set no rule uses; the
// commit rejects an unbound anonymous set with EINVAL). How the engine reads that refusal: the
// error comes with the first command's sequence number, followed by every command's ACK 0.
Napi::Value NftCommitRefusalProbe(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table](Namespace& ns) -> Result<Materializer> {
    auto sock = ns.Acquire(NETLINK_NETFILTER);
    if (!sock) return std::move(sock.error());
    std::vector<MessageBuilder> batch;
    batch.push_back(nft::NewTable(nft::kFamilyInet, table));
    MessageBuilder set = nft::NewSet(nft::kFamilyInet, table, "__set%d", 1, 7, 4, false);
    set.PutBe32(NFTA_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
    batch.push_back(std::move(set));
    auto outcomes = nft::CommitBatch(**sock, std::move(batch), 0);
    if (!outcomes) return std::move(outcomes.error());
    std::vector<std::pair<int, std::string>> answers;
    for (const RequestOutcome& o : *outcomes) answers.emplace_back(o.ack.errnum, o.step);
    return ListOf(std::move(answers), [](Napi::Env env, const std::pair<int, std::string>& a) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("errno", Napi::Number::New(env, a.first));
      o.Set("step", Napi::String::New(env, a.second));
      return o;
    });
  });
}

// Test hook: { netns?, table, kind: 'map' | 'chain' | 'legacy-v6-output', name } -> undefined.
// Makes, as another tool would, a map or a nat base chain under a name nlkit uses but with another
// definition: the map with inet_service keys and bare ipv4_addr values, the chain at priority 0 on
// the prerouting hook. What nlkit must then refuse with a precise error (tests may not run nft to
// make it). 'legacy-v6-output' adds the tcp any-address IPv6 output rule as an earlier version
// made it (name unused), for the upgrade test.
Napi::Value NftPlantForeign(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string table = ReqString(req, "table");
  const std::string kind = ReqString(req, "kind");
  std::string name = ReqString(req, "name");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [table, kind, name](Namespace& ns) -> Result<Materializer> {
    auto sock = ns.Acquire(NETLINK_NETFILTER);
    if (!sock) return std::move(sock.error());
    std::vector<MessageBuilder> batch;
    batch.push_back(nft::NewTable(nft::kFamilyInet, table));
    constexpr uint32_t kService = 13, kIpv4 = 7;  // nft's data type ids
    if (kind == "map") {
      batch.push_back(nft::NewMap(nft::kFamilyInet, table, name, 1, kService, 2, kIpv4, 4));
    } else if (kind == "legacy-v6-output") {
      batch.push_back(LegacyIpv6OutputRuleForTest(table, true));
    } else {
      batch.push_back(nft::NewBaseChain(nft::kFamilyInet, table, name, "nat", NF_INET_PRE_ROUTING, 0));
    }
    NLKIT_TRY(CommitOrError(**sock, std::move(batch), 0, "nftPlantForeign", name));
    return Materializer([](Napi::Env env) -> Napi::Value { return env.Undefined(); });
  });
}

}  // namespace nlkit
