// Timestamps for the per-call timing the bench reads (native.lastJobTiming): where a call's time
// goes between JS, nlkit's threads and the kernel. Reading CLOCK_MONOTONIC is a vDSO call of some
// 20 ns, so the accounting is always on.
#pragma once

#include <time.h>

#include <cstdint>

namespace nlkit {

// The same clock as process.hrtime() in Node (libuv's uv_hrtime).
inline uint64_t MonotonicNs() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

// Nanoseconds the calling thread has spent in netlink and namespace system calls (sendmsg,
// recvmsg, setns, socket setup): the kernel's share of a job. The worker pool reads it around
// each job.
inline uint64_t& SyscallNsOfThisThread() {
  thread_local uint64_t total = 0;
  return total;
}

// Adds the lifetime of the scope to SyscallNsOfThisThread().
class SyscallTimer {
 public:
  SyscallTimer() : start_(MonotonicNs()) {}
  ~SyscallTimer() { SyscallNsOfThisThread() += MonotonicNs() - start_; }
  SyscallTimer(const SyscallTimer&) = delete;
  SyscallTimer& operator=(const SyscallTimer&) = delete;

 private:
  uint64_t start_;
};

}  // namespace nlkit
