#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"

#include "source/common/network/address.h"
#include "source/common/network/connection_socket.h"
#include "source/common/network/filter.h"
#include "source/common/network/transport_socket.h"
#include "source/common/stats/store.h"
#include "source/server/filter_chain.h"

namespace waystone::server {

// listener.<address or stat_prefix>.* (Envoy's names).
struct ListenerStats {
  explicit ListenerStats(stats::Scope& scope);

  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_cx_overflow;
  stats::Counter& no_filter_chain_match;
  stats::Counter& downstream_listener_filter_error;
  stats::Counter& downstream_pre_cx_timeout;
  stats::Gauge& downstream_pre_cx_active;
};

// Picks the filter chain for a socket after the listener filters ran; nullptr when none
// matches and there is no default chain.
using FilterChainSelectorCb =
    std::function<const FilterChain*(const network::ConnectionSocket& socket)>;

// Everything a worker needs to run one listener, built once on the main thread and shared
// read-only by all workers.
class ListenerConfig {
 public:
  struct Parts {
    std::vector<ListenerFilterConfig> listener_filters;
    // filter_chains in config order, then the default_filter_chain (if any) last.
    std::vector<FilterChain> filter_chains;
    // Chooses among filter_chains (pointers into the vector above, which the config keeps).
    std::function<const FilterChain*(const std::vector<FilterChain>& chains,
                                     const network::ConnectionSocket& socket)>
        selector;
  };

  ListenerConfig(envoy::config::listener::v3::Listener proto,
                 network::address::InstanceConstSharedPtr address, Parts parts,
                 stats::ScopeSharedPtr scope);

  const std::string& name() const { return proto_.name(); }
  const envoy::config::listener::v3::Listener& proto() const { return proto_; }
  // The bound address; for an internal listener, its envoy_internal address.
  const network::address::InstanceConstSharedPtr& address() const { return address_; }
  bool isInternal() const { return proto_.has_internal_listener(); }
  const std::vector<ListenerFilterConfig>& listenerFilters() const { return listener_filters_; }
  // listener_filters_timeout (default 15 s; 0 disables) and what happens when it fires.
  std::chrono::milliseconds listenerFiltersTimeout() const { return listener_filters_timeout_; }
  bool continueOnListenerFiltersTimeout() const {
    return proto_.continue_on_listener_filters_timeout();
  }
  const std::vector<FilterChain>& filterChains() const { return filter_chains_; }
  const FilterChain* selectFilterChain(const network::ConnectionSocket& socket) const {
    return selector_(filter_chains_, socket);
  }
  uint32_t perConnectionBufferLimitBytes() const { return buffer_limit_; }
  ListenerStats& stats() const { return stats_; }

  // Envoy's stat scope name for a listener address: "0.0.0.0_10000", "[::]_80" -> "[__]_80".
  static std::string statPrefixFor(const envoy::config::listener::v3::Listener& proto,
                                   const network::address::Instance& address);

 private:
  const envoy::config::listener::v3::Listener proto_;
  const network::address::InstanceConstSharedPtr address_;
  const std::vector<ListenerFilterConfig> listener_filters_;
  const std::vector<FilterChain> filter_chains_;
  const std::function<const FilterChain*(const std::vector<FilterChain>&,
                                         const network::ConnectionSocket&)>
      selector_;
  const std::chrono::milliseconds listener_filters_timeout_;
  const uint32_t buffer_limit_;
  stats::ScopeSharedPtr scope_;
  mutable ListenerStats stats_;
};

using ListenerConfigConstSharedPtr = std::shared_ptr<const ListenerConfig>;

}  // namespace waystone::server
