// Kernel numbers and the names JS sees for them (route types, scopes, link modes, flag bits): one
// table per set, and these lookups for every binding.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>

#include "addon/js_convert.h"

namespace nlkit {

struct Named {
  const char* name;
  uint32_t value;
};

// The value `o[key]` names; nullopt when absent; a TypeError for a name not in the table.
template <size_t N>
std::optional<uint32_t> ValueOf(const Named (&table)[N], const Napi::Object& o, const char* key) {
  auto s = OptString(o, key);
  if (!s) return std::nullopt;
  for (const Named& n : table) {
    if (*s == n.name) return n.value;
  }
  throw Napi::TypeError::New(o.Env(), std::string("nlkit native: unknown ") + key + " '" + *s + "'");
}

template <size_t N>
const char* NameOf(const Named (&table)[N], uint32_t value) {
  for (const Named& n : table) {
    if (n.value == value) return n.name;
  }
  return nullptr;
}

// The name, or the bare number when the table has none (a kernel newer than the table).
template <size_t N>
Napi::Value NameOrNumber(Napi::Env env, const Named (&table)[N], uint32_t value) {
  const char* name = NameOf(table, value);
  if (name != nullptr) return Napi::String::New(env, name);
  return Napi::Number::New(env, value);
}

// The names of the bits set in `bits`, in table order.
template <size_t N>
Napi::Array NamesOfBits(Napi::Env env, const Named (&table)[N], uint32_t bits) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t k = 0;
  for (const Named& n : table) {
    if (bits & n.value) out.Set(k++, n.name);
  }
  return out;
}

}  // namespace nlkit
