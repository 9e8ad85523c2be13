{
  "targets": [
    {
      "target_name": "nlkit",
      "sources": [
        "native/core/random.cc",
        "native/netlink/message.cc",
        "native/netlink/socket.cc",
        "native/netlink/engine.cc",
        "native/netlink/fault_injection.cc",
        "native/netns/namespace.cc",
        "native/netns/netns_files.cc",
        "native/netns/socket_in.cc",
        "native/families/link.cc",
        "native/families/link_decode.cc",
        "native/families/address.cc",
        "native/families/route.cc",
        "native/families/neighbor.cc",
        "native/families/sysctl.cc",
        "native/families/link_peer.cc",
        "native/families/container.cc",
        "native/families/nft_expr.cc",
        "native/families/nftables.cc",
        "native/families/nat.cc",
        "native/families/portmap.cc",
        "native/families/nat_guard.cc",
        "native/families/isolation.cc",
        "native/families/conntrack.cc",
        "native/families/events.cc",
        "native/addon/worker_pool.cc",
        "native/addon/js_convert.cc",
        "native/addon/link_binding.cc",
        "native/addon/netns_binding.cc",
        "native/addon/address_binding.cc",
        "native/addon/route_binding.cc",
        "native/addon/sysctl_binding.cc",
        "native/addon/neighbor_binding.cc",
        "native/addon/container_binding.cc",
        "native/addon/nat_binding.cc",
        "native/addon/watch_binding.cc",
        "native/addon/addon.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_ADDON_API_CPP_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "cflags": ["-fvisibility=hidden"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
