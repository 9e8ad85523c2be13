#include "addon/worker_pool.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>

#include <system_error>

#include "netlink/fault_injection.h"
#include "netns/namespace.h"

namespace nlkit {

WorkerPool::WorkerPool(Napi::Env env, size_t threads) : thread_count_(threads == 0 ? 1 : threads) {
  delivery_ = Delivery::New(env, "nlkit", 0, 1, this);
  delivery_.Unref(env);
}

WorkerPool::~WorkerPool() { Stop(); }

namespace {
// What a call gets when no worker thread can run it (the process is out of threads).
Error NoWorkerThread(const std::string& why) {
  Error e = Error::System(EAGAIN, "startWorkerThread");
  e.detail = "no worker thread could be started to run the call (" + why + ")";
  return e;
}
}  // namespace

Napi::Promise WorkerPool::Submit(Napi::Env env, Work work, Lane lane) {
  auto job = std::make_unique<Job>(env, std::move(work));
  job->lane = lane;
  job->timing.entered = entered_ != 0 ? entered_ : MonotonicNs();  // cleared when the binding returns
  Napi::Promise promise = job->deferred.Promise();
  Sleeper* sleeper = nullptr;
  // Threads that ended (poisoned), joined when this goes out of scope, after the lock, on every
  // path out, throws included (a joinable std::thread destroyed is std::terminate). Such a thread
  // is past its last use of the pool, at most finishing its delivery: a short wait. Empty, and
  // unallocated, unless a thread ended.
  struct JoinOnExit {
    std::vector<std::thread> threads;
    ~JoinOnExit() {
      for (std::thread& t : threads) t.join();
    }
  } ended;
  bool started = false;
  std::string no_thread;  // why no worker could be started, when none could
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended.threads.reserve(exited_.size());  // may throw, before anything is moved
    for (uint32_t ordinal : exited_) ended.threads.push_back(std::move(threads_[ordinal]));
    exited_.clear();
    started = TopUpThreadsLocked();
    if (!started) {
      no_thread = thread_error_;
    } else {
      job->timing.submitted = MonotonicNs();
      job->timing.cpu_submitted = sched_getcpu();
      // A one-at-a-time job behind another (running or queued) wakes nobody: the worker that runs
      // the one before takes it next.
      const bool startable = lane == Lane::kAny || (!one_at_a_time_running_ && one_at_a_time_queued_ == 0);
      if (lane == Lane::kOneAtATime) ++one_at_a_time_queued_;
      queue_.push_back(std::move(job));
      if (startable) sleeper = TakeIdleLocked();
    }
  }
  if (sleeper != nullptr) sleeper->cv.notify_one();
  if (!started) {
    // The same refusal as a queued call gets when its thread ended and none can replace it
    // (CallJs): a SystemError, not a plain Error, whichever side of that moment the call came.
    job->deferred.Reject(ErrorToJs(env, NoWorkerThread(no_thread)));
    return promise;
  }
  if (pending_++ == 0) delivery_.Ref(env);
  return promise;
}

WorkerPool::Sleeper* WorkerPool::TakeIdleLocked() {
  if (idle_.empty()) return nullptr;
  Sleeper* s = idle_.back();
  idle_.pop_back();
  s->woken = true;
  return s;
}

bool WorkerPool::HasRunnableLocked() const {
  return queue_.size() > one_at_a_time_queued_ || (one_at_a_time_queued_ > 0 && !one_at_a_time_running_);
}

std::unique_ptr<Job> WorkerPool::TakeRunnableLocked() {
  auto it = queue_.begin();
  if (one_at_a_time_running_) {
    while (it != queue_.end() && (*it)->lane == Lane::kOneAtATime) ++it;
  }
  std::unique_ptr<Job> job = std::move(*it);  // callers checked HasRunnableLocked()
  queue_.erase(it);
  if (job->lane == Lane::kOneAtATime) {
    --one_at_a_time_queued_;
    one_at_a_time_running_ = true;
  }
  return job;
}

