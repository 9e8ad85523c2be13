// watch(): rtnetlink notifications delivered to JS. See addon/watch_registry.h.
#include <errno.h>
#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <optional>

#include "addon/addon.h"
#include "families/events.h"

namespace nlkit {

class Watcher {
 public:
  friend Napi::Value EventsDecode(NlkitAddon&, const Napi::CallbackInfo& info);
  Watcher(Napi::Env env, UniqueFd fd, Napi::FunctionReference on_events)
      : env_(env), fd_(std::move(fd)), on_events_(std::move(on_events)) {
    context_.emplace(env, "nlkit.watch");
    poll_.data = this;
  }

  int Start() {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env_, &loop) != napi_ok) return UV_EINVAL;
    const int r = uv_poll_init_socket(loop, &poll_, fd_.get());
    if (r != 0) return r;
    initialized_ = true;
    return uv_poll_start(&poll_, UV_READABLE, &Watcher::OnReadable);
  }

  // Hands the watcher to the event loop for closing; it is freed in the close callback, which
  // closes its fd (libuv must stop polling an fd before it is closed). Its JS references go now,
  // on the JS thread while the environment is sure to be alive; the close callback makes no
  // Node-API call.
  static void Dispose(std::unique_ptr<Watcher> w) {
    w->disposed_ = true;
    if (!w->in_callback_) w->ReleaseJs();
    if (!w->initialized_) return;  // never polled: the unique_ptr frees it here
    uv_poll_stop(&w->poll_);
    Watcher* raw = w.release();
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->poll_), [](uv_handle_t* h) { std::unique_ptr<Watcher> free(static_cast<Watcher*>(h->data)); });
  }

  // The socket's netlink port id (the registry's test hook, watchPort).
  uint32_t Port() const {
    sockaddr_nl local{};
    socklen_t len = sizeof(local);
    if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) return 0;
    return local.nl_pid;
  }

 private:
  // At most this many datagrams per wake-up, so a flood of changes cannot starve the event loop;
  // what is left keeps the socket readable and is read on the next turn.
  static constexpr int kMaxReadsPerWake = 256;

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    Watcher* self = static_cast<Watcher*>(handle->data);
    // A scope of its own, open around the catch below too (an error's value is a handle). An
    // environment being stopped runs its last poll callbacks with JS already refused: nothing
    // is read or delivered then (the watch is closed by the environment's clean-up).
    napi_handle_scope scope = nullptr;
    if (napi_open_handle_scope(self->env_, &scope) != napi_ok) return;
    if (CanCallIntoJs(self->env_)) {
      // Nothing may escape into libuv: a C++ exception here would end the process.
      try {
        Read(self, status, events);
      } catch (const Napi::Error& e) {
        if (CanCallIntoJs(self->env_)) napi_fatal_exception(self->env_, e.Value());
      } catch (...) {
      }
    }
    napi_close_handle_scope(self->env_, scope);
  }

  static void Read(Watcher* self, int status, int) {
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    Napi::Array batch = Napi::Array::New(env);
    uint32_t n = 0;
    auto push = [&](Napi::Value v) { batch.Set(n++, v); };
    auto marker = [&](const char* type) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", type);
      return o;
    };
    auto push_error = [&](const Error& error) {
      Napi::Object o = marker("error");
      o.Set("error", ErrorToJs(env, error));
      push(o);
    };
    // An overrun sets the socket's pending error (ENOBUFS), which poll() reports as POLLERR;
    // libuv then stops polling and says UV_EBADF. The recv below reads that error (clearing it),
    // and polling starts again. A socket that is really bad fails the recv too.
    bool restart = false;
    if (status == UV_EBADF) {
      status = 0;
      restart = true;
    } else if (status < 0) {
      push_error(Error::System(-status, "poll", "event socket"));
    }
    // One buffer per thread that runs a Node environment: a notification is one message of a
    // few KiB at most; MSG_TRUNC reports a larger one instead of cutting it silently.
    thread_local std::array<uint8_t, 64 * 1024> buffer;
    for (int i = 0; status == 0 && i < kMaxReadsPerWake; ++i) {
      sockaddr_nl from{};
      socklen_t from_len = sizeof(from);
      const ssize_t got = ::recvfrom(self->fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC,
                                     reinterpret_cast<sockaddr*>(&from), &from_len);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {
          // The kernel dropped notifications: the receive buffer filled up. Reading goes on.
          push(marker("overrun"));
          continue;
        }
        // Read before any other call can change errno; a non-zero status keeps polling stopped.
        const int err = errno;
        push_error(Error::System(err, "recv", "event socket"));
        status = -err;
        break;
      }
      // Only the kernel's notifications count. Any process with CAP_NET_ADMIN over the namespace's
      // user namespace (root in a user-namespaced container, for a watch on its namespace) can
      // send a datagram to this socket's port: a forged "link up" must not reach the consumer.
      if (from_len < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0) continue;
      if (static_cast<size_t>(got) > buffer.size()) {
        // Its bytes are gone (MSG_TRUNC only told the size): to the caller it is a lost one.
        Event lost;
        lost.unreadable = "a notification of " + std::to_string(got) + " bytes, larger than the 64 KiB read";
        push(EventToJs(env, lost));
        continue;
      }
      for (const Event& e : DecodeEvents(Bytes(buffer.data(), static_cast<size_t>(got)))) push(EventToJs(env, e));
    }
    if (restart && status == 0) {
      const int r = uv_poll_start(&self->poll_, UV_READABLE, &Watcher::OnReadable);
      if (r != 0) {
        push_error(Error::System(-r, "poll", "event socket"));
      }
    }
    if (n == 0) return;
    // The callback may close this watch: nothing below touches `self`. lib/watch.ts never lets
    // the callback throw; if it did, the error becomes the process's uncaught exception, as an
    // exception thrown from any event-loop callback does.
    //
    // A raw call, not node-addon-api's MakeCallback: while a worker_thread is being stopped
    // (worker.terminate(), process.exit() inside it) the call fails with no exception value, and
    // node-addon-api building a Napi::Error from that aborts the whole process (as in
    // CallFactory, addon.cc). A real exception is still reported as the uncaught one.
    self->in_callback_ = true;
    {
      napi_value fn = self->on_events_.Value();
      napi_value argv[] = {batch};
      napi_value result = nullptr;
      if (napi_make_callback(env, *self->context_, env.Global(), fn, 1, argv, &result) != napi_ok) {
        napi_value exception = nullptr;
        napi_get_and_clear_last_exception(env, &exception);
        napi_valuetype type = napi_undefined;
        if (exception != nullptr && napi_typeof(env, exception, &type) == napi_ok && type != napi_undefined) {
          napi_fatal_exception(env, exception);
        }
      }
    }
    self->in_callback_ = false;
    // Closed from inside the callback (a for-await that broke, a failure): its references were
    // kept until the callback returned; let them go now.
    if (self->disposed_) self->ReleaseJs();
  }

  static Napi::Value EventToJs(Napi::Env env, const Event& e) {
    Napi::Object o = Napi::Object::New(env);
    if (!e.unreadable.empty()) {
      o.Set("type", "overrun");
      o.Set("unreadable", e.unreadable);
      return o;
    }
    o.Set("action", e.removed ? "del" : "new");
    if (const auto* l = std::get_if<LinkInfo>(&e.object)) {
      o.Set("type", "link");
      o.Set("link", LinkToJs(env, *l));
    } else if (const auto* a = std::get_if<AddressInfo>(&e.object)) {
      o.Set("type", "address");
      o.Set("address", AddressToJs(env, *a));
    } else if (const auto* r = std::get_if<RouteInfo>(&e.object)) {
      o.Set("type", "route");
      o.Set("route", RouteToJs(env, *r));
    } else {
      o.Set("type", "neighbor");
      o.Set("neighbor", NeighborToJs(env, std::get<NeighborInfo>(e.object)));
    }
    return o;
  }

  void ReleaseJs() {
    on_events_.Reset();
    context_.reset();
  }

  Napi::Env env_;
  UniqueFd fd_;
  Napi::FunctionReference on_events_;
  std::optional<Napi::AsyncContext> context_;
  uv_poll_t poll_{};
  bool initialized_ = false;
  bool in_callback_ = false;  // inside MakeCallback: the async context is in use
  bool disposed_ = false;
};

