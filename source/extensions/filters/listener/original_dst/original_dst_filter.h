#pragma once

#include "source/common/network/listener_filter.h"

namespace waystone::extensions::listener_filters::original_dst {

// envoy.filters.listener.original_dst. On a kernel socket it restores the destination the
// client dialled before an iptables REDIRECT (SO_ORIGINAL_DST). On an internal connection, which
// has no such thing, it restores what the previous hop handed over:
//  - local address  <- filter state "envoy.filters.listener.original_dst.local_ip", else the
//                      dynamic metadata envoy.filters.listener.original_dst["local"] that the
//                      internal_upstream transport passed through from the endpoint;
//  - remote address <- filter state "envoy.filters.listener.original_dst.remote_ip".
// This is how the waypoint's main_internal sees the service VIP:port the client asked for, and
// connect_originate sees the pod IP:port to tunnel to.
class OriginalDstFilter final : public network::ListenerFilter {
 public:
  network::ListenerFilterStatus onAccept(network::ListenerFilterCallbacks& callbacks) override;
};

}  // namespace waystone::extensions::listener_filters::original_dst
