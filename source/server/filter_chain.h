#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "source/common/network/filter.h"
#include "source/common/network/listener_filter.h"
#include "source/common/network/transport_socket.h"

namespace waystone::server {

// One of a listener's filter_chains (or its default_filter_chain), ready to run: the transport
// for connections it takes and the factories of its network filters. Immutable, shared by
// workers through the ListenerConfig.
struct FilterChain {
  std::string name;
  // Empty for plain connections (no transport_socket, or raw_buffer).
  network::TransportSocketFactoryCb transport_factory;
  std::vector<network::FilterFactoryCb> filter_factories;
};

// One entry of listener_filters: its factory and the filter_disabled predicate, which skips
// the filter for sockets it matches (istiod disables http_inspector on ports whose protocol it
// knows).
struct ListenerFilterConfig {
  std::string name;
  network::ListenerFilterFactoryCb factory;
  // Null: never disabled.
  std::function<bool(const network::ConnectionSocket&)> disabled;
};

}  // namespace waystone::server
