// The kernel's nftables headers, in the one order that compiles: linux/netfilter.h includes
// linux/in.h, which clashes with glibc's netinet/in.h unless glibc's comes first (glibc then
// tells the kernel header to stand down). Every nftables file includes this instead.
#pragma once

#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
