#pragma once

#include <memory>
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"

#include "source/common/network/address.h"
#include "source/common/network/filter.h"
#include "source/common/network/transport_socket.h"
#include "source/common/stats/store.h"

namespace waystone::server {

// listener.<address or stat_prefix>.* (Envoy's names).
struct ListenerStats {
  explicit ListenerStats(stats::Scope& scope);

  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_cx_overflow;
  stats::Counter& no_filter_chain_match;
};

// Everything a worker needs to run one listener, built once on the main thread and shared
// read-only by all workers.
class ListenerConfig {
 public:
  ListenerConfig(envoy::config::listener::v3::Listener proto,
                 network::address::InstanceConstSharedPtr address,
                 std::vector<network::FilterFactoryCb> filter_factories,
                 network::TransportSocketFactoryCb transport_factory, stats::ScopeSharedPtr scope);

  const std::string& name() const { return proto_.name(); }
  const envoy::config::listener::v3::Listener& proto() const { return proto_; }
  const network::address::InstanceConstSharedPtr& address() const { return address_; }
  const std::vector<network::FilterFactoryCb>& filterFactories() const { return filter_factories_; }
  // Makes each accepted connection's transport (TLS); empty for plain TCP.
  const network::TransportSocketFactoryCb& transportFactory() const { return transport_factory_; }
  uint32_t perConnectionBufferLimitBytes() const { return buffer_limit_; }
  ListenerStats& stats() const { return stats_; }

  // Envoy's stat scope name for a listener address: "0.0.0.0_10000", "[::]_80" -> "[__]_80".
  static std::string statPrefixFor(const envoy::config::listener::v3::Listener& proto,
                                   const network::address::Instance& address);

 private:
  const envoy::config::listener::v3::Listener proto_;
  const network::address::InstanceConstSharedPtr address_;
  const std::vector<network::FilterFactoryCb> filter_factories_;
  const network::TransportSocketFactoryCb transport_factory_;
  const uint32_t buffer_limit_;
  stats::ScopeSharedPtr scope_;
  mutable ListenerStats stats_;
};

using ListenerConfigConstSharedPtr = std::shared_ptr<const ListenerConfig>;

}  // namespace waystone::server
