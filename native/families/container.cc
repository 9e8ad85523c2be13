#include "families/container.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <algorithm>

#include "core/random.h"
#include "families/owner.h"
#include "netlink/engine.h"

namespace nlkit {

namespace {

std::string GenerateHostName() {
  uint8_t r[4];
  FillRandom(r, sizeof(r));
  static const char* const kHex = "0123456789abcdef";
  std::string name = "veth";  // + 7 hex digits: 11 bytes, like Docker's
  for (int i = 0; i < 7; ++i) name.push_back(kHex[(r[i / 2] >> ((i % 2) * 4)) & 0xf]);
  return name;
}

MessageBuilder SetUp(const LinkRefArg& link) {
  LinkChangesSpec up;
  up.up = true;
  return EncodeSetLink(link, up, 0);
}

// One message of the container batch, named only if it fails: building the names of every step
// up front cost more than the rest of the batch's bookkeeping.
struct Step {
  enum Kind { kLoUp, kAddress, kIfUp, kRoute } kind;
  size_t index = 0;  // into spec.addresses or spec.routes
};

std::string StepName(const AttachSpec& spec, const Step& s) {
  switch (s.kind) {
    case Step::kLoUp:
      return "set lo up";
    case Step::kAddress: {
      const AddressSpec& a = spec.addresses[s.index];
      return "add address " + a.local.ToString() + "/" + std::to_string(a.prefix_len);
    }
    case Step::kIfUp:
      return "set " + spec.ifname + " up";
    case Step::kRoute:
      return "add " + DescribeRoute(spec.routes[s.index]);
  }
  return {};  // every kind returned above
}

}  // namespace

Result<AttachResult> AttachContainer(Namespace& host, const NamespacePtr& container, AttachSpec spec) {
  auto hs = host.Acquire(NETLINK_ROUTE);
  if (!hs) return std::move(hs.error());
  auto bridge = ResolveIndexes(**hs, {&spec.bridge});
  if (!bridge) return std::move(bridge.error().In("attachContainer: resolve bridge", spec.bridge.Describe()));

  // Round trip 1, host side: the veth pair. A generated host name that happens to exist is
  // replaced and retried; a given one is the caller's to fix.
  LinkSpec veth;
  veth.kind = "veth";
  veth.mtu = spec.mtu;
  veth.mac = RandomMac();
  veth.up = true;
  VethPeerSpec peer;
  peer.name = spec.ifname;
  peer.netns = container;
  peer.mac = spec.mac ? *spec.mac : RandomMac();
  peer.mtu = spec.mtu;
  veth.peer = peer;
  const ResolvedRefs refs{(*bridge)[0], 0, 0};

  std::optional<LinkInfo> host_end;
  for (int attempt = 0; attempt < 3 && !host_end; ++attempt) {
    veth.name = spec.host_ifname ? *spec.host_ifname : GenerateHostName();
    MessageBuilder create = EncodeCreateLink(veth, refs);
    create.AddFlags(NLM_F_ECHO);
    auto created = TransactOne(**hs, std::move(create));
    if (!created) {
      Error& e = created.error();
      if (e.kind == ErrorKind::kNetlink && e.errnum == EEXIST) {
        // Which name is taken? If the host name is free, it is the container's interface name,
        // and another host name would not help.
        auto host_taken = GetLink(host, LinkRefArg{0, veth.name});
        const bool host_free = !host_taken && host_taken.error().kind == ErrorKind::kNetlink && host_taken.error().errnum == ENODEV;
        if (host_free) {
          e.In("attachContainer: create veth", spec.ifname + " in " + container->label());
          e.detail = "an interface named " + spec.ifname + " already exists in the container";
          return std::move(e);
        }
        if (host_taken && !spec.host_ifname) continue;
      }
      // The bridge too: a refusal may be about it (EINVAL for an ifindex that is no link,
      // EOPNOTSUPP for a link that cannot be a master).
      return std::move(e.In("attachContainer: create veth", veth.name + " <-> " + spec.ifname + " on " + spec.bridge.Describe()));
    }
    if (auto echo = FirstReply(*created, RTM_NEWLINK)) {
      auto info = DecodeLink(*echo);
      if (info && info->name == veth.name) host_end = std::move(*info);
    }
    if (!host_end) {
      // No echo (older kernels): one GET on the host side.
      auto info = GetLink(host, LinkRefArg{0, veth.name});
      if (!info) {
        (void)TransactOne(**hs, EncodeDeleteLink(LinkRefArg{0, veth.name}));
        return std::move(info.error().In("attachContainer: read veth", "link " + veth.name));
      }
      host_end = std::move(*info);
    }
  }
  if (!host_end) {
    Error e = Error::Netlink(EEXIST, "attachContainer: create veth", "generated host names");
    e.detail = "three generated names were all taken";
    return e;
  }
  auto rollback = [&](Error e) -> Error {
    // Deleting the host end deletes the container end too. A refusal here (a transient EBUSY or
    // ENOBUFS, say) would leave the veth half-made, so it is tried a few times; ENODEV means
    // someone removed it already.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto deleted = TransactOne(**hs, EncodeDeleteLink(LinkRefArg{host_end->index, {}}));
      if (deleted.ok() || (deleted.error().kind == ErrorKind::kNetlink && deleted.error().errnum == ENODEV)) return e;
    }
    // Said, so that the caller knows what is left to remove (detachContainer, or sweep by owner).
    e.detail += std::string(e.detail.empty() ? "" : "; ") + "the veth " + host_end->name + " could not be removed again";
    return e;
  };
  // Then, in one sendmsg, what the create cannot carry: bridge-port flags, and the owner tag (the
  // kernel ignores IFLA_IFALIAS on creation). By the veth's index, never by a name that might
  // belong to another link had the create failed.
  std::vector<MessageBuilder> host_changes;
  std::vector<const char*> host_steps;
  if (spec.hairpin.value_or(false) || spec.isolated.value_or(false)) {
    LinkChangesSpec port;
    port.hairpin = spec.hairpin;
    port.isolated = spec.isolated;
    host_changes.push_back(EncodePortFlags(LinkRefArg{host_end->index, {}}, port));
    host_steps.push_back("attachContainer: set bridge port flags");
  }
  if (spec.owner) {
    LinkChangesSpec tag;
    tag.alias = OwnerTag(*spec.owner);
    host_changes.push_back(EncodeSetLink(LinkRefArg{host_end->index, {}}, tag, 0));
    host_steps.push_back("attachContainer: tag owner");
  }
  if (!host_changes.empty()) {
    auto set = Transact(**hs, host_changes);
    if (!set) return rollback(std::move(set.error().In(host_steps.front(), "link " + veth.name)));
    for (size_t i = 0; i < set->size(); ++i) {
      if ((*set)[i].ack.errnum != 0) return rollback(RefusalError((*set)[i].ack, host_steps[i], "link " + veth.name));
    }
  }
  const int32_t peer_index = host_end->link ? static_cast<int32_t>(*host_end->link) : 0;
  if (peer_index <= 0) {
    return rollback(Error::Protocol("the kernel did not report the veth peer's ifindex").In("attachContainer: create veth", "link " + veth.name));
  }

