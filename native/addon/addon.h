// The addon instance: one per Node environment (main thread or worker_thread). It owns the
// worker pool, the namespace the process started in, and the open namespace handles.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <unordered_map>

#include "addon/js_convert.h"
#include "addon/worker_pool.h"
#include "addon/watch_registry.h"
#include "families/address.h"
#include "families/neighbor.h"
#include "families/route.h"
#include "netns/namespace.h"

namespace nlkit {

class NlkitAddon : public Napi::Addon<NlkitAddon> {
 public:
  NlkitAddon(Napi::Env env, Napi::Object exports);
  ~NlkitAddon();

  WorkerPool& pool() { return *pool_; }
  // lib/link-object.ts's makeLink and makeAttachedEnds, registered once at load (setFactories):
  // the addon hands them plain values and they build the objects, which costs a fraction of the
  // same objects assembled through Node-API property by property or element by element.
  const Napi::FunctionReference& link_factory() const { return link_factory_; }
  const Napi::FunctionReference& ends_factory() const { return ends_factory_; }
  void set_factories(Napi::Function link, Napi::Function ends) {
    link_factory_ = Napi::Persistent(link);
    ends_factory_ = Napi::Persistent(ends);
  }
  // Queues `work` to run on a worker against the namespace `where` (opened there if it is a path).
  Napi::Promise SubmitIn(Napi::Env env, NetnsTarget where, std::function<Result<Materializer>(Namespace&)> work,
                         Lane lane = Lane::kAny);
  // Reads a request's namespace field: undefined = the process's initial namespace, a number =
  // an open handle (a closed one throws), a string = a path opened for this call only.
  NetnsTarget TargetOf(const Napi::Object& request, const char* key);
  // The same for one value (a positional argument); `what` names it in the TypeError.
  NetnsTarget Target(const Napi::Value& v, const char* what);
  // The namespace the process started in.
  const NamespacePtr& initial() const { return initial_; }

  // Open watches (JS thread only).
  WatchRegistry& watches() { return watches_; }

  // Handles (JS thread only).
  uint32_t AddHandle(NamespacePtr ns);
  bool CloseHandle(uint32_t id);
  // A second id for the namespace behind `id` (0 if `id` is not open).
  uint32_t DupHandle(uint32_t id);

 private:
  static void Cleanup(void* self);

  std::unique_ptr<WorkerPool> pool_;
  WatchRegistry watches_;
  Napi::FunctionReference link_factory_;
  Napi::FunctionReference ends_factory_;
  NamespacePtr initial_;
  std::unordered_map<uint32_t, NamespacePtr> handles_;
  uint32_t next_handle_ = 1;
};

// Readers and writers shared between bindings (defined in the family's binding file).
Napi::Value LinkToJs(Napi::Env env, const LinkInfo& link);
// Calls a factory registered by setFactories with `argv`; `name` says which in the error when it
// was never registered. While a worker_thread is being terminated JS cannot run: the result is
// then undefined (the promise it was for is moot). A factory that throws is a bug, rethrown.
Napi::Value CallFactory(Napi::Env env, const Napi::FunctionReference& factory, const char* name, size_t argc,
                        const napi_value* argv);
AddressSpec ReadAddressSpec(const Napi::Object& o);
Napi::Value AddressToJs(Napi::Env env, const AddressInfo& address);
RouteSpec ReadRouteSpec(const Napi::Object& o);
Napi::Value RouteToJs(Napi::Env env, const RouteInfo& route);
Napi::Value NeighborToJs(Napi::Env env, const NeighborInfo& neighbor);

// Binding entry points, one file per object family.
Napi::Value LinkCreate(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkGet(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkDelete(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkSet(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkEncodeCreate(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkDecode(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value EventsDecode(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value AddressAdd(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value AddressDelete(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value AddressList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value RouteAdd(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value RouteReplace(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value RouteDelete(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value RouteList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value RouteGet(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value LinkFindPeer(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value SysctlGet(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value SysctlSet(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NeighborAdd(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NeighborDelete(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NeighborList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value ContainerAttach(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value ContainerDetach(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatMasqueradeAdd(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatMasqueradeRemove(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatGuardLocalnet(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatIsolationAdd(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatIsolationRemove(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatPortMappingAdd(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatPortMappingRemove(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatPortMappingList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatInspect(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NatFlush(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NftCommitRefusalProbe(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NftPlantForeign(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NftDeleteIfnameElement(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value WatchPort(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetlinkSendTo(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NftDeleteRulesByComment(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetnsCreate(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetnsOpen(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetnsClose(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetnsDup(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetnsDelete(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value UdpProbeBinding(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value SocketOpen(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value NetnsList(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value WatchOpen(NlkitAddon& addon, const Napi::CallbackInfo& info);
Napi::Value WatchClose(NlkitAddon& addon, const Napi::CallbackInfo& info);

}  // namespace nlkit
