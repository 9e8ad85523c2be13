#include "addon/addon.h"

#include <fcntl.h>

#include <cstdlib>
#include <string>

#include "netlink/fault_injection.h"

namespace nlkit {

namespace {
size_t ThreadCount() {
  // Rtnetlink changes serialize on the kernel's RTNL lock, but a thread also blocks in the kernel
  // outside it: deleting a veth waits some 20 ms for device unregistration after RTNL is released,
  // and more threads overlap more of those waits (the bench's churn case: 115 attach+detach cycles/s
  // with 4 threads, 66 with 2). Fewer would also let one slow namespace entry hold up unrelated
  // calls. More would mostly spin on RTNL: on 2 vCPUs a burst of 64 attaches is already a little
  // slower with 4 threads than with 2 (0.95 vs 0.91 of serial).
  const char* env = std::getenv("NLKIT_THREADS");
  if (env != nullptr) {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1 && n <= 64) return static_cast<size_t>(n);
  }
  return 4;
}

// The stages of the call settled last, in microseconds of CLOCK_MONOTONIC (process.hrtime's
// clock), for the bench's breakdown of where a call's time goes.
Napi::Value LastJobTiming(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  const JobTiming& t = addon.pool().last_timing();
  Napi::Object o = Napi::Object::New(info.Env());
  const auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  o.Set("entered", us(t.entered));
  o.Set("submitted", us(t.submitted));
  o.Set("started", us(t.started));
  o.Set("finished", us(t.finished));
  o.Set("syscalls", us(t.syscall_ns));
  o.Set("delivered", us(t.delivered));
  o.Set("settled", us(t.settled));
  o.Set("worker", t.worker);
  o.Set("submittedCpu", t.cpu_submitted);
  o.Set("startedCpu", t.cpu_started);
  o.Set("finishedCpu", t.cpu_finished);
  o.Set("deliveredCpu", t.cpu_delivered);
  return o;
}

// setFactories({ link, attachedEnds }): lib/native.ts calls it once at load.
Napi::Value SetFactories(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object o = RequestArg(info);
  Napi::Value link = o.Get("link");
  Napi::Value ends = o.Get("attachedEnds");
  if (!link.IsFunction() || !ends.IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "nlkit native: setFactories takes { link, attachedEnds } functions");
  }
  addon.set_factories(link.As<Napi::Function>(), ends.As<Napi::Function>());
  return info.Env().Undefined();
}
// Tests only: injectFault({ after, errno }) arms netlink/fault_injection.h (after 0 disarms);
// with failReturnHome: true, the next worker to leave a namespace stays in it (and is poisoned);
// any other call disarms that. failThreadStarts: n makes the next n worker thread starts fail (any
// other call disarms it too).
// Returns the round trips that were still to go before the previously armed one would have failed
// (0: none armed, or it fired), read before re-arming.
// Tests only: how many interrupted dumps were restarted, process-wide (netlink/engine.h).
Napi::Value DumpRestartsBinding(NlkitAddon&, const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(DumpRestarts()));
}

Napi::Value InjectFault(NlkitAddon&, const Napi::CallbackInfo& info) {
  const uint32_t left = FaultCountdown();
  if (info.Length() >= 1 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    ArmFault(o.Get("after").ToNumber().Uint32Value(), o.Get("errno").ToNumber().Int32Value());
    ArmHomeFault(o.Get("failReturnHome").ToBoolean().Value());
    ArmThreadStartFault(o.Get("failThreadStarts").ToNumber().Uint32Value());
    ArmDumpInterruptFault(o.Get("interruptDumps").ToNumber().Uint32Value());
  }
  return Napi::Number::New(info.Env(), left);
}
}  // namespace

Napi::Value CallFactory(Napi::Env env, const Napi::FunctionReference& factory, const char* name, size_t argc,
                        const napi_value* argv) {
  if (factory.IsEmpty()) throw Napi::Error::New(env, std::string("nlkit native: setFactories was not called (") + name + ")");
  // Raw calls, not node-addon-api's throwing ones: while a worker_thread is being terminated the
  // call fails with no exception pending, and building a Napi::Error then aborts the process.
  const napi_value none = env.Undefined();
  napi_value fn = nullptr;
  napi_value result = nullptr;
  if (napi_get_reference_value(env, factory, &fn) != napi_ok || fn == nullptr ||
      napi_call_function(env, none, fn, argc, argv, &result) != napi_ok) {
    // Termination leaves an empty "exception" behind; a real one is a value (the factory threw, a
    // bug: report it). Either way it is cleared here, by the raw call, before anything else runs.
    napi_value exception = nullptr;
    napi_get_and_clear_last_exception(env, &exception);
    napi_valuetype type = napi_undefined;
    if (exception != nullptr && napi_typeof(env, exception, &type) == napi_ok && type == napi_object) {
      throw Napi::Error(env, exception);
    }
    return Napi::Value(env, none);
  }
  return Napi::Value(env, result);
}

