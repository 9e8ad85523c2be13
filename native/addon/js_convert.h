// Reading the normalized request objects that lib/ hands to the addon. The TypeScript layer has
// already validated them (types, ranges, syntax); these readers still check types, and a
// mismatch is a TypeError thrown at the boundary, never undefined behaviour.
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <variant>

#include "families/link.h"
#include "netns/namespace.h"

namespace nlkit {

// The single request object every binding takes.
Napi::Object RequestArg(const Napi::CallbackInfo& info);

std::optional<uint32_t> OptU32(const Napi::Object& o, const char* key);
std::optional<int32_t> OptI32(const Napi::Object& o, const char* key);
std::optional<bool> OptBool(const Napi::Object& o, const char* key);
std::optional<std::string> OptString(const Napi::Object& o, const char* key);
std::string ReqString(const Napi::Object& o, const char* key);
std::optional<Napi::Object> OptObject(const Napi::Object& o, const char* key);
std::optional<Mac> OptMac(const Napi::Object& o, const char* key);
std::optional<IpAddr> OptIp(const Napi::Object& o, const char* key);
// A link reference: a positive integer ifindex or a name.
std::optional<LinkRefArg> OptLinkRef(const Napi::Object& o, const char* key);
LinkRefArg ReqLinkRef(const Napi::Object& o, const char* key);

std::string MacToString(const uint8_t* bytes, size_t len);

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