WatchRegistry::WatchRegistry() = default;
WatchRegistry::~WatchRegistry() { CloseAll(); }

uint32_t WatchRegistry::Reserve(Napi::Function on_events) {
  const uint32_t id = next_id_++;
  reserved_.emplace(id, Napi::Persistent(on_events));
  return id;
}

bool WatchRegistry::Start(Napi::Env env, uint32_t id, UniqueFd fd) {
  auto it = reserved_.find(id);
  if (it == reserved_.end()) return false;  // closed while its socket was being opened
  auto w = std::make_unique<Watcher>(env, std::move(fd), std::move(it->second));
  reserved_.erase(it);
  const int r = w->Start();
  if (r != 0) {
    Watcher::Dispose(std::move(w));
    throw Napi::Error::New(env, std::string("nlkit: cannot poll the event socket: ") + uv_strerror(r));
  }
  running_.emplace(id, std::move(w));
  return true;
}

bool WatchRegistry::Close(uint32_t id) {
  if (reserved_.erase(id) > 0) return true;
  auto it = running_.find(id);
  if (it == running_.end()) return false;
  std::unique_ptr<Watcher> w = std::move(it->second);
  running_.erase(it);
  Watcher::Dispose(std::move(w));
  return true;
}

uint32_t WatchRegistry::PortOf(uint32_t id) const {
  auto it = running_.find(id);
  return it == running_.end() ? 0 : it->second->Port();
}

