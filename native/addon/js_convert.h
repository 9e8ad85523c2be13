// Reading the normalized request objects that lib/ hands to the addon. The TypeScript layer has
// already validated them (types, ranges, syntax); these readers still check types, and a
// mismatch is a TypeError thrown at the boundary, never undefined behaviour.
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "families/link.h"
#include "netns/namespace.h"

namespace nlkit {

// The single request object every binding takes.
Napi::Object RequestArg(const Napi::CallbackInfo& info);

// For the decoder test hooks: the one Buffer argument, and a decode failure thrown as the
// ERR_NLKIT_PROTOCOL error a reply that cannot be decoded becomes.
Bytes BufferArg(const Napi::CallbackInfo& info);
[[noreturn]] void ThrowDecodeError(Napi::Env env, const Error& e);

// Readers of one value (a positional argument, or a field already fetched); `what` names it in
// the TypeError. Absent means undefined or null.
std::optional<uint32_t> ArgU32(const Napi::Value& v, const char* what);
std::optional<int32_t> ArgI32(const Napi::Value& v, const char* what);
std::optional<bool> ArgBool(const Napi::Value& v, const char* what);
std::optional<std::string> ArgString(const Napi::Value& v, const char* what);
std::string ReqArgString(const Napi::Value& v, const char* what);
std::optional<Mac> ArgMac(const Napi::Value& v, const char* what);
std::optional<IpAddr> ArgIp(const Napi::Value& v, const char* what);
// A link reference: a positive integer ifindex or a name.
std::optional<LinkRefArg> ArgLinkRef(const Napi::Value& v, const char* what);
LinkRefArg ReqArgLinkRef(const Napi::Value& v, const char* what);

// The elements of `v` (absent: none), each given to `read` as an Element.
template <typename T, typename Element = Napi::Object, typename Reader>
std::vector<T> ReadArray(const Napi::Value& v, const char* what, Reader read) {
  std::vector<T> out;
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string("nlkit native: '") + what + "' must be an array");
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) out.push_back(read(a.Get(i).As<Element>()));
  return out;
}

// The same, reading field `key` of a request object. (Each Get makes V8 look the key up from
// UTF-8; the hottest binding, containerAttach, takes positional arguments instead.)
inline std::optional<uint32_t> OptU32(const Napi::Object& o, const char* key) { return ArgU32(o.Get(key), key); }
inline std::optional<int32_t> OptI32(const Napi::Object& o, const char* key) { return ArgI32(o.Get(key), key); }
inline std::optional<bool> OptBool(const Napi::Object& o, const char* key) { return ArgBool(o.Get(key), key); }
inline std::optional<std::string> OptString(const Napi::Object& o, const char* key) { return ArgString(o.Get(key), key); }
inline std::string ReqString(const Napi::Object& o, const char* key) { return ReqArgString(o.Get(key), key); }
inline std::optional<Mac> OptMac(const Napi::Object& o, const char* key) { return ArgMac(o.Get(key), key); }
inline std::optional<IpAddr> OptIp(const Napi::Object& o, const char* key) { return ArgIp(o.Get(key), key); }
inline std::optional<LinkRefArg> OptLinkRef(const Napi::Object& o, const char* key) { return ArgLinkRef(o.Get(key), key); }
inline LinkRefArg ReqLinkRef(const Napi::Object& o, const char* key) { return ReqArgLinkRef(o.Get(key), key); }
std::optional<Napi::Object> OptObject(const Napi::Object& o, const char* key);

// Route/address scopes by the names ip(8) uses ("global", "link", "host"...); others as numbers.
Napi::Value ScopeToJs(Napi::Env env, uint8_t scope);
std::optional<uint8_t> OptScope(const Napi::Object& o, const char* key);
// Address family as 4 or 6 in JS; 0 when absent.
int OptFamily(const Napi::Object& o, const char* key);

// Where a call acts: a namespace already open (the default one, or a handle's), or a path to
// open on the worker thread for the duration of the call.
using NetnsTarget = std::variant<NamespacePtr, std::string>;
// Opens a path target; passes an open one through.
Result<NamespacePtr> OpenTarget(const NetnsTarget& target);

}  // namespace nlkit
