#include "core/random.h"

#include <sys/random.h>

#include <cstring>

namespace nlkit {

namespace {

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

struct Xoshiro256 {
  uint64_t s[4];

  Xoshiro256() {
    size_t got = 0;
    auto* bytes = reinterpret_cast<uint8_t*>(s);
    while (got < sizeof(s)) {
      const ssize_t n = ::getrandom(bytes + got, sizeof(s) - got, 0);
      if (n > 0) got += static_cast<size_t>(n);
    }
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;  // the one state the generator cannot leave
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 45);
    return result;
  }
};

}  // namespace

void FillRandom(uint8_t* out, size_t len) {
  thread_local Xoshiro256 generator;
  while (len > 0) {
    const uint64_t r = generator.Next();
    const size_t n = len < sizeof(r) ? len : sizeof(r);
    std::memcpy(out, &r, n);
    out += n;
    len -= n;
  }
}

}  // namespace nlkit
