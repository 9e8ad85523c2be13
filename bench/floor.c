// The floor for per-container network setup: the same work attachContainer does, with raw netlink,
// in the fewest round trips the kernel allows, and nothing else. Built by the bench (bench/lib/
// floor.js), never part of the package.
//
// It is a co-process: the bench starts it once and sends one command per line on stdin, so process
// start is not counted; it times its own work with CLOCK_MONOTONIC and answers one line per command.
//
//   attach <netns path> <host ifname> <bridge ifindex> <ipv4 address> <prefix len> <ipv4 gateway>
//     -> "ok <ms> <ms to veth created> <ms to container socket open> <ms to batch done>"
//        | "err <errno> <step>"
//   detach <host ifname>   (deletes the veth from the host side, which takes eth0 with it)
//     -> "ok <ms>" | "err <errno> delete"
//
// Timed: round trip 1 on a host socket opened once (create the veth with its peer born in the
// container as eth0, host end enslaved and up, echoed so that IFLA_LINK gives eth0's ifindex);
// setns into the container, a NETLINK_ROUTE socket there, setns back; round trip 2 on that socket
// (lo up, the address, eth0 up, the default route: four messages in one sendmsg, four ACKs).
// Closing that socket happens after the clock stops.
// Not timed: opening the namespace file (the bench's nlkit calls get an already-open handle too).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 8192

struct msg {
  char buf[BUF_SIZE];
  size_t len;       // bytes of all messages so far
  size_t start;     // offset of the message being built
};

static uint32_t seq;

static struct nlmsghdr* msg_begin(struct msg* m, uint16_t type, uint16_t flags) {
  m->start = m->len;
  struct nlmsghdr* h = (struct nlmsghdr*)(m->buf + m->len);
  memset(h, 0, NLMSG_HDRLEN);
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  h->nlmsg_seq = ++seq;
  m->len += NLMSG_HDRLEN;
  return h;
}

static void* put(struct msg* m, const void* data, size_t len) {
  void* at = m->buf + m->len;
  memcpy(at, data, len);
  memset((char*)at + len, 0, NLMSG_ALIGN(len) - len);
  m->len += NLMSG_ALIGN(len);
  return at;
}

static size_t attr_begin(struct msg* m, uint16_t type) {
  size_t at = m->len;
  struct rtattr a = {.rta_len = 0, .rta_type = type};
  put(m, &a, sizeof(a));
  return at;
}

static void attr_end(struct msg* m, size_t at) { ((struct rtattr*)(m->buf + at))->rta_len = (unsigned short)(m->len - at); }

static void attr(struct msg* m, uint16_t type, const void* data, size_t len) {
  struct rtattr a = {.rta_len = (unsigned short)(RTA_LENGTH(len)), .rta_type = type};
  memcpy(m->buf + m->len, &a, sizeof(a));
  m->len += sizeof(a);
  put(m, data, len);
}

static void msg_end(struct msg* m) { ((struct nlmsghdr*)(m->buf + m->start))->nlmsg_len = (uint32_t)(m->len - m->start); }

static int send_all(int fd, const struct msg* m) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  return sendto(fd, m->buf, m->len, 0, (struct sockaddr*)&kernel, sizeof(kernel)) == (ssize_t)m->len ? 0 : -errno;
}

// Reads until `acks` ACKs arrived. Returns 0, or the first negative errno an ACK carried (with its
// position in *failed). When `link_of` is set, the IFLA_LINK of an RTM_NEWLINK echo is stored there.
static int await_acks(int fd, int acks, int* failed, int* link_of) {
  char buf[BUF_SIZE];
  int seen = 0, first_error = 0;
  while (seen < acks) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr* e = NLMSG_DATA(h);
        if (e->error != 0 && first_error == 0) {
          first_error = e->error;
          *failed = seen;
        }
        ++seen;
      } else if (h->nlmsg_type == RTM_NEWLINK && link_of) {
        struct ifinfomsg* ifi = NLMSG_DATA(h);
        int len = (int)IFLA_PAYLOAD(h);
        for (struct rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
          if (a->rta_type == IFLA_LINK) memcpy(link_of, RTA_DATA(a), sizeof(int));
        }
      }
    }
  }
  return first_error;
}

static int open_route_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr*)&local, sizeof(local)) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

