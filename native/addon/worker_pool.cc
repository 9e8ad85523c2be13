#include "addon/worker_pool.h"

#include <signal.h>

#include "netns/namespace.h"

namespace nlkit {

WorkerPool::WorkerPool(Napi::Env env, size_t threads) : thread_count_(threads == 0 ? 1 : threads) {
  delivery_ = Delivery::New(env, "nlkit", 0, 1, this);
  delivery_.Unref(env);
}

WorkerPool::~WorkerPool() { Stop(); }

Napi::Promise WorkerPool::Submit(Napi::Env env, Work work) {
  auto job = std::make_unique<Job>(env, std::move(work));
  job->timing.entered = entered_ != 0 ? entered_ : MonotonicNs();  // cleared when the binding returns
  Napi::Promise promise = job->deferred.Promise();
  if (pending_++ == 0) delivery_.Ref(env);
  Sleeper* sleeper = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TopUpThreadsLocked();
    job->timing.submitted = MonotonicNs();
    queue_.push_back(std::move(job));
    sleeper = TakeIdleLocked();
  }
  if (sleeper != nullptr) sleeper->cv.notify_one();
  return promise;
}

WorkerPool::Sleeper* WorkerPool::TakeIdleLocked() {
  if (idle_.empty()) return nullptr;
  Sleeper* s = idle_.back();
  idle_.pop_back();
  s->woken = true;
  return s;
}

void WorkerPool::TopUpThreadsLocked() {
  while (live_ < thread_count_) {
    ++live_;
    const auto ordinal = static_cast<uint32_t>(threads_.size());
    Sleeper& self = *sleepers_.emplace_back(std::make_unique<Sleeper>());
    threads_.emplace_back([this, ordinal, &self] { Loop(ordinal, self); });
  }
}

void WorkerPool::Loop(uint32_t ordinal, Sleeper& self) {
  // Signals belong to the JS thread; a blocked worker is never interrupted by one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  Status home = ThreadHome::Init();

  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A job queued while every worker was busy is taken before sleeping; a worker woken for a
      // job another one took first goes back on the stack.
      while (!stopping_ && queue_.empty()) {
        self.woken = false;
        idle_.push_back(&self);
        self.cv.wait(lock, [&] { return self.woken; });
      }
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    if (!home.ok()) {
      job->outcome.emplace(home.error());
    } else {
      job->timing.started = MonotonicNs();
      job->timing.worker = ordinal;
      const uint64_t syscalls_before = SyscallNsOfThisThread();
      job->outcome.emplace(job->work());
      job->timing.syscall_ns = SyscallNsOfThisThread() - syscalls_before;
      job->timing.finished = MonotonicNs();
    }
    Job* raw = job.release();
    if (delivery_.NonBlockingCall(raw) != napi_ok) {
      std::unique_ptr<Job> dropped(raw);  // env is going away; nobody is waiting
    }
    if (ThreadHome::poisoned()) {
      // This thread could not return to its own namespace: it must run nothing else. It ends;
      // the next Submit, on the JS thread, starts a replacement that begins at home.
      std::lock_guard<std::mutex> lock(mu_);
      --live_;
      return;  // never on idle_: it pushes itself only while waiting
    }
  }
}

void WorkerPool::CallJs(Napi::Env env, Napi::Function, WorkerPool* pool, Job* raw) {
  std::unique_ptr<Job> job(raw);
  if (env == nullptr || job == nullptr) return;
  job->timing.delivered = MonotonicNs();
  // Recorded when this callback returns, however it returns.
  struct Record {
    WorkerPool* pool;
    JobTiming& timing;
    ~Record() {
      timing.settled = MonotonicNs();
      pool->last_timing_ = timing;
    }
  } record{pool, job->timing};
  if (--pool->pending_ == 0) pool->delivery_.Unref(env);
  // This is a C callback: nothing may escape it. While a worker_thread is being terminated, JS
  // can no longer run and settling the promise throws; the promise is moot then.
  try {
    Napi::HandleScope scope(env);
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
    // Each sleeper wakes to see stopping_; none pushes itself again.
    while (Sleeper* s = TakeIdleLocked()) s->cv.notify_one();
  }
  // Joining outside the lock: a poisoned thread may be adding its replacement. Collect until
  // no thread is left unjoined.
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
