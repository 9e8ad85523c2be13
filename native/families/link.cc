#include "families/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstring>

#include "core/random.h"
#include "netlink/engine.h"

namespace nlkit {

std::string MacToString(const uint8_t* bytes, size_t len) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 3);
  for (size_t i = 0; i < len; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

std::string LinkRefArg::Describe() const {
  return index > 0 ? "link #" + std::to_string(index) : "link " + name;
}

bool IpAddr::IsMulticast() const {
  if (family == AF_INET) return (bytes[0] & 0xf0) == 0xe0;
  return bytes[0] == 0xff;
}

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  ::inet_ntop(family, bytes.data(), buf, sizeof(buf));
  return buf;
}

std::optional<IpAddr> IpAddr::Parse(const std::string& text) {
  IpAddr a;
  if (::inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::optional<IpAddr> IpAddr::FromBytes(int family, const std::optional<Bytes>& b) {
  if (!b) return std::nullopt;
  if (family == 0) family = b->size() == 4 ? AF_INET : AF_INET6;
  IpAddr a;
  a.family = family;
  if (b->size() != a.size()) return std::nullopt;
  std::memcpy(a.bytes.data(), b->data(), b->size());
  return a;
}

Mac RandomMac() {
  Mac mac{};
  FillRandom(mac.data(), mac.size());
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
  return mac;
}

namespace {

ifinfomsg LinkHeader(int32_t index, std::optional<bool> up) {
  ifinfomsg h{};
  h.ifi_family = AF_UNSPEC;
  h.ifi_index = index;
  if (up) {
    h.ifi_change = IFF_UP;
    h.ifi_flags = *up ? IFF_UP : 0;
  }
  return h;
}

void PutCommon(MessageBuilder& m, const std::optional<uint32_t>& mtu, const std::optional<Mac>& mac,
               const std::optional<uint32_t>& txqlen) {
  if (mtu) m.PutU32(IFLA_MTU, *mtu);
  if (mac) m.PutAttr(IFLA_ADDRESS, mac->data(), mac->size());
  if (txqlen) m.PutU32(IFLA_TXQLEN, *txqlen);
}

void PutAddr(MessageBuilder& m, uint16_t v4_type, uint16_t v6_type, const IpAddr& a) {
  PutIp(m, a.family == AF_INET ? v4_type : v6_type, a);
}

void PutVethPeer(MessageBuilder& m, const VethPeerSpec& peer) {
  const size_t nest = m.BeginNest(VETH_INFO_PEER);
  // The peer's own ifinfomsg. No IFF_UP here: the kernel refuses it (ENOTCONN), the peer is set
  // up afterwards from its own namespace.
  m.PutRaw(LinkHeader(0, std::nullopt));
  m.PutString(IFLA_IFNAME, peer.name);
  PutCommon(m, peer.mtu, peer.mac, peer.txqlen);
  if (peer.netns) m.PutU32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer.netns->fd()));
  m.EndNest(nest);
}

void PutVxlan(MessageBuilder& m, const VxlanSpec& v, uint32_t device) {
  m.PutU32(IFLA_VXLAN_ID, v.vni);
  if (v.group) PutAddr(m, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *v.group);
  if (v.remote) PutAddr(m, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *v.remote);  // as ip(8) does
  if (v.local) PutAddr(m, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, *v.local);
  if (device) m.PutU32(IFLA_VXLAN_LINK, device);
  if (v.ttl) m.PutU8(IFLA_VXLAN_TTL, *v.ttl);
  if (v.learning) m.PutU8(IFLA_VXLAN_LEARNING, *v.learning ? 1 : 0);
  if (v.port) m.PutBe16(IFLA_VXLAN_PORT, *v.port);
}

void PutKindData(MessageBuilder& m, const LinkSpec& s, const ResolvedRefs& refs) {
  const size_t data = m.BeginNest(IFLA_INFO_DATA);
  if (s.kind == "veth" && s.peer) {
    PutVethPeer(m, *s.peer);
  } else if (s.kind == "vlan") {
    m.PutU16(IFLA_VLAN_ID, s.vlan_id);
    if (s.vlan_protocol) m.PutBe16(IFLA_VLAN_PROTOCOL, s.vlan_protocol);
  } else if (s.kind == "macvlan" && s.macvlan_mode) {
    m.PutU32(IFLA_MACVLAN_MODE, *s.macvlan_mode);
  } else if (s.kind == "ipvlan") {
    if (s.ipvlan_mode) m.PutU16(IFLA_IPVLAN_MODE, *s.ipvlan_mode);
    if (s.ipvlan_flags) m.PutU16(IFLA_IPVLAN_FLAGS, *s.ipvlan_flags);
  } else if (s.kind == "vxlan" && s.vxlan) {
    PutVxlan(m, *s.vxlan, refs.vxlan_device);
  } else if (s.kind == "bridge") {
    if (s.bridge_forward_delay) m.PutU32(IFLA_BR_FORWARD_DELAY, *s.bridge_forward_delay);
    if (s.bridge_ageing_time) m.PutU32(IFLA_BR_AGEING_TIME, *s.bridge_ageing_time);
    if (s.bridge_stp) m.PutU32(IFLA_BR_STP_STATE, *s.bridge_stp ? 1 : 0);
    if (s.bridge_vlan_filtering) m.PutU8(IFLA_BR_VLAN_FILTERING, *s.bridge_vlan_filtering ? 1 : 0);
  }
  m.EndNest(data);
}

void PutRef(MessageBuilder& m, const LinkRefArg& ref) {
  if (ref.index <= 0) m.PutString(IFLA_IFNAME, ref.name);
}

}  // namespace