static void set_up(struct msg* m, int index, const char* name) {
  msg_begin(m, RTM_NEWLINK, 0);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  put(m, &ifi, sizeof(ifi));
  if (name) attr(m, IFLA_IFNAME, name, strlen(name) + 1);
  msg_end(m);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int host_fd = -1, home_fd = -1;
static double phase_ms[3];  // veth created, container socket open, container batch done

// Returns 0 or a negative errno; *step names what failed.
// The container's socket is left in *container_fd for the caller to close after the clock stops:
// nlkit keeps it pooled with the namespace handle, so closing it is not part of setup there either.
static int attach(int ns_fd, const char* host_name, int bridge, struct in_addr addr, int prefix, struct in_addr gw, const char** step,
                  int* container_fd) {
  static struct msg m;
  const double t0 = now_ms();

  // Round trip 1, host side.
  m.len = 0;
  *step = "create veth";
  struct nlmsghdr* h = msg_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO);
  (void)h;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  put(&m, &ifi, sizeof(ifi));
  attr(&m, IFLA_IFNAME, host_name, strlen(host_name) + 1);
  attr(&m, IFLA_MASTER, &bridge, sizeof(bridge));
  size_t info = attr_begin(&m, IFLA_LINKINFO);
  attr(&m, IFLA_INFO_KIND, "veth", 5);
  size_t data = attr_begin(&m, IFLA_INFO_DATA);
  size_t peer = attr_begin(&m, VETH_INFO_PEER);
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  put(&m, &peer_ifi, sizeof(peer_ifi));
  attr(&m, IFLA_IFNAME, "eth0", 5);
  attr(&m, IFLA_NET_NS_FD, &ns_fd, sizeof(ns_fd));
  attr_end(&m, peer);
  attr_end(&m, data);
  attr_end(&m, info);
  msg_end(&m);
  int r = send_all(host_fd, &m);
  int failed = 0, eth0 = 0;
  if (r == 0) r = await_acks(host_fd, 1, &failed, &eth0);
  if (r != 0) return r;
  if (eth0 <= 0) return -EPROTO;
  phase_ms[0] = now_ms() - t0;

  // A socket in the container.
  *step = "socket in container";
  if (setns(ns_fd, CLONE_NEWNET) < 0) return -errno;
  int fd = open_route_socket();
  if (setns(home_fd, CLONE_NEWNET) < 0) abort();  // a thread stuck in the container must not go on
  if (fd < 0) return fd;
  *container_fd = fd;
  phase_ms[1] = now_ms() - t0;

  // Round trip 2, container side: lo up, address, eth0 up, default route.
  m.len = 0;
  set_up(&m, 0, "lo");
  msg_begin(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_index = (unsigned)eth0};
  put(&m, &ifa, sizeof(ifa));
  attr(&m, IFA_LOCAL, &addr, sizeof(addr));
  attr(&m, IFA_ADDRESS, &addr, sizeof(addr));
  msg_end(&m);
  set_up(&m, eth0, NULL);
  msg_begin(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
  put(&m, &rtm, sizeof(rtm));
  attr(&m, RTA_GATEWAY, &gw, sizeof(gw));
  attr(&m, RTA_OIF, &eth0, sizeof(eth0));
  msg_end(&m);
  r = send_all(fd, &m);
  if (r == 0) r = await_acks(fd, 4, &failed, NULL);
  phase_ms[2] = now_ms() - t0;
  static const char* const steps[] = {"set lo up", "add address", "set eth0 up", "add default route"};
  if (r != 0) *step = steps[failed];
  return r;
}

// Round trip: RTM_DELLINK by name on the host socket.
static int detach(const char* host_name) {
  static struct msg m;
  m.len = 0;
  msg_begin(&m, RTM_DELLINK, 0);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  put(&m, &ifi, sizeof(ifi));
  attr(&m, IFLA_IFNAME, host_name, strlen(host_name) + 1);
  msg_end(&m);
  int failed = 0;
  int r = send_all(host_fd, &m);
  return r != 0 ? r : await_acks(host_fd, 1, &failed, NULL);
}

int main(void) {
  home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  host_fd = open_route_socket();
  if (home_fd < 0 || host_fd < 0) {
    fprintf(stderr, "floor: cannot open the home namespace or a netlink socket\n");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  char line[1024];
  while (fgets(line, sizeof(line), stdin)) {
    char path[512], host[IFNAMSIZ + 1], addr_s[64], gw_s[64];
    int bridge = 0, prefix = 0;
    if (sscanf(line, "detach %16s", host) == 1) {
      double t0 = now_ms();
      int r = detach(host);
      double elapsed = now_ms() - t0;
      if (r != 0) {
        printf("err %d delete\n", -r);
      } else {
        printf("ok %.6f\n", elapsed);
      }
      continue;
    }
    if (sscanf(line, "attach %511s %16s %d %63s %d %63s", path, host, &bridge, addr_s, &prefix, gw_s) != 6) {
      printf("err %d parse\n", EINVAL);
      continue;
    }
    struct in_addr addr, gw;
    if (inet_pton(AF_INET, addr_s, &addr) != 1 || inet_pton(AF_INET, gw_s, &gw) != 1) {
      printf("err %d parse\n", EINVAL);
      continue;
    }
    int ns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
      printf("err %d open-netns\n", errno);
      continue;
    }
    const char* step = "";
    int container_fd = -1;
    double t0 = now_ms();
    int r = attach(ns_fd, host, bridge, addr, prefix, gw, &step, &container_fd);
    double elapsed = now_ms() - t0;
    if (container_fd >= 0) close(container_fd);
    close(ns_fd);
    if (r != 0) {
      printf("err %d %s\n", -r, step);
    } else {
      printf("ok %.6f %.6f %.6f %.6f\n", elapsed, phase_ms[0], phase_ms[1], phase_ms[2]);
    }
  }
  return 0;
}
