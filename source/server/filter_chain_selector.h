#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/listener/v3/listener.pb.h"

#include "source/common/matcher/match_tree.h"
#include "source/common/network/connection_socket.h"

namespace waystone::server {

// The filter chain chosen for a socket.
struct FilterChainSelection {
  enum class Kind : uint8_t {
    None,     // nothing matched and the listener has no default_filter_chain: close
    Chain,    // listener.filter_chains(index)
    Default,  // listener.default_filter_chain
  };

  Kind kind = Kind::None;
  uint32_t index = 0;  // meaningful for Kind::Chain only

  static FilterChainSelection none() { return {}; }
  static FilterChainSelection chain(uint32_t index) { return {Kind::Chain, index}; }
  static FilterChainSelection defaultChain() { return {Kind::Default, 0}; }

  bool operator==(const FilterChainSelection& other) const {
    return kind == other.kind && (kind != Kind::Chain || index == other.index);
  }
  bool operator!=(const FilterChainSelection& other) const { return !(*this == other); }
};

// Envoy's filter chain selection (FilterChainManagerImpl) for one listener, compiled once from
// its config and then evaluated for every accepted socket, after the listener filters ran:
//
//  - with `filter_chain_matcher`: the unified matcher over the network inputs
//    (source/common/matcher/network_inputs.h). Its actions are TypedExtensionConfigs holding a
//    google.protobuf.StringValue, the `name` of a filter chain. Every chain must then have a
//    unique, non-empty name, and every action must name one of them (both config errors;
//    filter_chain_match blocks are ignored, as in Envoy).
//  - otherwise each chain's `filter_chain_match`, with Envoy's precedence: destination_port,
//    then destination IP (prefix_ranges, most specific CIDR), server_names (exact, then the
//    longest matching "*.suffix" wildcard), transport_protocol, application_protocols,
//    direct_source_prefix_ranges, source_type, source_prefix_ranges, source_ports. At each
//    step the most specific candidate wins and is never abandoned for a less specific one
//    (a specific port whose subtree fails does not fall back to port 0). Identical or
//    overlapping rules are config errors.
//
// In both modes nothing matched means default_filter_chain if the listener has one, else
// none. Immutable after create(): select() is const, lock-free and allocation-light, and one
// selector is shared by every worker.
class FilterChainSelector {
 public:
  // `path` names the listener for error messages, e.g. "static_resources.listeners[0]".
  static absl::StatusOr<std::unique_ptr<const FilterChainSelector>> create(
      const envoy::config::listener::v3::Listener& listener, const std::string& path);

  ~FilterChainSelector();

  FilterChainSelection select(const network::ConnectionSocket& socket) const;

  // True when the listener's filter_chain_matcher drives selection.
  bool usesMatcher() const { return matcher_ != nullptr; }

  // The classic filter_chain_match tree (defined in the .cc file).
  struct ClassicTree;

 private:
  FilterChainSelector() = default;

  bool has_default_ = false;
  matcher::MatchTreePtr<network::ConnectionSocket> matcher_;
  std::unique_ptr<const ClassicTree> classic_;
};

}  // namespace waystone::server