NlkitAddon::NlkitAddon(Napi::Env env, Napi::Object exports) {
  // The namespace the process started in: what every call without `netns` acts on. /proc/self
  // is the main thread's view, whichever thread loads the addon.
  auto initial = Namespace::Open("/proc/self/ns/net", "initial netns");
  if (!initial) {
    throw Napi::Error::New(env, "nlkit: cannot open /proc/self/ns/net (errno " +
                                    std::to_string(initial.error().errnum) + ")");
  }
  initial_ = std::move(*initial);
  pool_ = std::make_unique<WorkerPool>(env, ThreadCount());
  napi_add_env_cleanup_hook(env, &NlkitAddon::Cleanup, this);

  struct Entry {
    const char* name;
    Napi::Value (*fn)(NlkitAddon&, const Napi::CallbackInfo&);
  };
  static const Entry kEntries[] = {
      {"linkCreate", LinkCreate},   {"linkGet", LinkGet},           {"linkList", LinkList},
      {"linkDelete", LinkDelete},   {"linkSet", LinkSet},           {"linkEncodeCreate", LinkEncodeCreate},
      {"linkDecode", LinkDecode},   {"eventsDecode", EventsDecode},
      {"addressAdd", AddressAdd},   {"addressDelete", AddressDelete}, {"addressList", AddressList},
      {"routeAdd", RouteAdd},       {"routeReplace", RouteReplace},   {"routeDelete", RouteDelete},
      {"routeList", RouteList},     {"routeGet", RouteGet},
      {"linkFindPeer", LinkFindPeer},
      {"sysctlGet", SysctlGet},     {"sysctlSet", SysctlSet},
      {"neighborAdd", NeighborAdd}, {"neighborDelete", NeighborDelete}, {"neighborList", NeighborList},
      {"containerAttach", ContainerAttach}, {"containerDetach", ContainerDetach},
      {"socketOpen", SocketOpen},   {"udpProbe", UdpProbeBinding},
      {"natMasqueradeAdd", NatMasqueradeAdd}, {"natMasqueradeRemove", NatMasqueradeRemove},
      {"natGuardLocalnet", NatGuardLocalnet}, {"natIsolationAdd", NatIsolationAdd},
      {"natIsolationRemove", NatIsolationRemove},
      {"natPortMappingAdd", NatPortMappingAdd}, {"natPortMappingRemove", NatPortMappingRemove},
      {"natPortMappingList", NatPortMappingList},
      {"natList", NatList},         {"natInspect", NatInspect},         {"natFlush", NatFlush},
      {"nftCommitRefusalProbe", NftCommitRefusalProbe}, {"nftDeleteRulesByComment", NftDeleteRulesByComment},
      {"nftPlantForeign", NftPlantForeign}, {"nftDeleteIfnameElement", NftDeleteIfnameElement}, {"watchPort", WatchPort}, {"netlinkSendTo", NetlinkSendTo},
      {"netnsCreate", NetnsCreate}, {"netnsOpen", NetnsOpen},       {"netnsClose", NetnsClose},
      {"netnsDup", NetnsDup},
      {"netnsDelete", NetnsDelete}, {"netnsList", NetnsList},
      {"lastJobTiming", LastJobTiming}, {"setFactories", SetFactories},
      {"injectFault", InjectFault}, {"dumpRestarts", DumpRestartsBinding},
      {"watchOpen", WatchOpen},     {"watchClose", WatchClose},
  };
  for (const Entry& e : kEntries) {
    auto fn = e.fn;
    exports.Set(e.name, Napi::Function::New(
                            env,
                            [this, fn](const Napi::CallbackInfo& info) {
                              // Timing starts at the binding; a call that submits nothing (or
                              // throws) must not leave its mark for the next one.
                              struct Entered {
                                WorkerPool& pool;
                                explicit Entered(WorkerPool& p) : pool(p) { pool.MarkEntered(); }
                                ~Entered() { pool.ClearEntered(); }
                              } entered(*pool_);
                              return fn(*this, info);
                            },
                            e.name));
  }
  exports.Set("threads", Napi::Number::New(env, static_cast<double>(ThreadCount())));
}

NlkitAddon::~NlkitAddon() { Cleanup(this); }

void NlkitAddon::Cleanup(void* self) {
  auto* addon = static_cast<NlkitAddon*>(self);
  if (addon->pool_) addon->pool_->Stop();
  addon->watches_.CloseAll();
  addon->handles_.clear();
}

NetnsTarget NlkitAddon::TargetOf(const Napi::Object& request, const char* key) { return Target(request.Get(key), key); }

NetnsTarget NlkitAddon::Target(const Napi::Value& v, const char* what) {
  const napi_valuetype t = v.Type();  // once: each Is...() is a napi_typeof of its own
  if (t == napi_undefined || t == napi_null) return initial_;
  if (t == napi_number) {
    const uint32_t id = v.As<Napi::Number>().Uint32Value();
    auto it = handles_.find(id);
    if (it == handles_.end()) {
      Napi::Error e = Napi::Error::New(v.Env(), "network namespace handle is closed");
      e.Set("code", "ERR_NLKIT_NETNS_CLOSED");
      throw e;
    }
    return it->second;
  }
  if (t == napi_string) return v.As<Napi::String>().Utf8Value();
  throw Napi::TypeError::New(v.Env(), std::string("nlkit native: '") + what + "' must be a handle id or a path");
}

Napi::Promise NlkitAddon::SubmitIn(Napi::Env env, NetnsTarget where,
                                   std::function<Result<Materializer>(Namespace&)> work, Lane lane) {
  return pool_->Submit(
      env,
      [where = std::move(where), work = std::move(work)]() -> Result<Materializer> {
        auto ns = OpenTarget(where);
        if (!ns) return std::move(ns.error());
        return work(**ns);
      },
      lane);
}

uint32_t NlkitAddon::AddHandle(NamespacePtr ns) {
  const uint32_t id = next_handle_++;
  handles_.emplace(id, std::move(ns));
  return id;
}

bool NlkitAddon::CloseHandle(uint32_t id) { return handles_.erase(id) > 0; }

uint32_t NlkitAddon::DupHandle(uint32_t id) {
  auto it = handles_.find(id);
  return it == handles_.end() ? 0 : AddHandle(it->second);
}

}  // namespace nlkit

using nlkit::NlkitAddon;
NODE_API_ADDON(NlkitAddon)
