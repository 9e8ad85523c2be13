// nlkit's own worker threads. Kernel work never runs on the JS thread, and not on libuv's pool
// either (4 threads by default, shared with fs and dns: a burst of container starts must not
// stall them, nor wait behind them).
//
// A job has two halves: `work` runs on a worker and returns either an Error or a "materializer";
// the materializer runs on the JS thread and turns the plain C++ result into JS values. One
// thread-safe function carries finished jobs back; it holds the event loop open only while jobs
// are pending.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace nlkit {

using Materializer = std::function<Napi::Value(Napi::Env)>;
using Work = std::function<Result<Materializer>()>;

// When each stage of one call happened (CLOCK_MONOTONIC ns), and how long its worker spent in
// system calls. The bench reads the last one (native.lastJobTiming) to show where time goes.
struct JobTiming {
  uint64_t entered = 0;    // the binding was called (JS thread)
  uint64_t submitted = 0;  // arguments read, job queued
  uint64_t started = 0;    // a worker picked it up
  uint64_t finished = 0;   // the worker is done
  uint64_t syscall_ns = 0; // of started..finished, time inside netlink/namespace system calls
  uint64_t delivered = 0;  // the JS thread began settling it
  uint64_t settled = 0;    // the promise is resolved or rejected
  uint32_t worker = 0;     // which worker ran it: its ordinal in the order threads started
  // The CPU (sched_getcpu) the JS thread queued it on, the worker started and finished it on, and
  // the JS thread took the result on. A hand-off that wakes a thread on another, idle CPU costs
  // that CPU's wake-up, which on a virtual machine can be most of the hand-off.
  int32_t cpu_submitted = -1;
  int32_t cpu_started = -1;
  int32_t cpu_finished = -1;
  int32_t cpu_delivered = -1;
};

// Which jobs may run at the same time as which.
enum class Lane {
  kAny,
  // Container attaches run one at a time. The kernel serialises them anyway (every message takes
  // the RTNL lock), and run side by side they only make threads contend for that lock: a burst of
  // 64 took 0.99x the time of 64 in a row on 4 threads, 0.92-0.94x on one (2 vCPUs, 2026-11-23).
  // Other calls still run beside them: a detach spends most of its time outside the lock.
  kOneAtATime,
};

struct Job {
  Work work;
  Lane lane = Lane::kAny;
  JobTiming timing;
  std::optional<Result<Materializer>> outcome;
  Napi::Promise::Deferred deferred;
  explicit Job(Napi::Env env, Work w) : work(std::move(w)), deferred(Napi::Promise::Deferred::New(env)) {}
};

class WorkerPool {
 public:
  WorkerPool(Napi::Env env, size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // JS thread: queues `work` and returns the promise it settles.
  Napi::Promise Submit(Napi::Env env, Work work, Lane lane = Lane::kAny);
  // Stops and joins the threads (env teardown). Queued jobs are dropped.
  void Stop();

  // JS thread: a binding was entered; the next Submit's timing starts here.
  void MarkEntered() { entered_ = MonotonicNs(); }
  void ClearEntered() { entered_ = 0; }
  // JS thread: the timing of the job settled last.
  const JobTiming& last_timing() const { return last_timing_; }

 private:
  // Each worker sleeps on its own condition variable, so the pool chooses which one wakes: the one
  // that went idle last (a stack). A shared condition variable wakes the one that has slept
  // longest, so with calls one at a time every call ran on the coldest thread (stack, per-thread
  // buffers and the kernel's task state all evicted).
  struct Sleeper {
    std::condition_variable cv;
    bool woken = false;     // under mu_: taken off the stack for a job (or to stop)
    bool on_stack = false;  // its own thread only: it pushed itself and has not yet waited
  };
  static void CallJs(Napi::Env env, Napi::Function, WorkerPool* pool, Job* job);
  // On the JS thread: settles a job's promise with its outcome (and the pool's bookkeeping).
  void Settle(Napi::Env env, std::unique_ptr<Job> job);
  void Loop(uint32_t ordinal, Sleeper& self);
  // Starts threads until `thread_count_` are live. Only ever called on the JS thread, which is in
  // the namespace the process started in: a new thread inherits the creating thread's namespace,
  // and must start at home. False when no thread is live and none could be started
  // (`thread_error_` says why).
  bool TopUpThreadsLocked();
  // Under mu_: `self` goes idle, on top of the stack or, for a thread that never ran, at the bottom.
  void PushIdleLocked(Sleeper& self, bool coldest);
  // Under mu_: whether a queued job may start now, and taking the first that may (FIFO, except
  // that one-at-a-time jobs wait while one of them runs).
  bool HasRunnableLocked() const;
  std::unique_ptr<Job> TakeRunnableLocked();
  // Under mu_: takes the worker that went idle last off the stack, marked woken (notify it after
  // unlocking); null when every worker is busy.
  Sleeper* TakeIdleLocked();

  using Delivery = Napi::TypedThreadSafeFunction<WorkerPool, Job, &WorkerPool::CallJs>;
  Delivery delivery_;
  size_t thread_count_;
  size_t live_ = 0;     // threads running Loop(), under mu_
  size_t pending_ = 0;  // JS thread only
  uint64_t entered_ = 0;       // JS thread only
  JobTiming last_timing_;      // JS thread only
  std::mutex mu_;
  std::vector<Sleeper*> idle_;  // under mu_; back() went idle last
  // One per thread ever started, owned here rather than on the thread's stack: Submit notifies a
  // sleeper after unlocking, when its thread may already have run the job and ended.
  std::vector<std::unique_ptr<Sleeper>> sleepers_;  // under mu_
  std::deque<std::unique_ptr<Job>> queue_;
  size_t one_at_a_time_queued_ = 0;   // under mu_: of queue_, the kOneAtATime jobs
  bool one_at_a_time_running_ = false;  // under mu_
  std::vector<std::thread> threads_;
  // Under mu_: ordinals of threads that ended (poisoned) and are not joined yet. Submit joins them
  // (outside the lock): an unjoined thread keeps its stack mapped, so without that every
  // replacement would map a new one. Its Sleeper stays in sleepers_: a successor is notified
  // after unlocking, so a sleeper is never freed while the pool lives.
  std::vector<uint32_t> exited_;
  std::string thread_error_;  // under mu_
  bool stopping_ = false;
  bool stopped_ = false;
};

// A result with nothing in it: the promise resolves to undefined.
inline Materializer Nothing() {
  return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
}

// A list of results, each turned into a JS value by `to_js` on the JS thread.
template <typename T, typename ToJs>
Materializer ListOf(std::vector<T> items, ToJs to_js) {
  return [items = std::move(items), to_js](Napi::Env env) -> Napi::Value {
    Napi::Array out = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), to_js(env, items[i]));
    return out;
  };
}

// Converts an Error to the plain object the TypeScript layer turns into a typed error class.
Napi::Object ErrorToJs(Napi::Env env, const Error& e);

// Whether this environment can still run JavaScript. While a worker_thread is being stopped
// (worker.terminate(), process.exit() in it, its environment's clean-up running the event loop's
// last callbacks) every Node-API call that may run JS fails with no exception to show, and
// node-addon-api aborts the process when it builds an error from that. Callbacks that libuv or a
// threadsafe function run ask this first and return without touching JS. Needs a handle scope.
bool CanCallIntoJs(napi_env env);

}  // namespace nlkit
