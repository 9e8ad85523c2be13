#include "addon/js_convert.h"

#include "addon/named_values.h"

#include <cmath>

namespace nlkit {

namespace {
Napi::Value Field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v;
}
[[noreturn]] void Bad(const Napi::Object& o, const char* key, const char* want) {
  throw Napi::TypeError::New(o.Env(), std::string("nlkit native: '") + key + "' must be " + want);
}
bool Absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }
}  // namespace

Napi::Object RequestArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(info.Env(), "nlkit native: expected a request object");
  }
  return info[0].As<Napi::Object>();
}

std::optional<uint32_t> OptU32(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (Absent(v)) return std::nullopt;
  if (!v.IsNumber()) Bad(o, key, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || std::floor(d) != d) Bad(o, key, "an unsigned 32-bit integer");
  return static_cast<uint32_t>(d);
}

std::optional<int32_t> OptI32(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (Absent(v)) return std::nullopt;
  if (!v.IsNumber()) Bad(o, key, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || std::floor(d) != d) Bad(o, key, "a 32-bit integer");
  return static_cast<int32_t>(d);
}

std::optional<bool> OptBool(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (Absent(v)) return std::nullopt;
  if (!v.IsBoolean()) Bad(o, key, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::optional<std::string> OptString(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (Absent(v)) return std::nullopt;
  if (!v.IsString()) Bad(o, key, "a string");
  return v.As<Napi::String>().Utf8Value();
}

std::string ReqString(const Napi::Object& o, const char* key) {
  auto s = OptString(o, key);
  if (!s) Bad(o, key, "a string");
  return *s;
}

std::optional<Napi::Object> OptObject(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (Absent(v)) return std::nullopt;
  if (!v.IsObject()) Bad(o, key, "an object");
  return v.As<Napi::Object>();
}

namespace {
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Mac> OptMac(const Napi::Object& o, const char* key) {
  auto s = OptString(o, key);
  if (!s) return std::nullopt;
  Mac mac{};
  if (s->size() != 17) Bad(o, key, "a MAC address aa:bb:cc:dd:ee:ff");
  for (size_t i = 0; i < 6; ++i) {
    const int hi = HexDigit((*s)[i * 3]);
    const int lo = HexDigit((*s)[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && (*s)[i * 3 + 2] != ':')) Bad(o, key, "a MAC address aa:bb:cc:dd:ee:ff");
    mac[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return mac;
}

std::optional<IpAddr> OptIp(const Napi::Object& o, const char* key) {
  auto s = OptString(o, key);
  if (!s) return std::nullopt;
  auto a = IpAddr::Parse(*s);
  if (!a) Bad(o, key, "an IPv4 or IPv6 address");
  return a;
}

std::optional<LinkRefArg> OptLinkRef(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (Absent(v)) return std::nullopt;
  if (v.IsNumber()) {
    auto i = OptI32(o, key);
    if (!i || *i <= 0) Bad(o, key, "a positive ifindex");
    return LinkRefArg{*i, {}};
  }
  if (v.IsString()) return LinkRefArg{0, v.As<Napi::String>().Utf8Value()};
  Bad(o, key, "an interface name or ifindex");
}

LinkRefArg ReqLinkRef(const Napi::Object& o, const char* key) {
  auto r = OptLinkRef(o, key);
  if (!r) Bad(o, key, "an interface name or ifindex");
  return *r;
}

std::string MacToString(const uint8_t* bytes, size_t len) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 3);
  for (size_t i = 0; i < len; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

namespace {
constexpr Named kScopes[] = {{"global", 0}, {"site", 200}, {"link", 253}, {"host", 254}, {"nowhere", 255}};
}  // namespace

Napi::Value ScopeToJs(Napi::Env env, uint8_t scope) { return NameOrNumber(env, kScopes, scope); }

std::optional<uint8_t> OptScope(const Napi::Object& o, const char* key) {
  auto scope = ValueOf(kScopes, o, key);
  if (!scope) return std::nullopt;
  return static_cast<uint8_t>(*scope);
}

int OptFamily(const Napi::Object& o, const char* key) {
  auto f = OptU32(o, key);
  if (!f) return 0;
  if (*f == 4) return AF_INET;
  if (*f == 6) return AF_INET6;
  Bad(o, key, "4 or 6");
}

Result<NamespacePtr> OpenTarget(const NetnsTarget& target) {
  if (const auto* open = std::get_if<NamespacePtr>(&target)) return *open;
  const std::string& path = std::get<std::string>(target);
  return Namespace::Open(path, path);
}

}  // namespace nlkit
