// Every reply decoder against malformed netlink: truncated, oversized, misaligned and random
// messages. Built with AddressSanitizer and UndefinedBehaviorSanitizer (CMakeLists.txt here; `npm
// run test:native-asan`), any out-of-bounds read, misaligned load or overflow aborts the run with a
// report. The decoders must turn every input into a value or an error, and nothing else.
//
// Two entry points: LLVMFuzzerTestOneInput, for a libFuzzer build (clang, -DNLKIT_LIBFUZZER=ON),
// and main(), a seeded run that CI executes: well-formed messages of every kind the decoders read
// (made with nlkit's own encoders, as the kernel's replies are laid out), then each of them
// truncated at every length, mutated with a fixed-seed generator (bytes, lengths set to extremes),
// placed at every misalignment, and pure noise. Same seed, same run.
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "families/address.h"
#include "families/conntrack.h"
#include "families/events.h"
#include "families/link.h"
#include "families/nat_guard.h"
#include "families/neighbor.h"
#include "families/nft_expr.h"
#include "families/nftables.h"
#include "families/route.h"
#include "netlink/engine.h"
#include "netlink/message.h"

#include <linux/netfilter/nf_tables.h>

namespace nlkit {
namespace {

void DecodeAll(const uint8_t* data, size_t size) {
  const Bytes bytes(data, size);
  (void)DecodeLink(bytes);
  (void)DecodeEvents(bytes);  // watch(): a whole datagram of notifications
  (void)nft::CommentFromUserdata(bytes);
  auto messages = SplitMessages(bytes);
  if (!messages) return;
  for (const Message& m : *messages) {
    (void)DecodeError(m);
    (void)DecodeDone(m);
    (void)DecodeLink(m);
    (void)DecodeAddress(m);
    (void)DecodeRoute(m);
    (void)DecodeNeighbor(m);
    (void)nft::DecodeTable(m);
    (void)nft::DecodeChain(m);
    (void)nft::DecodeSet(m);
    (void)nft::DecodeRule(m);
    (void)DecodeConntrack(m);
    std::vector<nft::ElementInfo> elements;
    (void)nft::DecodeElements(m, elements);
  }
  // The echo path: a reply carried in a request's outcome.
  RequestOutcome outcome;
  outcome.replies.emplace_back(data, data + size);
  (void)nft::EchoedRule(outcome);
  (void)FirstReply(outcome, RTM_NEWLINK);
}

std::vector<uint8_t> Bytes(const MessageBuilder& m) { return std::vector<uint8_t>(m.data(), m.data() + m.size()); }

// Replies as the kernel lays them out, made with the encoders (a NEW* request and the kernel's
// answer to a GET share their layout), plus the ACK and DONE shapes with extended-ack TLVs.
std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::vector<uint8_t>> out;
  {
    LinkSpec veth;
    veth.kind = "veth";
    veth.name = "veth1a2b3c4";
    veth.mtu = 1500;
    veth.mac = Mac{2, 0x42, 0xac, 0x11, 0, 2};
    veth.up = true;
    veth.alias = "nlkit:ctr-1";
    VethPeerSpec peer;
    peer.name = "eth0";
    peer.mac = Mac{2, 0x42, 0xac, 0x11, 0, 3};
    veth.peer = peer;
    out.push_back(Bytes(EncodeCreateLink(veth, ResolvedRefs{7, 0, 0})));
    LinkSpec bridge;
    bridge.kind = "bridge";
    bridge.name = "br0";
    bridge.bridge_stp = false;
    bridge.bridge_forward_delay = 1500;
    out.push_back(Bytes(EncodeCreateLink(bridge, ResolvedRefs{})));
    LinkSpec vx;
    vx.kind = "vxlan";
    vx.name = "vx0";
    VxlanSpec x;
    x.vni = 42;
    x.local = IpAddr::Parse("10.0.0.1");
    x.group = IpAddr::Parse("239.1.1.1");
    x.port = 4789;
    vx.vxlan = x;
    out.push_back(Bytes(EncodeCreateLink(vx, ResolvedRefs{0, 0, 3})));
    LinkChangesSpec port;
    port.hairpin = true;
    port.isolated = true;
    out.push_back(Bytes(EncodePortFlags(LinkRefArg{9, {}}, port)));
  }
  {
    // A conntrack entry's tuple as the delete names it (a dump's entry has the reply tuple too).
    ConntrackEntry ct;
    ct.family = AF_INET;
    ct.orig = ConntrackTuple{*IpAddr::Parse("192.0.2.1"), *IpAddr::Parse("192.0.2.2"), IPPROTO_UDP, 40000, 5353};
    ct.zone = 3;
    out.push_back(Bytes(EncodeConntrackDelete(ct)));
  }
  {
    AddressSpec a;
    a.local = *IpAddr::Parse("fd00::2");
    a.prefix_len = 64;
    a.no_dad = true;
    out.push_back(Bytes(EncodeAddress(RTM_NEWADDR, NLM_F_CREATE, a, 5)));
    RouteSpec r;
    r.family = AF_INET;
    r.dst = IpAddr::Parse("10.99.0.0");
    r.dst_len = 16;
    r.gateway = IpAddr::Parse("10.88.0.1");
    r.metric = 20;
    out.push_back(Bytes(EncodeRoute(RTM_NEWROUTE, NLM_F_CREATE, r, 5)));
    // A multipath route: RTA_MULTIPATH's run of rtnexthop entries, each with its own attributes.
    RouteSpec mp;
    mp.family = AF_INET6;
    mp.dst = IpAddr::Parse("fd77::");
    mp.dst_len = 64;
    mp.nexthops.push_back(NextHopSpec{IpAddr::Parse("fd70::fe"), std::nullopt, 1, false});
    mp.nexthops.push_back(NextHopSpec{IpAddr::Parse("fd71::fe"), std::nullopt, 3, true});
    const uint32_t hop_oifs[] = {5, 6};
    out.push_back(Bytes(EncodeRoute(RTM_NEWROUTE, NLM_F_CREATE, mp, 0, hop_oifs)));
  }
  {
    MessageBuilder n(RTM_NEWNEIGH, 0);
    ndmsg nd{};
    nd.ndm_family = AF_INET;
    nd.ndm_ifindex = 5;
    nd.ndm_state = NUD_PERMANENT;
    n.PutHeader(nd);
    const uint8_t dst[4] = {10, 88, 0, 2};
    n.PutAttr(NDA_DST, dst, sizeof(dst));
    const uint8_t ll[6] = {2, 0x42, 10, 88, 0, 2};
    n.PutAttr(NDA_LLADDR, ll, sizeof(ll));
    out.push_back(Bytes(n));
  }
  {
    // NLMSG_ERROR with NETLINK_CAP_ACK's short form and extended-ack TLVs; NLMSG_DONE likewise.
    MessageBuilder e(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS);
    nlmsgerr err{};
    err.error = -17;
    err.msg.nlmsg_len = 40;
    e.PutHeader(err);
    e.PutString(NLMSGERR_ATTR_MSG, "Nexthop has invalid gateway");
    e.PutU32(NLMSGERR_ATTR_OFFS, 36);
    out.push_back(Bytes(e));
    MessageBuilder d(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS);
    const int32_t status = -16;
    d.PutHeader(status);
    d.PutString(NLMSGERR_ATTR_MSG, "dump interrupted");
    out.push_back(Bytes(d));
  }
  {
    out.push_back(Bytes(nft::NewTable(nft::kFamilyInet, "nlkit")));
    out.push_back(Bytes(nft::NewBaseChain(nft::kFamilyInet, "nlkit", "prerouting", "nat", 0, -100)));
    out.push_back(Bytes(nft::NewMap(nft::kFamilyInet, "nlkit", "tcp4_ip", 1, 7 << 6 | 13, 8, 7 << 6 | 13, 8)));
    out.push_back(Bytes(nft::NewSet(nft::kFamilyInet, "nlkit", "isolated_nets", 2, 41, 16, true)));
    out.push_back(Bytes(nft::NewMapElement(nft::kFamilyInet, "nlkit", "tcp4_ip", 0, {127, 0, 0, 1, 0x1f, 0x90, 0, 0},
                                           {10, 88, 0, 2, 0, 80, 0, 0})));
    out.push_back(Bytes(LocalnetGuardRule("nlkit")));
    MessageBuilder rule = nft::NewRule(nft::kFamilyInet, "nlkit", "forward");
    nft::Expressions x(rule);
    x.MetaLoad(NFT_META_IIFNAME);
    x.Cmp(NFT_CMP_EQ, nft::IfnameValue("brA"));
    x.Lookup("isolated_nets", 0, nft::kReg1, 0);
    x.Verdict(-1);
    x.Close();
    nft::PutRuleComment(rule, "nlkit isolate brA");
    rule.PutU64(NFTA_RULE_HANDLE, 0x0700000000000000ull);  // a handle, as the kernel's replies carry
    out.push_back(Bytes(rule));
  }
  // Two messages in one datagram, as dumps arrive.
  std::vector<uint8_t> pair = out[0];
  pair.insert(pair.end(), out[4].begin(), out[4].end());
  out.push_back(pair);
  return out;
}

// xorshift64*: a fixed seed, so a report can be replayed.
struct Random {
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

void Mutate(std::vector<uint8_t>& b, Random& r) {
  const int edits = 1 + static_cast<int>(r.Below(4));
  for (int i = 0; i < edits && !b.empty(); ++i) {
    const size_t at = r.Below(b.size());
    switch (r.Below(5)) {
      case 0:  // a random byte
        b[at] = static_cast<uint8_t>(r.Next());
        break;
      case 1: {  // a 16-bit length (nla_len, nla_type) set to an extreme
        static const uint16_t kExtremes[] = {0, 1, 3, 4, 5, 0x7fff, 0xffff};
        const uint16_t v = r.Below(2) ? kExtremes[r.Below(7)] : static_cast<uint16_t>(b.size() + r.Below(64));
        if (at + 2 <= b.size()) std::memcpy(&b[at], &v, 2);
        break;
      }
      case 2: {  // the message's own length (nlmsg_len) set to an extreme
        const uint32_t v = r.Below(2) ? 0xffffffffu : static_cast<uint32_t>(r.Below(b.size() + 64));
        if (b.size() >= 4) std::memcpy(&b[0], &v, 4);
        break;
      }
      case 3:  // cut
        b.resize(at);
        break;
      default:  // grow with noise
        for (size_t k = r.Below(32); k > 0; --k) b.push_back(static_cast<uint8_t>(r.Next()));
        break;
    }
  }
}

// Runs the decoders over `b` at each of the four alignments of its first byte.
void DecodeMisaligned(const std::vector<uint8_t>& b, std::vector<uint8_t>& scratch) {
  for (size_t shift = 0; shift < 4; ++shift) {
    scratch.assign(shift, 0);
    scratch.insert(scratch.end(), b.begin(), b.end());
    // A separate allocation of exactly the input's size, so ASan sees a read one byte past it.
    std::vector<uint8_t> exact(scratch.begin() + static_cast<std::ptrdiff_t>(shift), scratch.end());
    DecodeAll(scratch.data() + shift, b.size());
    DecodeAll(exact.data(), exact.size());
  }
}

}  // namespace
}  // namespace nlkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlkit::DecodeAll(data, size);
  return 0;
}

#ifndef NLKIT_LIBFUZZER
int main(int argc, char** argv) {
  using namespace nlkit;
  const long rounds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 3000;
  Random r{0x6e6c6b6974ull};  // "nlkit"
  std::vector<uint8_t> scratch;
  size_t runs = 0;
  const auto seeds = Seeds();
  for (const auto& seed : seeds) {
    for (size_t len = 0; len <= seed.size(); ++len) {
      DecodeMisaligned(std::vector<uint8_t>(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(len)), scratch);
      ++runs;
    }
    for (long i = 0; i < rounds; ++i) {
      std::vector<uint8_t> b = seed;
      Mutate(b, r);
      DecodeMisaligned(b, scratch);
      ++runs;
    }
  }
  for (long i = 0; i < rounds; ++i) {
    std::vector<uint8_t> noise(r.Below(512));
    for (auto& x : noise) x = static_cast<uint8_t>(r.Next());
    DecodeMisaligned(noise, scratch);
    ++runs;
  }
  std::printf("decoders_fuzz: %zu seeds, %zu inputs, each at 4 alignments: no sanitizer report\n", seeds.size(), runs);
  return 0;
}
#endif
