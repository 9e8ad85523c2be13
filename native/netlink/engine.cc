#include "netlink/engine.h"

#include <errno.h>

#include <algorithm>
#include <atomic>

#include <span>
#include <string>

#include "netlink/fault_injection.h"

namespace nlkit {

std::optional<Message> FirstReply(const RequestOutcome& outcome, uint16_t type) {
  for (const auto& reply : outcome.replies) {
    MessageSplitter split{Bytes(reply)};
    auto m = split.Next();
    if (m && !split.Next() && split.Done().ok() && m->header.nlmsg_type == type) return m;
  }
  return std::nullopt;
}

Result<Message> ReplyOf(const RequestOutcome& outcome, uint16_t type, const std::string& asked) {
  auto m = FirstReply(outcome, type);
  if (!m) return Error::Protocol("no answer to " + asked);
  return *m;
}

Error RefusalError(const AckInfo& ack, std::string operation, std::string object) {
  Error e = Error::Netlink(ack.errnum, std::move(operation), std::move(object));
  e.extack = ack.extack;
  e.extack_offset = ack.offset;
  return e;
}

namespace {
// Receives one datagram and walks its messages through `on_message` (the bytes are valid during
// the call only). A malformed datagram breaks the socket; an error from `on_message` ends the walk.
template <typename OnMessage>
Status ReceiveEach(NetlinkSocket& socket, OnMessage on_message) {
  auto datagram = socket.Receive();
  if (!datagram) return std::move(datagram.error());
  MessageSplitter split(*datagram);
  while (auto m = split.Next()) NLKIT_TRY(on_message(*m));
  Status s = split.Done();
  if (!s.ok()) socket.MarkBroken();
  return s;
}

// SendBatch with `wait_for` optional: null waits for every request (Transact). Nothing here
// allocates but the outcomes and the replies they keep: it runs on every call.
Result<std::vector<RequestOutcome>> Exchange(NetlinkSocket& socket, std::span<MessageBuilder> requests,
                                             const std::vector<bool>* wait_for) {
  const auto waits = [&](size_t i) { return wait_for == nullptr || (*wait_for)[i]; };
  std::vector<RequestOutcome> outcomes(requests.size());
  if (requests.empty()) return outcomes;
  if (int injected = 0; TakeFault(&injected)) {
    for (size_t i = 0; i < requests.size(); ++i) {
      if (waits(i)) outcomes[i].ack = AckInfo{injected, "injected fault", -1};
    }
    return outcomes;
  }

  const uint32_t first_seq = socket.NextSeq();
  size_t pending = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (i > 0) socket.NextSeq();
    requests[i].SetSeq(first_seq + static_cast<uint32_t>(i));
    requests[i].AddFlags(NLM_F_REQUEST);
    if (waits(i)) {
      requests[i].AddFlags(NLM_F_ACK);
      ++pending;
    }
  }
  NLKIT_TRY(socket.Send(requests));

  while (pending > 0) {
    NLKIT_TRY(ReceiveEach(socket, [&](const Message& m) -> Status {
      // Unsigned: a stale reply (a lower sequence number) wraps to a huge index and is skipped,
      // and so does the batch whose numbers run past 2^32 back to 0, which comparing the numbers
      // themselves would get wrong.
      const uint32_t index = m.header.nlmsg_seq - first_seq;
      if (index >= requests.size()) return OkStatus();
      RequestOutcome& out = outcomes[index];
      if (m.header.nlmsg_type == NLMSG_ERROR) {
        auto ack = DecodeError(m);
        if (!ack) {
          socket.MarkBroken();
          return std::move(ack.error());
        }
        // A request can get two: when an nftables transaction fails in its commit, after every
        // command was prepared, the kernel sends the error with the first command's sequence
        // number and then the ACK 0 of each command, that one included. The first answer counts
        // one request done, and an error is never overwritten by a later ACK: otherwise the
        // rolled-back batch reads as accepted, and the last command's ACK stays in the socket.
        const bool first = out.answers == 0;
        if (out.answers < 2) ++out.answers;
        if (first || (out.ack.errnum == 0 && ack->errnum != 0)) out.ack = std::move(*ack);
        if (!waits(index)) {
          if (out.ack.errnum != 0) pending = 0;  // the batch as a whole was refused: nothing more will come
        } else if (first) {
          --pending;
        }
      } else if (m.header.nlmsg_type != NLMSG_NOOP && m.header.nlmsg_type != NLMSG_DONE) {
        out.replies.emplace_back(m.whole.begin(), m.whole.end());
      }
      return OkStatus();
    }));
  }
  return outcomes;
}
}  // namespace