void WorkerPool::PushIdleLocked(Sleeper& self, bool coldest) {
  self.woken = false;
  self.on_stack = true;
  // Never reallocates: reserved for every thread ever started (TopUpThreadsLocked).
  if (coldest) {
    idle_.insert(idle_.begin(), &self);
  } else {
    idle_.push_back(&self);
  }
}

bool WorkerPool::TopUpThreadsLocked() {
  while (live_ < thread_count_) {
    const auto ordinal = static_cast<uint32_t>(threads_.size());
    try {
      sleepers_.reserve(sleepers_.size() + 1);
      threads_.reserve(threads_.size() + 1);
      idle_.reserve(sleepers_.size() + 1);
      exited_.reserve(sleepers_.size() + 1);
      Sleeper* self = sleepers_.emplace_back(std::make_unique<Sleeper>()).get();
      try {
        if (TakeThreadStartFault()) throw std::system_error(EAGAIN, std::generic_category(), "test fault");
        threads_.emplace_back([this, ordinal, self] { Loop(ordinal, *self); });
      } catch (...) {
        sleepers_.pop_back();
        throw;
      }
    } catch (const std::exception& e) {
      // Out of threads or memory: run on the threads there are; with none, the call fails.
      thread_error_ = e.what();
      return live_ > 0;
    }
    ++live_;
  }
  return true;
}

void WorkerPool::Loop(uint32_t ordinal, Sleeper& self) {
  // Signals belong to the JS thread; a blocked worker is never interrupted by one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // The thread is at home whenever it is between jobs, so a failed first try is retried per job.
  Status home = ThreadHome::Init();
  bool started = false;

  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (self.on_stack) {
          self.cv.wait(lock, [&] { return self.woken; });
          self.on_stack = false;
        }
        if (stopping_) return;
        if (HasRunnableLocked()) break;
        // A worker woken for a job another one took first goes back on the stack. A new thread
        // goes to the bottom: it is the coldest.
        PushIdleLocked(self, !started);
      }
      started = true;
      job = TakeRunnableLocked();
    }
    job->timing.worker = ordinal;
    if (!home.ok()) home = ThreadHome::Init();
    if (!home.ok()) {
      job->outcome.emplace(home.error());
    } else {
      job->timing.started = MonotonicNs();
      job->timing.cpu_started = sched_getcpu();
      const uint64_t syscalls_before = SyscallNsOfThisThread();
      job->outcome.emplace(job->work());
      job->timing.syscall_ns = SyscallNsOfThisThread() - syscalls_before;
      job->timing.finished = MonotonicNs();
      job->timing.cpu_finished = sched_getcpu();
    }
    const bool poisoned = ThreadHome::poisoned();
    bool stranded = false;
    Sleeper* successor = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (job->lane == Lane::kOneAtATime) one_at_a_time_running_ = false;
      if (poisoned) {
        // This thread could not return to its own namespace: it must run nothing else. It ends,
        // and the JS thread starts a replacement that begins at home: on the next Submit, or at
        // once if this was the last thread and calls are waiting. Another live worker takes the
        // one-at-a-time job this one would have taken next.
        stranded = --live_ == 0 && !queue_.empty() && !stopping_;
        exited_.push_back(ordinal);  // reserved: never allocates here
        if (!stopping_ && HasRunnableLocked()) successor = TakeIdleLocked();
      } else if (!stopping_ && !HasRunnableLocked()) {
        // Back on the stack before the result wakes the JS thread, whose next call (which the
        // result may prompt at once) must find this thread, still warm, on top.
        PushIdleLocked(self, false);
      }
    }
    if (successor != nullptr) successor->cv.notify_one();
    Job* raw = job.release();
    if (delivery_.NonBlockingCall(raw) != napi_ok) {
      std::unique_ptr<Job> dropped(raw);  // env is going away; nobody is waiting
    }
    if (poisoned) {
      if (stranded) delivery_.NonBlockingCall(nullptr);  // CallJs tops the threads up
      return;
    }
  }
}

