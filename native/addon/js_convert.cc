#include "addon/js_convert.h"

#include "addon/named_values.h"

#include <cmath>

namespace nlkit {

namespace {
[[noreturn]] void Bad(Napi::Env env, const char* what, const char* want) {
  throw Napi::TypeError::New(env, std::string("nlkit native: '") + what + "' must be " + want);
}
// The readers below ask a value's type once: every Is...() is a napi_typeof of its own, which
// walks V8's type checks in turn, and an argument read that way cost three of them.
bool Absent(napi_valuetype t) { return t == napi_undefined || t == napi_null; }
// A string's UTF-8, in one Node-API call when it fits a small buffer (names and addresses do);
// Napi::String::Utf8Value always makes two (length, then copy).
std::string Utf8Of(const Napi::Value& v) {
  char small[64];
  size_t len = 0;
  // A string too long for the buffer comes back cut, without an error, and cut before a character
  // that does not fit whole: up to 3 bytes short of the 63 there is room for. So only a length
  // that a cut cannot produce (under 60) proves the string is all there.
  constexpr size_t kSurelyWhole = sizeof(small) - 1 - 3;
  if (napi_get_value_string_utf8(v.Env(), v, small, sizeof(small), &len) == napi_ok && len < kSurelyWhole) {
    return std::string(small, len);
  }
  return v.As<Napi::String>().Utf8Value();
}
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Bytes BufferArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(info.Env(), "nlkit native: expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  return Bytes(buf.Data(), buf.Length());
}

void ThrowDecodeError(Napi::Env env, const Error& e) {
  Napi::Error out = Napi::Error::New(env, e.detail);
  out.Set("code", "ERR_NLKIT_PROTOCOL");
  throw out;
}

Napi::Object RequestArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(info.Env(), "nlkit native: expected a request object");
  }
  return info[0].As<Napi::Object>();
}

std::optional<uint32_t> ArgU32(const Napi::Value& v, const char* what) {
  const napi_valuetype t = v.Type();
  if (Absent(t)) return std::nullopt;
  if (t != napi_number) Bad(v.Env(), what, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || std::floor(d) != d) Bad(v.Env(), what, "an unsigned 32-bit integer");
  return static_cast<uint32_t>(d);
}

std::optional<int32_t> ArgI32(const Napi::Value& v, const char* what) {
  const napi_valuetype t = v.Type();
  if (Absent(t)) return std::nullopt;
  if (t != napi_number) Bad(v.Env(), what, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || std::floor(d) != d) Bad(v.Env(), what, "a 32-bit integer");
  return static_cast<int32_t>(d);
}

std::optional<bool> ArgBool(const Napi::Value& v, const char* what) {
  const napi_valuetype t = v.Type();
  if (Absent(t)) return std::nullopt;
  if (t != napi_boolean) Bad(v.Env(), what, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::optional<std::string> ArgString(const Napi::Value& v, const char* what) {
  const napi_valuetype t = v.Type();
  if (Absent(t)) return std::nullopt;
  if (t != napi_string) Bad(v.Env(), what, "a string");
  return Utf8Of(v);
}

std::string ReqArgString(const Napi::Value& v, const char* what) {
  auto s = ArgString(v, what);
  if (!s) Bad(v.Env(), what, "a string");
  return *s;
}

std::optional<Mac> ArgMac(const Napi::Value& v, const char* what) {
  auto s = ArgString(v, what);
  if (!s) return std::nullopt;
  Mac mac{};
  if (s->size() != 17) Bad(v.Env(), what, "a MAC address aa:bb:cc:dd:ee:ff");
  for (size_t i = 0; i < 6; ++i) {
    const int hi = HexDigit((*s)[i * 3]);
    const int lo = HexDigit((*s)[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && (*s)[i * 3 + 2] != ':')) Bad(v.Env(), what, "a MAC address aa:bb:cc:dd:ee:ff");
    mac[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return mac;
}

std::optional<IpAddr> ArgIp(const Napi::Value& v, const char* what) {
  auto s = ArgString(v, what);
  if (!s) return std::nullopt;
  auto a = IpAddr::Parse(*s);
  if (!a) Bad(v.Env(), what, "an IPv4 or IPv6 address");
  return a;
}

std::optional<LinkRefArg> ArgLinkRef(const Napi::Value& v, const char* what) {
  const napi_valuetype t = v.Type();
  if (Absent(t)) return std::nullopt;
  if (t == napi_number) {
    auto i = ArgI32(v, what);
    if (!i || *i <= 0) Bad(v.Env(), what, "a positive ifindex");
    return LinkRefArg{*i, {}};
  }
  if (t == napi_string) return LinkRefArg{0, Utf8Of(v)};
  Bad(v.Env(), what, "an interface name or ifindex");
}

LinkRefArg ReqArgLinkRef(const Napi::Value& v, const char* what) {
  auto r = ArgLinkRef(v, what);
  if (!r) Bad(v.Env(), what, "an interface name or ifindex");
  return *r;
}

std::optional<Napi::Object> OptObject(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  const napi_valuetype t = v.Type();
  if (Absent(t)) return std::nullopt;
  if (t != napi_object && t != napi_function) Bad(o.Env(), key, "an object");  // as IsObject() had it
  return v.As<Napi::Object>();
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
  Bad(o.Env(), key, "4 or 6");
}

Result<NamespacePtr> OpenTarget(const NetnsTarget& target) {
  if (const auto* open = std::get_if<NamespacePtr>(&target)) return *open;
  const std::string& path = std::get<std::string>(target);
  return Namespace::Open(path, path);
}

}  // namespace nlkit