MessageBuilder EncodeCreateLink(const LinkSpec& s, const ResolvedRefs& refs) {
  MessageBuilder m(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  m.PutHeader(LinkHeader(0, s.up));
  m.PutString(IFLA_IFNAME, s.name);
  PutCommon(m, s.mtu, s.mac, s.txqlen);
  if (refs.master) m.PutU32(IFLA_MASTER, refs.master);
  if (refs.parent) m.PutU32(IFLA_LINK, refs.parent);
  const size_t info = m.BeginNest(IFLA_LINKINFO);
  m.PutString(IFLA_INFO_KIND, s.kind);
  PutKindData(m, s, refs);
  m.EndNest(info);
  return m;
}

namespace {
bool HasPortFlags(const LinkChangesSpec& c) { return c.hairpin || c.isolated || c.learning; }
}  // namespace

MessageBuilder EncodeSetLink(const LinkRefArg& target, const LinkChangesSpec& c, uint32_t master_index) {
  MessageBuilder m(RTM_NEWLINK, NLM_F_REQUEST);
  m.PutHeader(LinkHeader(target.index > 0 ? target.index : 0, c.up));
  // By name only when not renaming: a rename's IFLA_IFNAME is the new name (the caller resolves
  // the index first).
  if (target.index <= 0) m.PutString(IFLA_IFNAME, target.name);
  if (c.move_to) m.PutU32(IFLA_NET_NS_FD, static_cast<uint32_t>(c.move_to->fd()));
  if (c.name) m.PutString(IFLA_IFNAME, *c.name);
  PutCommon(m, c.mtu, c.mac, c.txqlen);
  // Without the NUL: the kernel counts the attribute's whole length against its 255-byte limit
  // (ip sends none either), and an empty alias is then a zero-length attribute, which clears it.
  if (c.alias) m.PutAttr(IFLA_IFALIAS, c.alias->data(), c.alias->size());
  if (c.set_master) m.PutU32(IFLA_MASTER, master_index);
  return m;
}

// Bridge-port flags go in a message of their own: the kernel applies IFLA_INFO_SLAVE_DATA before
// the rest of a message (IFLA_MASTER included, so a link enslaved in the same message would not
// yet be a port), and keeps it when the rest is then refused.
MessageBuilder EncodePortFlags(const LinkRefArg& ref, const LinkChangesSpec& c) {
  MessageBuilder m(RTM_NEWLINK, NLM_F_REQUEST);
  m.PutHeader(LinkHeader(ref.index > 0 ? ref.index : 0, std::nullopt));
  PutRef(m, ref);
  const size_t info = m.BeginNest(IFLA_LINKINFO);
  m.PutString(IFLA_INFO_SLAVE_KIND, "bridge");
  const size_t data = m.BeginNest(IFLA_INFO_SLAVE_DATA);
  if (c.hairpin) m.PutU8(IFLA_BRPORT_MODE, *c.hairpin ? 1 : 0);
  if (c.isolated) m.PutU8(IFLA_BRPORT_ISOLATED, *c.isolated ? 1 : 0);
  if (c.learning) m.PutU8(IFLA_BRPORT_LEARNING, *c.learning ? 1 : 0);
  m.EndNest(data);
  m.EndNest(info);
  return m;
}

MessageBuilder EncodeGetLink(const LinkRefArg& ref) {
  MessageBuilder m(RTM_GETLINK, NLM_F_REQUEST);
  m.PutHeader(LinkHeader(ref.index > 0 ? ref.index : 0, std::nullopt));
  PutRef(m, ref);
  m.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return m;
}

MessageBuilder EncodeDeleteLink(const LinkRefArg& ref) {
  MessageBuilder m(RTM_DELLINK, NLM_F_REQUEST);
  m.PutHeader(LinkHeader(ref.index > 0 ? ref.index : 0, std::nullopt));
  PutRef(m, ref);
  return m;
}

MessageBuilder EncodeListLinks(const std::optional<std::string>& kind, uint32_t master_index) {
  MessageBuilder m(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  m.PutHeader(LinkHeader(0, std::nullopt));
  m.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  if (master_index) m.PutU32(IFLA_MASTER, master_index);
  if (kind) {
    const size_t info = m.BeginNest(IFLA_LINKINFO);
    m.PutString(IFLA_INFO_KIND, *kind);
    m.EndNest(info);
  }
  return m;
}

// --- operations ---------------------------------------------------------------------------------

// Resolves the named links among `refs` to ifindexes: one GET per distinct name (a route's
// thousand nexthops naming one device ask once), in one round trip as Transact sends them.
// Entries given by index are passed through.
Result<std::vector<uint32_t>> ResolveIndexes(NetlinkSocket& sock, const std::vector<const LinkRefArg*>& refs) {
  std::vector<uint32_t> out(refs.size(), 0);
  std::vector<size_t> firsts;  // the first slot of each distinct name
  std::vector<size_t> first_of(refs.size(), SIZE_MAX);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (refs[i] == nullptr) continue;
    if (refs[i]->index > 0) {
      out[i] = static_cast<uint32_t>(refs[i]->index);
      continue;
    }
    for (size_t f : firsts) {
      if (refs[f]->name == refs[i]->name) first_of[i] = f;
    }
    if (first_of[i] == SIZE_MAX) {
      first_of[i] = i;
      firsts.push_back(i);
    }
  }
  if (firsts.empty()) return out;
  std::vector<MessageBuilder> gets;
  for (size_t slot : firsts) gets.push_back(EncodeGetLink(*refs[slot]));
  auto outcomes = Transact(sock, gets);
  if (!outcomes) return std::move(outcomes.error());
  for (size_t k = 0; k < firsts.size(); ++k) {
    const RequestOutcome& o = (*outcomes)[k];
    const LinkRefArg& ref = *refs[firsts[k]];
    if (o.ack.errnum != 0) return RefusalError(o.ack, "resolveLink", ref.Describe());
    auto m = ReplyOf(o, RTM_NEWLINK, "RTM_GETLINK for " + ref.Describe());
    if (!m) return std::move(m.error());
    auto h = ReadStruct<ifinfomsg>(m->payload);
    if (!h) return Error::Protocol("truncated RTM_NEWLINK");
    out[firsts[k]] = static_cast<uint32_t>(h->ifi_index);
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    if (first_of[i] != SIZE_MAX && first_of[i] != i) out[i] = out[first_of[i]];
  }
  return out;
}

namespace {

std::string CreateObject(const LinkSpec& s) { return s.kind + " " + s.name; }

Result<LinkInfo> GetLinkOn(NetlinkSocket& sock, const LinkRefArg& ref) {
  auto out = TransactOne(sock, EncodeGetLink(ref));
  if (!out) return std::move(out.error().In("getLink", ref.Describe()));
  return LinkReply(*out, ref.Describe());
}

}  // namespace

Result<uint32_t> ResolveOptional(NetlinkSocket& sock, const std::optional<LinkRefArg>& ref) {
  if (!ref) return 0u;
  auto idx = ResolveIndexes(sock, {&*ref});
  if (!idx) return std::move(idx.error());
  return (*idx)[0];
}

Result<LinkInfo> CreateLink(Namespace& ns, LinkSpec spec) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());

  const LinkRefArg* vxlan_device = spec.vxlan && spec.vxlan->device ? &*spec.vxlan->device : nullptr;
  auto idx = ResolveIndexes(**sock, {spec.master ? &*spec.master : nullptr,
                                    spec.parent ? &*spec.parent : nullptr, vxlan_device});
  if (!idx) return std::move(idx.error());
  const ResolvedRefs refs{(*idx)[0], (*idx)[1], (*idx)[2]};

  // What the kernel does not take from a create, or takes differently, is a change of its own
  // once the link exists:
  // - IFLA_IFALIAS is ignored on creation.
  // - A bridge's MTU given on creation is not marked as chosen (BROPT_MTU_SET_BY_USER is set only
  //   by a change through ndo_change_mtu), so the first port with a smaller MTU lowers the bridge
  //   to its own: ensureBridge({ mtu: 9000 }) and then a veth at 1500 would leave a 1500 bridge.
  //   Changed after creation, the MTU stays. The bridge is created at an MTU other than the one
  //   asked for (a change to the same value is no change), both at least IPv6's minimum.
  LinkChangesSpec later;
  later.alias = spec.alias;
  if (spec.kind == "bridge" && spec.mtu) {
    later.mtu = spec.mtu;
    spec.mtu = *later.mtu != 1280 ? 1280u : 1500u;
  }

  // The create and a GET of the new link go in one sendmsg: one round trip, and the GET sees the
  // final state. (An NLM_F_ECHO reply would not: the kernel sends it before applying IFLA_MASTER.)
  // The GET only reads, so it is harmless when the create fails.
  std::vector<MessageBuilder> batch;
  batch.push_back(EncodeCreateLink(spec, refs));
  batch.push_back(EncodeGetLink(LinkRefArg{0, spec.name}));
  auto outcomes = Transact(**sock, batch);
  if (!outcomes) return std::move(outcomes.error());
  const RequestOutcome& created = (*outcomes)[0];
  if (created.ack.errnum != 0) return RefusalError(created.ack, "createLink", CreateObject(spec));
  const RequestOutcome& read = (*outcomes)[1];
  if (read.ack.errnum != 0) return RefusalError(read.ack, "getLink", "link " + spec.name);
  auto info = LinkReply(read, "link " + spec.name);
  if (!info || (!later.alias && !later.mtu)) return info;

  // The later change goes only after the create succeeded, and by the new link's index: sent in
  // the first batch by name, it would have changed another link of that name whenever the create
  // failed.
  const LinkRefArg created_ref{info->index, {}};
  std::vector<MessageBuilder> second;
  second.push_back(EncodeSetLink(created_ref, later, 0));
  second.push_back(EncodeGetLink(created_ref));
  auto after = Transact(**sock, second);
  const std::string what = std::string(later.mtu ? "mtu" : "") + (later.mtu && later.alias ? " and " : "") +
                           (later.alias ? "alias" : "") + " of link " + spec.name;
  Status failed = !after                          ? Status(std::move(after.error()))
                  : (*after)[0].ack.errnum != 0 ? Status(RefusalError((*after)[0].ack, "setLink", what))
                                                : OkStatus();
  if (failed.ok()) {
    auto reply = ReplyOf((*after)[1], RTM_NEWLINK, "RTM_GETLINK for link " + spec.name);
    if (reply) return DecodeLink(*reply);
    failed = std::move(reply.error());
  }
  // Nothing half-made: the link goes again when its later change could not be made.
  (void)TransactOne(**sock, EncodeDeleteLink(created_ref));
  return std::move(failed.error());
}