void WorkerPool::CallJs(Napi::Env env, Napi::Function, WorkerPool* pool, Job* raw) {
  std::unique_ptr<Job> job(raw);
  if (env == nullptr) return;
  if (job == nullptr) {
    // The last worker ended (it could not get home) with calls still queued. New threads look at
    // the queue before they first sleep. When none can be started, nothing would ever run the
    // queued calls: they fail now, rather than wait for a Submit that may never come.
    std::deque<std::unique_ptr<Job>> orphans;
    std::string why;
    {
      std::lock_guard<std::mutex> lock(pool->mu_);
      if (pool->stopping_ || pool->TopUpThreadsLocked()) return;
      orphans.swap(pool->queue_);
      pool->one_at_a_time_queued_ = 0;
      why = pool->thread_error_;
    }
    for (std::unique_ptr<Job>& orphan : orphans) {
      orphan->outcome.emplace(NoWorkerThread(why));
      pool->Settle(env, std::move(orphan));
    }
    return;
  }
  pool->Settle(env, std::move(job));
}

bool CanCallIntoJs(napi_env env) {
  // A property write may run JS (a setter), so Node-API refuses it when JS cannot run; on a
  // fresh object it runs none.
  napi_value probe = nullptr;
  if (napi_create_object(env, &probe) != napi_ok) return false;
  if (napi_set_named_property(env, probe, "p", probe) == napi_ok) return true;
  napi_value ignored = nullptr;
  napi_get_and_clear_last_exception(env, &ignored);
  return false;
}

void WorkerPool::Settle(Napi::Env env, std::unique_ptr<Job> job) {
  job->timing.delivered = MonotonicNs();
  job->timing.cpu_delivered = sched_getcpu();
  // Recorded when this returns, however it returns.
  struct Record {
    WorkerPool* pool;
    JobTiming& timing;
    ~Record() {
      timing.settled = MonotonicNs();
      pool->last_timing_ = timing;
    }
  } record{this, job->timing};
  if (--pending_ == 0) delivery_.Unref(env);
  // Called from a C callback: nothing may escape. While a worker_thread is being terminated, JS
  // can no longer run and settling the promise throws; the promise is moot then.
  try {
    Napi::HandleScope scope(env);
    if (!CanCallIntoJs(env)) return;  // a worker_thread being stopped: the promise is moot
    Result<Materializer>& outcome = *job->outcome;
    if (!outcome.ok()) {
      job->deferred.Reject(ErrorToJs(env, outcome.error()));
      return;
    }
    Napi::Value value;
    try {
      value = outcome.value()(env);
    } catch (const Napi::Error& e) {
      job->deferred.Reject(e.Value());
      return;
    }
    job->deferred.Resolve(value);
  } catch (...) {
  }
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    queue_.clear();
    one_at_a_time_queued_ = 0;
    // Each sleeper wakes to see stopping_; none pushes itself again.
    while (Sleeper* s = TakeIdleLocked()) s->cv.notify_one();
  }
  // Joining outside the lock, collecting until no thread is left unjoined. (Replacements are only
  // started on the JS thread, which is here, so none appear while this runs.)
  for (size_t i = 0;; ++i) {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (i >= threads_.size()) break;
      t = std::move(threads_[i]);
    }
    if (t.joinable()) t.join();
  }
  delivery_.Release();
}

Napi::Object ErrorToJs(Napi::Env env, const Error& e) {
  Napi::Object o = Napi::Object::New(env);
  static const char* const kKinds[] = {"netlink", "system", "protocol", "invalid"};
  o.Set("kind", kKinds[static_cast<int>(e.kind)]);
  if (e.errnum != 0) {
    o.Set("errno", e.errnum);  // lib/errors.ts names it
  }
  if (!e.operation.empty()) o.Set("operation", e.operation);
  if (!e.object.empty()) o.Set("object", e.object);
  if (!e.extack.empty()) o.Set("extack", e.extack);
  if (e.extack_offset >= 0) o.Set("extackOffset", static_cast<double>(e.extack_offset));
  if (!e.detail.empty()) o.Set("detail", e.detail);
  return o;
}

}  // namespace nlkit
