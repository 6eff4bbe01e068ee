#include "test/integration/http/bootstrap_builder.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace waystone::test {

BootstrapBuilder& BootstrapBuilder::addCluster(absl::string_view name,
                                               const std::vector<uint16_t>& ports,
                                               const ClusterOptions& options) {
  clusters_.push_back(Cluster{std::string(name), ports, options});
  return *this;
}

BootstrapBuilder& BootstrapBuilder::setRouteConfig(absl::string_view yaml) {
  route_config_ = std::string(yaml);
  return *this;
}

BootstrapBuilder& BootstrapBuilder::addConnectionManagerFields(absl::string_view yaml) {
  absl::StrAppend(&connection_manager_fields_, reindent(yaml, 0));
  return *this;
}

BootstrapBuilder& BootstrapBuilder::addHttpFilter(absl::string_view yaml) {
  http_filters_.emplace_back(yaml);
  return *this;
}

BootstrapBuilder& BootstrapBuilder::setStatPrefix(absl::string_view prefix) {
  stat_prefix_ = std::string(prefix);
  return *this;
}

std::string BootstrapBuilder::reindent(absl::string_view yaml, int spaces) {
  std::vector<absl::string_view> lines = absl::StrSplit(yaml, '\n');
  auto blank = [](absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); };
  while (!lines.empty() && blank(lines.front())) {
    lines.erase(lines.begin());
  }
  while (!lines.empty() && blank(lines.back())) {
    lines.pop_back();
  }
  size_t common = std::numeric_limits<size_t>::max();
  for (absl::string_view line : lines) {
    if (!blank(line)) {
      common = std::min(common, line.find_first_not_of(' '));
    }
  }
  const std::string prefix(spaces, ' ');
  std::string out;
  for (absl::string_view line : lines) {
    if (blank(line)) {
      out.push_back('\n');
    } else {
      absl::StrAppend(&out, prefix, line.substr(common), "\n");
    }
  }
  return out;
}

std::string BootstrapBuilder::build() const {
  std::string route_config = route_config_;
  if (route_config.empty() && !clusters_.empty()) {
    route_config = absl::StrCat(R"(
      virtual_hosts:
      - name: default
        domains: ["*"]
        routes:
        - match: { prefix: "/" }
          route: { cluster: )",
                                clusters_.front().name, " }\n");
  }
  std::string yaml =
      absl::StrCat(R"(node:
  id: http-integration-test
  cluster: http-integration-test
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
static_resources:
  listeners:
  - name: http
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: )",
                   stat_prefix_, R"(
          codec_type: AUTO
)",
                   reindent(connection_manager_fields_, 10), "          route_config:\n",
                   reindent(route_config, 12), "          http_filters:\n");
  for (const std::string& filter : http_filters_) {
    absl::StrAppend(&yaml, reindent(filter, 10));
  }
  absl::StrAppend(&yaml, R"(          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
)");
  for (const Cluster& cluster : clusters_) {
    absl::StrAppend(&yaml, "  - name: ", cluster.name,
                    "\n    type: STATIC\n    connect_timeout: ", cluster.options.connect_timeout,
                    "\n    lb_policy: ", cluster.options.lb_policy, "\n");
    if (cluster.options.http2) {
      absl::StrAppend(&yaml, R"(    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {}
)");
    }
    absl::StrAppend(&yaml, reindent(cluster.options.extra_yaml, 4));
    absl::StrAppend(&yaml, "    load_assignment:\n      cluster_name: ", cluster.name,
                    "\n      endpoints:\n      - lb_endpoints:\n");
    for (size_t i = 0; i < cluster.ports.size(); ++i) {
      absl::StrAppend(&yaml,
                      "        - endpoint:\n"
                      "            address:\n"
                      "              socket_address: { address: 127.0.0.1, port_value: ",
                      cluster.ports[i], " }\n");
      if (i < cluster.options.weights.size()) {
        absl::StrAppend(&yaml, "          load_balancing_weight: ", cluster.options.weights[i],
                        "\n");
      }
    }
  }
  return yaml;
}

}  // namespace waystone::test