Result<LinkInfo> GetLink(Namespace& ns, const LinkRefArg& ref) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  return GetLinkOn(**sock, ref);
}

Result<std::vector<LinkInfo>> ListLinks(Namespace& ns, const std::optional<std::string>& kind,
                                        const std::optional<LinkRefArg>& master) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto master_index = ResolveOptional(**sock, master);
  if (!master_index) return std::move(master_index.error());
  MessageBuilder req = EncodeListLinks(kind, *master_index);
  Result<LinkInfo> (*decode)(const Message&) = DecodeLink;
  // The kernel filters by kind only among the kinds it has loaded; any other (a typo, a module
  // not loaded) it ignores, and dumps every link. So the kind is checked here as well.
  const auto of_kind = [&kind](const LinkInfo& l) { return !kind || l.kind == *kind; };
  auto links = DumpAll<LinkInfo>(**sock, req, RTM_NEWLINK, decode, of_kind);
  if (!links) return std::move(links.error().In("listLinks", "links"));
  return links;
}

Status DeleteLink(Namespace& ns, const LinkRefArg& ref) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());
  auto out = TransactOne(**sock, EncodeDeleteLink(ref));
  if (!out) return std::move(out.error().In("deleteLink", ref.Describe()));
  return OkStatus();
}

namespace {

// What undoes a refused change: the kernel applies a change's attributes one after another (a
// move first, then MAC, MTU, the name, the alias, master, up/down) and keeps those applied before
// the one it refuses. Each field that `now` has otherwise than `before` goes back, and only those:
// resending a bridge's MAC or MTU unchanged would pin it (a bridge follows its ports' only until
// one is set). `moved`: the link came back from a move, which took it down and off its master.
LinkChangesSpec UndoOf(const LinkChangesSpec& c, const LinkInfo& before, const LinkInfo& now, bool moved) {
  LinkChangesSpec u;
  const bool was_up = (before.flags & IFF_UP) != 0;
  if ((c.up || moved) && was_up != ((now.flags & IFF_UP) != 0)) u.up = was_up;
  if (c.mtu && now.mtu != before.mtu) u.mtu = before.mtu;
  if (c.mac && before.address && before.address->size() == 6 && now.address != before.address) {
    Mac mac{};
    std::copy(before.address->begin(), before.address->end(), mac.begin());
    u.mac = mac;
  }
  if (now.name != before.name) u.name = before.name;
  if (c.alias && now.alias != before.alias) u.alias = before.alias.value_or("");
  if (c.txqlen && before.txqlen && now.txqlen != before.txqlen) u.txqlen = before.txqlen;
  if ((c.set_master || moved) && (moved || now.master != before.master)) {
    u.set_master = before.master.has_value() || !moved;
    if (before.master) u.master = LinkRefArg{static_cast<int32_t>(*before.master), {}};
  }
  return u;
}

// The change that makes `now` (the link at `index`) what `before` was again, as UndoOf says.
MessageBuilder EncodeUndo(int32_t index, const LinkChangesSpec& c, const LinkInfo& before, const LinkInfo& now, bool moved) {
  const LinkChangesSpec undo = UndoOf(c, before, now, moved);
  return EncodeSetLink(LinkRefArg{index, {}}, undo, undo.master ? static_cast<uint32_t>(undo.master->index) : 0);
}

// Whether `l`, found where a refused move may have put the link, is that link: same kind, and
// the MAC it had (or the one asked for, applied before the refusal), and for a veth the same peer.
bool SameLinkMoved(const LinkInfo& l, const LinkInfo& before, const LinkChangesSpec& c) {
  if (l.kind != before.kind) return false;
  const bool same_mac = l.address == before.address || (c.mac && l.address && std::equal(l.address->begin(), l.address->end(), c.mac->begin(), c.mac->end()));
  if (!same_mac) return false;
  return !before.link || l.link == before.link;
}

// Puts a link whose change `c` the kernel refused back as `before` had it, in `home`. If the
// refused change carried a move that the kernel made before refusing the rest, the link is looked
// for where it went, under the new name (a rename the move made, the old name being taken there,
// or one made before a later refusal) or its old one, and taken back only if it is the same link
// (SameLinkMoved): the target may have its own link of either name. Its addresses and routes are
// gone with the move, as they would be had it succeeded. Best effort: returns what the caller
// should add to the refusal's message.
std::string UndoRefusedChange(NetlinkSocket& sock, Namespace& home, const LinkChangesSpec& c, const LinkInfo& before) {
  auto here = GetLinkOn(sock, LinkRefArg{before.index, {}});
  if (here) {
    auto fixed = TransactOne(sock, EncodeUndo(before.index, c, before, *here, false));
    return fixed ? "what the kernel had applied before refusing was undone" : "what the kernel had applied before refusing could not be undone";
  }
  if (!c.move_to) return "";
  auto there = c.move_to->Acquire(NETLINK_ROUTE);
  if (!there) return "the link may have moved before the refusal; it could not be looked for";
  std::optional<LinkInfo> moved;
  for (const std::string& name : {c.name.value_or(before.name), before.name}) {
    auto found = GetLinkOn(**there, LinkRefArg{0, name});
    if (found && SameLinkMoved(*found, before, c)) {
      moved = std::move(*found);
      break;
    }
  }
  if (!moved) return "the link left its namespace before the refusal and was not found where it went";
  MessageBuilder back = EncodeUndo(moved->index, c, before, *moved, true);
  back.PutU32(IFLA_NET_NS_FD, static_cast<uint32_t>(home.fd()));
  auto returned = TransactOne(**there, back);
  return returned ? "the kernel had moved the link before refusing: it was moved back (its addresses and routes went with the move)"
                  : "the kernel moved the link before refusing, and it could not be moved back";
}

// SetLink's change itself, once names are resolved (and bridge-port flags without a new master
// set). One sendmsg: [a read of the link as it was] + the change + [read back, unless the link
// left this namespace].
// Bridge-port flags with a new master go in a second sendmsg, only once the change is
// acknowledged: the kernel runs every message of a sendmsg whatever the ones before it answered,
// so flags sent beside a rename that failed (EEXIST) would land on the other link that has the
// name asked for, and beside any failed change they would be applied by a call that rejects. They
// name the link by index whenever a rename is asked for (need_index resolved it), by its
// reference otherwise.
Result<LinkInfo> ApplyLinkChanges(NetlinkSocket& sock, Namespace& home, const LinkRefArg& ref, const LinkRefArg& target,
                                  const LinkChangesSpec& c, uint32_t master_index) {
  // After the change the link answers to its new name, or to what named it before.
  const LinkRefArg after = c.name ? LinkRefArg{0, *c.name} : target;
  enum Step { kReadBefore, kChange, kPortFlags, kReadBack };
  const bool moving = c.move_to != nullptr;
  const bool port_flags = c.set_master && HasPortFlags(c);
  std::vector<std::vector<MessageBuilder>> rounds(port_flags ? 2 : 1);
  std::vector<std::vector<Step>> steps(rounds.size());
  // The read before: what a refusal undoes, needed only when the kernel could apply part of the
  // change (a lone `up`, the common call, cannot be half-made); and the name a move given by
  // index finds the link by again.
  const int fields = int{moving} + int{c.up.has_value()} + int{c.mtu.has_value()} + int{c.mac.has_value()} + int{c.name.has_value()} +
                     int{c.alias.has_value()} + int{c.txqlen.has_value()} + int{c.set_master};
  if (fields > 1 || (moving && !c.name && target.index > 0)) {
    rounds[0].push_back(EncodeGetLink(target));
    steps[0].push_back(kReadBefore);
  }
  rounds[0].push_back(EncodeSetLink(target, c, master_index));
  steps[0].push_back(kChange);
  if (port_flags) {
    rounds[1].push_back(EncodePortFlags(target.index > 0 ? target : after, c));
    steps[1].push_back(kPortFlags);
  }
  if (!moving) {
    rounds.back().push_back(EncodeGetLink(after));
    steps.back().push_back(kReadBack);
  }

  std::optional<LinkInfo> before;
  for (size_t r = 0; r < rounds.size(); ++r) {
    auto outcomes = Transact(sock, rounds[r]);
    if (!outcomes) return std::move(outcomes.error());
    for (size_t i = 0; i < rounds[r].size(); ++i) {
      const RequestOutcome& o = (*outcomes)[i];
      static const char* const kOps[] = {"getLink", "setLink", "setBridgePort", "getLink"};
      // No link to read (ENODEV): the change's own answer says so.
      if (o.ack.errnum != 0 && steps[r][i] == kReadBefore) continue;
      if (o.ack.errnum != 0) {
        Error e = RefusalError(o.ack, kOps[steps[r][i]], ref.Describe());
        if (steps[r][i] == kChange && before) {
          const std::string undone = UndoRefusedChange(sock, home, c, *before);
          if (!undone.empty()) e.detail += (e.detail.empty() ? "" : "; ") + undone;
        }
        return e;
      }
      if (steps[r][i] == kReadBefore || steps[r][i] == kReadBack) {
        auto info = LinkReply(o, ref.Describe());
        if (!info) return std::move(info.error());
        if (steps[r][i] == kReadBack) return info;
        before = std::move(*info);
      }
    }
  }
  // Moved: read it back in its new namespace, by name (the index may change on a move).
  // (No before-read only if the link appeared between the two messages of one sendmsg.)
  return GetLink(*c.move_to, LinkRefArg{0, c.name ? *c.name : before ? before->name : ref.name});
}

}  // namespace

