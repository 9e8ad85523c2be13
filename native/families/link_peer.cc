#include "families/link_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "netlink/engine.h"

namespace nlkit {

namespace {

// RTM_GETNSID for the namespace behind `fd`, as the socket's namespace numbers it.
MessageBuilder EncodeGetNsid(int fd) {
  MessageBuilder m(RTM_GETNSID, NLM_F_REQUEST);
  rtgenmsg h{};
  h.rtgen_family = AF_UNSPEC;
  m.PutHeader(h);
  m.PutU32(NETNSA_FD, static_cast<uint32_t>(fd));
  return m;
}

// The namespace id an RTM_GETNSID answered with.
std::optional<int32_t> NsidOf(const RequestOutcome& outcome) {
  auto m = FirstReply(outcome, RTM_NEWNSID);
  if (!m || m->payload.size() < NLMSG_ALIGN(sizeof(rtgenmsg))) return std::nullopt;
  AttrTable<NETNSA_MAX + 1> t;
  if (!ParseAttrs(m->payload.subspan(NLMSG_ALIGN(sizeof(rtgenmsg))), t)) return std::nullopt;
  return AttrS32(t[NETNSA_NSID]);
}

// RTM_GETLINK by index in the namespace the asking socket knows as `nsid`.
MessageBuilder EncodeGetLinkIn(int32_t index, int32_t nsid) {
  MessageBuilder m = EncodeGetLink(LinkRefArg{index, {}});
  m.PutS32(IFLA_TARGET_NETNSID, nsid);
  return m;
}

}  // namespace

Result<PeerInfo> FindPeer(Namespace& ns, const LinkRefArg& ref, Namespace& initial,
                          const std::vector<std::string>& candidates) {
  auto self = GetLink(ns, ref);
  if (!self) return std::move(self.error());
  if (self->kind != "veth" || !self->link || *self->link == 0) {
    Error e = Error::Netlink(EINVAL, "findPeer", ref.Describe());
    e.detail = "not a veth with a peer (kind '" + self->kind + "')";
    return e;
  }
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  PeerInfo out;
  const int32_t peer_index = static_cast<int32_t>(*self->link);
  if (!self->link_netnsid || *self->link_netnsid < 0) {
    out.same_netns = true;
    out.initial_netns = ns.key() == initial.key();
    auto peer = GetLink(ns, LinkRefArg{peer_index, {}});
    if (!peer) return std::move(peer.error().In("findPeer", ref.Describe()));
    out.link = std::move(*peer);
    return out;
  }
  const int32_t nsid = *self->link_netnsid;
  out.netns_id = nsid;

  // First name the peer's namespace: RTM_GETNSID for the initial namespace and for each candidate
  // file; the one whose id matches is it. The candidates go in chunks, opened just before and
  // closed after, stopping at the first match: a launcher may have thousands of named namespaces,
  // and asking all at once would hold as many fds open. The initial namespace is asked in the
  // first chunk and, when it matches, is the answer: the rest are not opened (a container asking
  // after its host end costs one chunk) and no name is reported for it, even if a file in the
  // directory refers to it too. A chunk is what Transact sends in one sendmsg.
  constexpr size_t kChunk = kMaxRequestsPerSend;
  struct Candidate {
    const std::string* path;
    UniqueFd fd;
  };
  std::vector<Candidate> opened;
  std::vector<MessageBuilder> ids;
  for (size_t next = 0, round = 0; !out.netns_path && !out.initial_netns && (round == 0 || next < candidates.size()); ++round) {
    opened.clear();
    ids.clear();
    if (round == 0) ids.push_back(EncodeGetNsid(initial.fd()));
    for (; next < candidates.size() && opened.size() < kChunk; ++next) {
      // O_NONBLOCK: anything may sit in the netns directory, and a FIFO there without a writer
      // would block a plain open for good (Namespace::Open does the same).
      UniqueFd fd(::open(candidates[next].c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
      if (fd.valid()) opened.push_back(Candidate{&candidates[next], std::move(fd)});
    }
    const size_t first_candidate = ids.size();  // 1 in the first chunk, after the initial namespace
    for (const Candidate& c : opened) ids.push_back(EncodeGetNsid(c.fd.get()));
    if (ids.empty()) continue;  // none of this chunk could be opened
    auto outcomes = Transact(**sock, ids);
    if (!outcomes) return std::move(outcomes.error().In("findPeer", ref.Describe()));
    for (size_t i = 0; i < ids.size(); ++i) {
      const RequestOutcome& o = (*outcomes)[i];
      if (o.ack.errnum != 0 || NsidOf(o) != nsid) continue;
      if (i < first_candidate) {
        out.initial_netns = true;
      } else if (!out.netns_path) {
        out.netns_path = *opened[i - first_candidate].path;
      }
    }
  }

  if (out.initial_netns) out.netns_path.reset();  // see above: the initial namespace goes unnamed

  // Then read the peer inside its own namespace, so its fields (linkNetnsId...) are numbered as
  // that namespace numbers them, as every Link is.
  const LinkRefArg peer_ref{peer_index, {}};
  if (out.initial_netns || out.netns_path) {
    Result<LinkInfo> peer = out.initial_netns ? GetLink(initial, peer_ref) : [&]() -> Result<LinkInfo> {
      auto there = Namespace::Open(*out.netns_path, *out.netns_path);
      if (!there) return std::move(there.error());
      return GetLink(**there, peer_ref);
    }();
    if (!peer) return std::move(peer.error().In("findPeer", "peer #" + std::to_string(peer_index) + " of " + ref.Describe()));
    out.link = std::move(*peer);
    return out;
  }
  // A namespace nlkit cannot open by name (anonymous, or outside the netns directory): read the
  // peer from here through IFLA_TARGET_NETNSID. Its own ids would then be numbered as this
  // namespace numbers them, so they are left out rather than reported wrong.
  auto read = TransactOne(**sock, EncodeGetLinkIn(peer_index, nsid));
  if (!read) return std::move(read.error().In("findPeer", "peer #" + std::to_string(peer_index) + " of " + ref.Describe()));
  auto peer = LinkReply(*read, "the peer");
  if (!peer) return std::move(peer.error());
  out.link = std::move(*peer);
  // Its IFLA_LINK (the end we started from) is numbered in the namespace that netnsid names, which
  // this one does not know either: left out with it, or it would read as an index of the peer's own.
  out.link.link_netnsid.reset();
  out.link.link.reset();
  return out;
}

}  // namespace nlkit
