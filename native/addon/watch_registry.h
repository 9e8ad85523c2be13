// The open watches of one Node environment: each an event socket (families/events.h) polled by
// the event loop itself (uv_poll), so no thread waits on it and nothing spins. When the socket is
// readable, the JS thread reads what is queued (never blocking: the socket is non-blocking),
// decodes it and calls the watch's JS callback once with the batch.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "core/fd.h"

namespace nlkit {

class Watcher;

class WatchRegistry {
 public:
  WatchRegistry();
  ~WatchRegistry();
  WatchRegistry(const WatchRegistry&) = delete;
  WatchRegistry& operator=(const WatchRegistry&) = delete;

  // JS thread: a new watch id whose events go to `on_events` once Start is called with its socket.
  uint32_t Reserve(Napi::Function on_events);
  // JS thread: starts polling `fd` for the reserved id. False if the id was closed meanwhile (the
  // fd is then closed).
  bool Start(Napi::Env env, uint32_t id, UniqueFd fd);
  // JS thread: stops the watch and closes its socket (once the event loop has let go of it).
  bool Close(uint32_t id);
  // Env teardown.
  void CloseAll();
  // Test hook: the netlink port id of a running watch's socket; 0 if none.
  uint32_t PortOf(uint32_t id) const;

 private:
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Napi::FunctionReference> reserved_;
  std::unordered_map<uint32_t, std::unique_ptr<Watcher>> running_;
};

}  // namespace nlkit
