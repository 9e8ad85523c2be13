// A test hook: make the N-th netlink round trip from now fail, on whatever thread makes it, so that
// tests can fail every step of a multi-step operation in turn and check that nothing is left
// half-made. A failed round trip sends nothing: the kernel never sees it, and the caller gets the
// armed errno as if the kernel had refused every request in it (a dump gets it as its error). The
// count covers SendBatch (request/ACK exchanges and nftables batches) and Dump.
//
// Inert unless armed; only the tests arm it (native.injectFault, not part of the public API).
#pragma once

#include <cstdint>

namespace nlkit {

// Arms the hook: the `after`-th round trip from now fails with `errnum`. after == 0 disarms.
void ArmFault(uint32_t after, int errnum);
// Round trips still to go before the armed one fails; 0 when none is armed (or it has fired).
uint32_t FaultCountdown();
// Called once per round trip: true, with the errno, for the one that must fail.
bool TakeFault(int* errnum);

// The second hook: the next worker thread to leave a namespace it entered stays there, as if the
// setns() back home had failed, so the thread is poisoned (netns/namespace.h) and must end.
// Armed by true, disarmed by false.
void ArmHomeFault(bool armed);
bool TakeHomeFault();

// The third: the next `count` worker threads the pool tries to start fail to start, as when the
// process is out of threads (std::thread throws). 0 disarms.
void ArmThreadStartFault(uint32_t count);
bool TakeThreadStartFault();

// The fourth: the next `count` dumps (attempts, process-wide) read as interrupted by a concurrent
// change (NLM_F_DUMP_INTR), so the retry limit can be reached on demand. 0 disarms.
void ArmDumpInterruptFault(uint32_t count);
bool TakeDumpInterruptFault();

}  // namespace nlkit
