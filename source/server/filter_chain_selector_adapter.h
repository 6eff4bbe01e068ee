#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/listener/v3/listener.pb.h"

#include "source/common/network/connection_socket.h"
#include "source/server/filter_chain.h"

namespace waystone::server {

// Turns a listener's filter chain matching config (filter_chain_matcher, or the classic
// filter_chain_match of each chain, plus default_filter_chain) into the selector a
// ListenerConfig uses. `chains` given to the selector are the listener's filter_chains in
// order, with the default_filter_chain (if any) last.
class FilterChainSelectorAdapter {
 public:
  using Selector = std::function<const FilterChain*(const std::vector<FilterChain>& chains,
                                                    const network::ConnectionSocket& socket)>;
  static absl::StatusOr<Selector> create(const envoy::config::listener::v3::Listener& proto,
                                         const std::string& path);
};

}  // namespace waystone::server