Result<LinkInfo> SetLink(Namespace& ns, const LinkRefArg& ref, const LinkChangesSpec& c) {
  auto sock = ns.Acquire(NETLINK_ROUTE);
  if (!sock) return std::move(sock.error());

  // A rename must name the link by index (IFLA_IFNAME then carries the new name); a master given
  // by name must become an index. Both are resolved in one round trip, only when needed.
  const bool need_index = c.name && ref.index <= 0;
  const LinkRefArg* master = c.set_master && c.master ? &*c.master : nullptr;
  auto idx = ResolveIndexes(**sock, {need_index ? &ref : nullptr, master});
  if (!idx) return std::move(idx.error());
  const LinkRefArg target = need_index ? LinkRefArg{static_cast<int32_t>((*idx)[0]), {}} : ref;

  // Bridge-port flags on a link whose master stays: set first, in a sendmsg of their own after a
  // read of the flags as they were. The kernel refuses them (EOPNOTSUPP) for a link that is not a
  // port, and then nothing has changed; if the change after them is refused, they are put back.
  // (Sent after the change, a refusal of theirs would leave the change made by a call that rejects.)
  std::optional<LinkInfo::BridgePort> flags_before;
  if (HasPortFlags(c) && !c.set_master) {
    std::vector<MessageBuilder> first;
    first.push_back(EncodeGetLink(target));
    first.push_back(EncodePortFlags(target, c));
    auto outcomes = Transact(**sock, first);
    if (!outcomes) return std::move(outcomes.error());
    if ((*outcomes)[0].ack.errnum != 0) return RefusalError((*outcomes)[0].ack, "getLink", ref.Describe());
    if ((*outcomes)[1].ack.errnum != 0) return RefusalError((*outcomes)[1].ack, "setBridgePort", ref.Describe());
    auto was = LinkReply((*outcomes)[0], ref.Describe());
    if (was && was->bridge_port) flags_before = was->bridge_port;  // unreadable: nothing to put back
  }
  auto changed = ApplyLinkChanges(**sock, ns, ref, target, c, (*idx)[1]);
  if (!changed && flags_before) {
    // Only the flags the call set.
    LinkChangesSpec restore;
    if (c.hairpin) restore.hairpin = flags_before->hairpin;
    if (c.isolated) restore.isolated = flags_before->isolated;
    if (c.learning) restore.learning = flags_before->learning;
    (void)TransactOne(**sock, EncodePortFlags(target, restore));
  }
  return changed;
}

}  // namespace nlkit
