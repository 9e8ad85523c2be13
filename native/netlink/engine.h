// The request engine: sequence numbers, several requests in one sendmsg, ACK collection, and
// dumps with NLM_F_DUMP_INTR detection and bounded retry. It is protocol-agnostic: rtnetlink and
// nftables both go through here.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netlink/message.h"
#include "netlink/socket.h"

namespace nlkit {

// What became of one request of a transaction.
struct RequestOutcome {
  AckInfo ack;  // ack.errnum == 0: the kernel accepted it
  // How many NLMSG_ERRORs (ACKs or errors) came for it: 1 normally; 2 for the command that carries
  // an nftables transaction's commit-time failure (the error, then its own ACK 0).
  uint8_t answers = 0;
  // What the request was, in words ("create map tcp4_any"), filled in only for a refused command
  // of an nftables batch (nft::CommitBatch), so the error can name the step that failed.
  std::string step;
  // Replies that carried this request's sequence number before its ACK: the echo of an
  // NLM_F_ECHO request, or the answer to a GET. Whole messages (header included).
  std::vector<std::vector<uint8_t>> replies;
};

// The first reply of `type` a request got (the answer to a GET, or an echo), as a Message that
// views into `outcome`: valid while the outcome lives.
std::optional<Message> FirstReply(const RequestOutcome& outcome, uint16_t type);
// The same, or a Protocol error "no answer to <asked>" when the kernel sent none.
Result<Message> ReplyOf(const RequestOutcome& outcome, uint16_t type, const std::string& asked);

// Sends `requests` in one sendmsg, each with its own sequence number. Those marked in `wait_for`
// get NLM_F_ACK and are waited for; the others (an nftables batch's BEGIN/END) are not, but a
// refusal of one of them ends the wait (the kernel then answers nothing else). Outcomes are in
// request order.
Result<std::vector<RequestOutcome>> SendBatch(NetlinkSocket& socket, std::vector<MessageBuilder>& requests,
                                              const std::vector<bool>& wait_for);

// The most requests Transact puts in one sendmsg. The kernel answers a whole sendmsg (a reply and
// an ACK per request) before nlkit reads, so the answers must fit the receive buffer at once:
// where SO_RCVBUFFORCE is refused (no CAP_NET_ADMIN over the initial user namespace) that is
// 2 x net.core.rmem_max, 416 KiB by default, which held 256 RTM_GETNSID requests and no more.
inline constexpr size_t kMaxRequestsPerSend = 64;

// Sends `requests`, each with NLM_F_ACK and its own sequence number, in one sendmsg (in several of
// kMaxRequestsPerSend, in order, for a longer list), and waits for every ACK. The kernel handles
// rtnetlink requests one by one, so a failure of one does not undo the others: the caller reads
// each outcome. A transport failure (timeout, malformed reply) is the returned Error, and marks
// the socket broken.
Result<std::vector<RequestOutcome>> Transact(NetlinkSocket& socket, std::vector<MessageBuilder>& requests);

// The usual case: one request; its kernel refusal becomes an Error (kNetlink, with extack).
Result<RequestOutcome> TransactOne(NetlinkSocket& socket, MessageBuilder request);

// Turns a refused outcome into an Error carrying the kernel's errno and extended-ack text.
Error RefusalError(const AckInfo& ack, std::string operation, std::string object);

// How many times a dump is tried before an interrupted one is an error (EINTR). The kernel marks
// a dump interrupted when its table changed between two of the dump's datagrams; how often that
// happens depends on the table's size and the host's churn, not on nlkit, so tries are cheap to
// allow: on a host where a dump is interrupted half the time, 20 tries fail once in a million
// (5, the limit until 2026-12-03, once in 32), and a dump that is rarely interrupted pays nothing.
inline constexpr int kDumpAttempts = 20;

// Runs a dump. `on_message` sees every data message (the buffer is only valid during the call);
// `on_restart` is called before a retry so the caller can drop what it collected, because an
// interrupted dump (the table changed meanwhile) is retried, up to `max_attempts` tries in all.
Status Dump(NetlinkSocket& socket, MessageBuilder& request,
            const std::function<Status(const Message&)>& on_message,
            const std::function<void()>& on_restart, int max_attempts = kDumpAttempts);

// How many interrupted dumps were restarted so far, process-wide: the tests' proof that the
// restart path runs (a dump must span several datagrams to be interrupted at all).
uint64_t DumpRestarts();

// A dump decoded into objects: every message of `type` goes through `decode`; those `keep`
// accepts (all, without it) are returned. An interrupted dump restarts the collection.
template <typename T>
Result<std::vector<T>> DumpAll(NetlinkSocket& socket, MessageBuilder& request, uint16_t type,
                               Result<T> (*decode)(const Message&),
                               const std::function<bool(const T&)>& keep = {}) {
  std::vector<T> out;
  Status s = Dump(
      socket, request,
      [&](const Message& m) -> Status {
        if (m.header.nlmsg_type != type) return OkStatus();
        auto item = decode(m);
        if (!item) return std::move(item.error());
        if (!keep || keep(*item)) out.push_back(std::move(*item));
        return OkStatus();
      },
      [&] { out.clear(); });
  if (!s.ok()) return std::move(s.error());
  return out;
}

}  // namespace nlkit