  // Round trip 2, container side: lo up, addresses, ifname up, routes.
  auto cs = container->Acquire(NETLINK_ROUTE);
  if (!cs) return rollback(std::move(cs.error().In("attachContainer: open socket", "netlink socket in " + container->label())));
  const LinkRefArg eth{peer_index, {}};
  std::vector<MessageBuilder> batch;
  std::vector<Step> steps;
  const size_t messages = spec.addresses.size() + spec.routes.size() + 2;
  batch.reserve(messages);
  steps.reserve(messages);
  batch.push_back(SetUp(LinkRefArg{0, "lo"}));
  steps.push_back({Step::kLoUp});
  for (size_t i = 0; i < spec.addresses.size(); ++i) {
    batch.push_back(EncodeAddress(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, spec.addresses[i], static_cast<uint32_t>(peer_index)));
    steps.push_back({Step::kAddress, i});
  }
  batch.push_back(SetUp(eth));
  steps.push_back({Step::kIfUp});
  for (size_t i = 0; i < spec.routes.size(); ++i) {
    batch.push_back(EncodeRoute(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, spec.routes[i], static_cast<uint32_t>(peer_index)));
    steps.push_back({Step::kRoute, i});
  }

  auto outcomes = Transact(**cs, batch);
  if (!outcomes) return rollback(std::move(outcomes.error().In("attachContainer: configure container", spec.ifname + " in " + container->label())));
  for (size_t i = 0; i < batch.size(); ++i) {
    const RequestOutcome& o = (*outcomes)[i];
    if (o.ack.errnum != 0) {
      return rollback(RefusalError(o.ack, "attachContainer: " + StepName(spec, steps[i]), spec.ifname + " in " + container->label()));
    }
  }
  AttachResult out;
  out.host.index = host_end->index;
  out.host.name = host_end->name;
  if (host_end->address && host_end->address->size() == out.host.mac.size()) {
    std::copy(host_end->address->begin(), host_end->address->end(), out.host.mac.begin());
  } else {
    out.host.mac = *veth.mac;
  }
  out.host.mtu = host_end->mtu;
  // The peer was made with these: its name, our MAC, and the MTU given or else the veth default,
  // which the host end reports.
  out.container.index = peer_index;
  out.container.name = spec.ifname;
  out.container.mac = *peer.mac;
  out.container.mtu = spec.mtu.value_or(host_end->mtu);
  return out;
}

Status DetachLink(Namespace& ns, const std::string& ifname, const std::string& argument) {
  const auto gone = [](const Error& e) { return e.kind == ErrorKind::kNetlink && e.errnum == ENODEV; };
  // Only a veth: a name given by mistake (the bridge, the uplink) would otherwise be deleted, and
  // a bridge takes every container on it along. One more round trip, beside a deletion whose
  // unregistration takes the kernel milliseconds.
  auto link = GetLink(ns, LinkRefArg{0, ifname});
  if (!link) return gone(link.error()) ? OkStatus() : Status(std::move(link.error()));
  if (link->kind != "veth") {
    Error e = Error::Invalid(ifname + " is " + (link->kind.empty() ? std::string("a link of no kind") : "a " + link->kind) +
                             ", not a veth: detachContainer deletes only a container's veth");
    e.object = argument;
    return e;
  }
  // By index: the name could be taken by another link between the two round trips.
  Status s = DeleteLink(ns, LinkRefArg{link->index, {}});
  if (!s.ok() && gone(s.error())) return OkStatus();
  return s;
}

}  // namespace nlkit
