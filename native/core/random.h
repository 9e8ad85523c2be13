// Random bytes for names and MAC addresses, without a system call each time.
//
// Not for secrets: a generated veth name or MAC only has to differ from its neighbours'. Each
// thread keeps its own xoshiro256** state, seeded once from getrandom(2); a per-call getrandom
// was two system calls on every container attach.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nlkit {

void FillRandom(uint8_t* out, size_t len);

}  // namespace nlkit
