#include "netlink/fault_injection.h"

#include <atomic>

namespace nlkit {

namespace {
std::atomic<uint32_t> g_countdown{0};
std::atomic<int> g_errnum{0};
std::atomic<bool> g_home_fault{false};
std::atomic<uint32_t> g_thread_start_faults{0};
std::atomic<uint32_t> g_dump_interrupts{0};

// Takes one from a countdown, unless it is at 0.
bool TakeOne(std::atomic<uint32_t>& counter, uint32_t* was) {
  uint32_t c = counter.load(std::memory_order_acquire);
  while (c > 0) {
    if (counter.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel)) {
      *was = c;
      return true;
    }
  }
  return false;
}
}  // namespace

void ArmThreadStartFault(uint32_t count) { g_thread_start_faults.store(count, std::memory_order_release); }

bool TakeThreadStartFault() {
  uint32_t was = 0;
  return TakeOne(g_thread_start_faults, &was);
}

void ArmDumpInterruptFault(uint32_t count) { g_dump_interrupts.store(count, std::memory_order_release); }

bool TakeDumpInterruptFault() {
  uint32_t was = 0;
  return TakeOne(g_dump_interrupts, &was);
}

void ArmHomeFault(bool armed) { g_home_fault.store(armed, std::memory_order_release); }

bool TakeHomeFault() {
  return g_home_fault.load(std::memory_order_relaxed) && g_home_fault.exchange(false, std::memory_order_acq_rel);
}

void ArmFault(uint32_t after, int errnum) {
  g_errnum.store(errnum, std::memory_order_relaxed);
  g_countdown.store(after, std::memory_order_release);
}

uint32_t FaultCountdown() { return g_countdown.load(std::memory_order_acquire); }

bool TakeFault(int* errnum) {
  uint32_t was = 0;
  if (!TakeOne(g_countdown, &was) || was != 1) return false;
  *errnum = g_errnum.load(std::memory_order_relaxed);
  return true;
}

}  // namespace nlkit
