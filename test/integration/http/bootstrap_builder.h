#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace waystone::test {

// How one cluster of the generated bootstrap is set up.
struct ClusterOptions {
  // ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH or MAGLEV.
  std::string lb_policy = "ROUND_ROBIN";
  std::string connect_timeout = "1s";
  // Upstream HTTP/2 (h2c) through typed_extension_protocol_options instead of HTTP/1.1.
  bool http2 = false;
  // One load_balancing_weight per endpoint (empty: no weights).
  std::vector<uint32_t> weights;
  // More fields of the cluster (circuit_breakers, ...), block YAML at any indentation.
  std::string extra_yaml;
};

// Builds the YAML bootstrap of an HTTP reverse proxy for integration tests: the admin API and one
// listener named "http", both on 127.0.0.1:0, whose http_connection_manager (codec AUTO) routes
// with the route_config given, through the extra HTTP filters given and then the router, to STATIC
// clusters of 127.0.0.1:<port> endpoints.
//
// YAML fragments are written in block style at any indentation (raw string literals indented
// with the test code read well); the builder re-indents them into place.
class BootstrapBuilder {
 public:
  // Adds a cluster whose endpoints are 127.0.0.1:<port> for each port. The first cluster added is
  // the target of the default route table.
  BootstrapBuilder& addCluster(absl::string_view name, const std::vector<uint16_t>& ports,
                               const ClusterOptions& options = {});

  // The body of route_config (virtual_hosts, validate_clusters, ...). Without it, one virtual
  // host "*" sends every path to the first cluster.
  BootstrapBuilder& setRouteConfig(absl::string_view yaml);

  // More fields of the HttpConnectionManager (use_remote_address, timeouts, ...).
  BootstrapBuilder& addConnectionManagerFields(absl::string_view yaml);

  // An HTTP filter (a list item "- name: ... typed_config: ...") placed before the router, in the
  // order of the calls.
  BootstrapBuilder& addHttpFilter(absl::string_view yaml);

  // The connection manager's stat_prefix: stats are http.<prefix>.*; "ingress" by default.
  BootstrapBuilder& setStatPrefix(absl::string_view prefix);
  const std::string& statPrefix() const { return stat_prefix_; }

  std::string build() const;

  // `yaml` with its common leading indentation replaced by `spaces` spaces and a trailing newline;
  // blank lines at either end are dropped.
  static std::string reindent(absl::string_view yaml, int spaces);

 private:
  struct Cluster {
    std::string name;
    std::vector<uint16_t> ports;
    ClusterOptions options;
  };

  std::vector<Cluster> clusters_;
  std::string route_config_;
  std::string connection_manager_fields_;
  std::vector<std::string> http_filters_;
  std::string stat_prefix_ = "ingress";
};

}  // namespace waystone::test
