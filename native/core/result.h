// Errors as values inside the native layer. Nothing below native/addon/ throws: every fallible
// step returns a Result, and only the Node-API boundary turns an Error into a rejected Promise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace nlkit {

enum class ErrorKind {
  kNetlink,   // the kernel refused a netlink request (errno from NLMSG_ERROR)
  kSystem,    // another syscall failed (open, setns, socket, mount...)
  kProtocol,  // a reply we could not make sense of (truncated, malformed, unexpected)
  kInvalid,   // input the TypeScript layer should have caught; a bug if it reaches here
};

struct Error {
  ErrorKind kind = ErrorKind::kSystem;
  int errnum = 0;             // positive errno, 0 when not applicable
  std::string operation;      // what nlkit was doing: "createLink", "setns", "open netns"
  std::string object;         // what it was done to: "link br0", "netns /run/netns/x"
  std::string extack;         // kernel's extended-ack text (NLMSGERR_ATTR_MSG), if any
  int64_t extack_offset = -1; // byte offset of the offending attribute in our request
  std::string detail;         // extra words for the message (e.g. "after 5 retries")

  static Error Netlink(int errnum, std::string op = {}, std::string obj = {}) {
    Error e;
    e.kind = ErrorKind::kNetlink;
    e.errnum = errnum;
    e.operation = std::move(op);
    e.object = std::move(obj);
    return e;
  }
  static Error System(int errnum, std::string op, std::string obj = {}) {
    Error e;
    e.kind = ErrorKind::kSystem;
    e.errnum = errnum;
    e.operation = std::move(op);
    e.object = std::move(obj);
    return e;
  }
  static Error Protocol(std::string detail) {
    Error e;
    e.kind = ErrorKind::kProtocol;
    e.detail = std::move(detail);
    return e;
  }
  static Error Invalid(std::string detail) {
    Error e;
    e.kind = ErrorKind::kInvalid;
    e.detail = std::move(detail);
    return e;
  }

  // Set by the netlink socket on its own failures (sendmsg, recvmsg, a timeout): `operation` is
  // then the system call, which the layer above moves into the detail to say what it was doing.
  bool transport = false;

  // Fills in what the layer above knows and the layer below did not.
  Error& In(std::string op, std::string obj) {
    if (transport) {
      // "addRoute route 10.0.0.0/8: EMSGSIZE: sendmsg on the netlink socket", not "sendmsg
      // netlink socket: EMSGSIZE" with no word of the call or its object.
      detail = operation + " on " + object + (detail.empty() ? "" : ": " + detail);
      operation = std::move(op);
      object = std::move(obj);
      transport = false;
      return *this;
    }
    if (operation.empty() || kind == ErrorKind::kNetlink) operation = std::move(op);
    if (object.empty()) object = std::move(obj);
    return *this;
  }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  Error& error() { return std::get<1>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace nlkit

// Propagates an error from an expression returning Result/Status.
#define NLKIT_TRY(expr)                         \
  do {                                          \
    auto&& nlkit_try_r_ = (expr);               \
    if (!nlkit_try_r_.ok()) return std::move(nlkit_try_r_.error()); \
  } while (0)