Result<std::vector<RequestOutcome>> SendBatch(NetlinkSocket& socket, std::vector<MessageBuilder>& requests,
                                              const std::vector<bool>& wait_for) {
  return Exchange(socket, requests, &wait_for);
}

Result<std::vector<RequestOutcome>> Transact(NetlinkSocket& socket, std::vector<MessageBuilder>& requests) {
  if (requests.size() <= kMaxRequestsPerSend) return Exchange(socket, requests, nullptr);
  std::vector<RequestOutcome> all;
  all.reserve(requests.size());
  for (size_t at = 0; at < requests.size(); at += kMaxRequestsPerSend) {
    const std::span<MessageBuilder> chunk(requests.data() + at, std::min(kMaxRequestsPerSend, requests.size() - at));
    auto part = Exchange(socket, chunk, nullptr);
    if (!part) return std::move(part.error());
    for (RequestOutcome& o : *part) all.push_back(std::move(o));
  }
  return all;
}

Result<RequestOutcome> TransactOne(NetlinkSocket& socket, MessageBuilder request) {
  auto outcomes = Exchange(socket, std::span<MessageBuilder>(&request, 1), nullptr);
  if (!outcomes) return std::move(outcomes.error());
  RequestOutcome& out = (*outcomes)[0];
  if (out.ack.errnum != 0) return RefusalError(out.ack, {}, {});
  return std::move(out);
}

namespace {
std::atomic<uint64_t> g_dump_restarts{0};
}  // namespace

uint64_t DumpRestarts() { return g_dump_restarts.load(std::memory_order_relaxed); }

Status Dump(NetlinkSocket& socket, MessageBuilder& request,
            const std::function<Status(const Message&)>& on_message,
            const std::function<void()>& on_restart, int max_attempts) {
  request.AddFlags(NLM_F_REQUEST | NLM_F_DUMP);
  if (int injected = 0; TakeFault(&injected)) return RefusalError(AckInfo{injected, "injected fault", -1}, {}, {});
  for (int attempt = 1;; ++attempt) {
    const uint32_t seq = socket.NextSeq();
    request.SetSeq(seq);
    NLKIT_TRY(socket.Send(std::span<const MessageBuilder>(&request, 1)));

    bool interrupted = false;
    bool done = false;
    Status failure = OkStatus();
    while (!done) {
      NLKIT_TRY(ReceiveEach(socket, [&](const Message& m) -> Status {
        if (m.header.nlmsg_seq != seq) return OkStatus();
        if (m.header.nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m.header.nlmsg_type == NLMSG_DONE) {
          auto info = DecodeDone(m);
          if (!info) {
            failure = std::move(info.error());  // the dump's end is there, its outcome unreadable
          } else if (info->errnum != 0) {
            failure = RefusalError(*info, {}, {});
          }
          done = true;
        } else if (m.header.nlmsg_type == NLMSG_ERROR) {
          // A dump refused outright ends with this instead of NLMSG_DONE.
          auto info = DecodeError(m);
          if (!info) {
            socket.MarkBroken();
            return std::move(info.error());
          }
          if (info->errnum != 0) failure = RefusalError(*info, {}, {});
          done = true;
        } else if (m.header.nlmsg_type != NLMSG_NOOP && failure.ok()) {
          // Keep draining to NLMSG_DONE even after a decode failure, so the socket stays usable.
          Status s = on_message(m);
          if (!s.ok()) failure = std::move(s);
        }
        return OkStatus();
      }));
    }
    if (!failure.ok()) return failure;
    if (TakeDumpInterruptFault()) interrupted = true;
    if (!interrupted) return OkStatus();
    if (attempt >= max_attempts) {
      Error e = Error::Netlink(EINTR);
      e.detail = "dump interrupted by concurrent changes " + std::to_string(attempt) + " times";
      return e;
    }
    g_dump_restarts.fetch_add(1, std::memory_order_relaxed);
    on_restart();
  }
}

}  // namespace nlkit
