// JS glue for sysctls: the key arrives as its segments after "net", already validated by lib/.
#include "addon/addon.h"
#include "families/sysctl.h"

namespace nlkit {

namespace {
std::vector<std::string> Segments(const Napi::Object& req) {
  Napi::Value v = req.Get("segments");
  if (!v.IsArray()) throw Napi::TypeError::New(req.Env(), "nlkit native: 'segments' must be an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) throw Napi::TypeError::New(req.Env(), "nlkit native: sysctl segments must be strings");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}
}  // namespace

Napi::Value SysctlGet(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  auto segments = Segments(req);
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [segments](Namespace& ns) -> Result<Materializer> {
    auto value = ReadSysctl(ns, segments);
    if (!value) return std::move(value.error());
    return Materializer([v = std::move(*value)](Napi::Env env) -> Napi::Value { return Napi::String::New(env, v); });
  });
}

Napi::Value SysctlSet(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  auto segments = Segments(req);
  std::string value = ReqString(req, "value");
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [segments, value](Namespace& ns) -> Result<Materializer> {
    Status s = WriteSysctl(ns, segments, value);
    if (!s.ok()) return std::move(s.error());
    return Nothing();
  });
}

}  // namespace nlkit
