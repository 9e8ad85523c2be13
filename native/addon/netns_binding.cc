// JS glue for network namespaces: create (named or anonymous), open, close, delete, list.
#include "addon/addon.h"
#include "netns/netns_files.h"
#include "netns/socket_in.h"

namespace nlkit {

namespace {

// Registers an opened namespace as a handle; runs on the JS thread, where the registry lives.
Materializer HandleResult(NlkitAddon& addon, NamespacePtr ns) {
  return [&addon, ns = std::move(ns)](Napi::Env env) -> Napi::Value {
    return Napi::Number::New(env, addon.AddHandle(ns));
  };
}
}  // namespace

Napi::Value NetnsCreate(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string dir = ReqString(req, "dir");
  std::optional<std::string> name = OptString(req, "name");
  return addon.pool().Submit(info.Env(), [&addon, dir, name]() -> Result<Materializer> {
    auto ns = CreateNamespace(dir, name);
    if (!ns) return std::move(ns.error());
    return HandleResult(addon, std::move(*ns));
  });
}

Napi::Value NetnsOpen(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string path = ReqString(req, "path");
  std::string label = OptString(req, "label").value_or(path);
  return addon.pool().Submit(info.Env(), [&addon, path, label]() -> Result<Materializer> {
    auto ns = Namespace::Open(path, label);
    if (!ns) return std::move(ns.error());
    return HandleResult(addon, std::move(*ns));
  });
}

// Synchronous: dropping the registry's reference closes the namespace fd and its pooled
// sockets now, or as soon as the calls still using it finish.
Napi::Value NetnsClose(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "nlkit native: expected a handle id");
  }
  return Napi::Boolean::New(info.Env(), addon.CloseHandle(info[0].As<Napi::Number>().Uint32Value()));
}

Napi::Value NetnsDup(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "nlkit native: expected a handle id");
  }
  const uint32_t id = addon.DupHandle(info[0].As<Napi::Number>().Uint32Value());
  if (id == 0) throw Napi::Error::New(info.Env(), "network namespace handle is closed");
  return Napi::Number::New(info.Env(), id);
}

Napi::Value NetnsDelete(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string dir = ReqString(req, "dir");
  std::string name = ReqString(req, "name");
  return addon.pool().Submit(info.Env(), [dir, name]() -> Result<Materializer> {
    Status s = DeleteNamedNamespace(dir, name);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

// A socket inside a namespace, as an fd for net.Socket / net.Server. The fd is created close-on-
// exec and non-blocking; if the promise cannot be settled (environment teardown) it is closed.
Napi::Value SocketOpen(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  SocketSpec spec;
  spec.family = OptFamily(req, "family");
  if (spec.family == 0) throw Napi::TypeError::New(info.Env(), "nlkit native: 'family' is required");
  spec.tcp = ReqString(req, "type") == "tcp";
  spec.bind_address = OptIp(req, "address");
  const auto port = OptU32(req, "port");
  spec.bind_port = static_cast<uint16_t>(port.value_or(0));
  spec.bind = spec.bind_address.has_value() || port.has_value();
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [spec](Namespace& ns) -> Result<Materializer> {
    auto s = OpenSocketIn(ns, spec);
    if (!s) return std::move(s.error());
    auto fd = std::make_shared<UniqueFd>(s->first);
    const uint16_t port = s->second;
    return Materializer([fd, port](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("port", port);
      // Released only once JS holds it: a Set that throws (a worker_thread being terminated)
      // leaves the fd with its owner, which closes it.
      o.Set("fd", fd->get());
      fd->release();
      return o;
    });
  });
}

// Test hook: one UDP exchange across namespaces (see UdpProbe).
Napi::Value UdpProbeBinding(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  UdpProbeSpec spec;
  auto server_address = OptIp(req, "serverAddress");
  auto target = OptIp(req, "target");
  if (!server_address || !target) throw Napi::TypeError::New(info.Env(), "nlkit native: serverAddress and target are required");
  spec.server_address = *server_address;
  spec.server_port = static_cast<uint16_t>(OptU32(req, "serverPort").value_or(0));
  spec.target = *target;
  spec.target_port = static_cast<uint16_t>(OptU32(req, "targetPort").value_or(0));
  spec.payload = OptString(req, "payload").value_or("probe");
  spec.timeout_ms = static_cast<int>(OptU32(req, "timeoutMs").value_or(1000));
  spec.client_port = static_cast<uint16_t>(OptU32(req, "clientPort").value_or(0));
  NetnsTarget client = addon.TargetOf(req, "clientNetns");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "serverNetns"), [spec, client](Namespace& server) -> Result<Materializer> {
    auto client_ns = OpenTarget(client);
    if (!client_ns) return std::move(client_ns.error());
    auto r = UdpProbe(server, **client_ns, spec);
    if (!r) return std::move(r.error());
    return Materializer([r = *r](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("serverSawFrom", r.server_saw_from);
      o.Set("clientGot", r.client_got);
      return o;
    });
  });
}

Napi::Value NetnsList(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  std::string dir = ReqString(req, "dir");
  return addon.pool().Submit(info.Env(), [dir]() -> Result<Materializer> {
    auto names = ListNamedNamespaces(dir);
    if (!names) return std::move(names.error());
    return Materializer([names = std::move(*names)](Napi::Env env) -> Napi::Value {
      Napi::Array out = Napi::Array::New(env, names.size());
      for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
      return out;
    });
  });
}

}  // namespace nlkit