void WatchRegistry::CloseAll() {
  reserved_.clear();
  for (auto& [id, w] : running_) Watcher::Dispose(std::move(w));
  running_.clear();
}

// watchOpen({ netns?, groups, receiveBuffer? }, onEvents) -> { id, opened: Promise<void> }. The
// socket is opened on a worker (inside the namespace); the id exists at once, so a watch closed
// before its socket is ready is simply never started.
Napi::Value WatchOpen(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "nlkit native: watchOpen needs a callback");
  const uint32_t groups = OptU32(req, "groups").value_or(0);
  std::optional<int> receive_buffer;
  if (auto b = OptU32(req, "receiveBuffer")) receive_buffer = static_cast<int>(*b);
  NetnsTarget target = addon.TargetOf(req, "netns");
  const uint32_t id = addon.watches().Reserve(info[1].As<Napi::Function>());
  NlkitAddon* self = &addon;
  Napi::Promise opened = addon.SubmitIn(info.Env(), std::move(target), [self, id, groups, receive_buffer](Namespace& ns) -> Result<Materializer> {
    auto fd = OpenEventSocket(ns, groups, receive_buffer);
    if (!fd) return std::move(fd.error().In("watch", "event socket in " + ns.label()));
    auto shared = std::make_shared<UniqueFd>(std::move(*fd));
    return Materializer([self, id, shared](Napi::Env env) -> Napi::Value {
      return Napi::Boolean::New(env, self->watches().Start(env, id, std::move(*shared)));
    });
  });
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("id", id);
  out.Set("opened", opened);
  return out;
}

// Test hook: decodes one notification datagram the way a watch does, into the events it would
// deliver. Malformed input comes back as unreadable-overrun entries, never a crash.
Napi::Value EventsDecode(NlkitAddon&, const Napi::CallbackInfo& info) {
  const std::vector<Event> events = DecodeEvents(BufferArg(info));
  Napi::Array out = Napi::Array::New(info.Env(), events.size());
  for (size_t i = 0; i < events.size(); ++i) out.Set(static_cast<uint32_t>(i), Watcher::EventToJs(info.Env(), events[i]));
  return out;
}

// Test hooks: the port id of a running watch's socket (watchPort(id)), and a datagram sent to a
// port from an ordinary socket in a namespace (netlinkSendTo({ netns?, port, bytes })): what
// another process there could send a watch.
Napi::Value WatchPort(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "nlkit native: watchPort needs an id");
  return Napi::Number::New(info.Env(), addon.watches().PortOf(info[0].As<Napi::Number>().Uint32Value()));
}

Napi::Value NetlinkSendTo(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  Napi::Object req = RequestArg(info);
  const uint32_t port = OptU32(req, "port").value_or(0);
  Napi::Value b = req.Get("bytes");
  if (!b.IsBuffer()) throw Napi::TypeError::New(info.Env(), "nlkit native: netlinkSendTo needs bytes");
  Napi::Buffer<uint8_t> buf = b.As<Napi::Buffer<uint8_t>>();
  auto bytes = std::make_shared<std::vector<uint8_t>>(buf.Data(), buf.Data() + buf.Length());
  return addon.SubmitIn(info.Env(), addon.TargetOf(req, "netns"), [port, bytes](Namespace& ns) -> Result<Materializer> {
    auto visit = EnterUnlessHome(ns);
    if (!visit) return std::move(visit.error());
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) return Error::System(errno, "socket", "netlinkSendTo");
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    to.nl_pid = port;
    if (::sendto(fd.get(), bytes->data(), bytes->size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
      return Error::System(errno, "sendto", "port " + std::to_string(port));
    }
    return Materializer([](Napi::Env env) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value WatchClose(NlkitAddon& addon, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "nlkit native: watchClose needs an id");
  return Napi::Boolean::New(info.Env(), addon.watches().Close(info[0].As<Napi::Number>().Uint32Value()));
}

}  // namespace nlkit
