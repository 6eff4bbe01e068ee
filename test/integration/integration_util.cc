#include "test/integration/integration_util.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "re2/re2.h"

namespace waystone::test {

std::string tcpProxyBootstrap(uint16_t backend_port, absl::string_view extra_listener_yaml) {
  return absl::StrCat(R"(
node:
  id: integration-test
  cluster: integration
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
static_resources:
  listeners:
  - name: proxy
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: proxy
          cluster: backend
)",
                      extra_listener_yaml, R"(
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: )",
                      backend_port, " }\n");
}

absl::StatusOr<uint16_t> listenerPort(WaystoneProcess& process, absl::string_view listener_name) {
  auto response = process.admin("GET", "/listeners");
  if (!response.ok()) {
    return response.status();
  }
  // Text form: "<name>::<ip>:<port>" per line.
  for (absl::string_view line : absl::StrSplit(response->body, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits("::", 1));
    if (parts.size() == 2 && parts[0] == listener_name) {
      const size_t colon = parts[1].rfind(':');
      uint32_t port = 0;
      if (colon != absl::string_view::npos && absl::SimpleAtoi(parts[1].substr(colon + 1), &port)) {
        return static_cast<uint16_t>(port);
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("listener ", listener_name, " not in /listeners: ", response->body));
}

std::optional<uint64_t> statValue(WaystoneProcess& process, absl::string_view name) {
  std::string encoded;
  for (char c : absl::StrCat("^", RE2::QuoteMeta(std::string(name)), "$")) {
    if (absl::ascii_isalnum(c) || c == '_' || c == '.') {
      encoded.push_back(c);
    } else {
      absl::StrAppend(&encoded, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  auto response = process.admin("GET", absl::StrCat("/stats?filter=", encoded));
  if (!response.ok()) {
    return std::nullopt;
  }
  for (absl::string_view line : absl::StrSplit(response->body, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, ": ")) {
      uint64_t value = 0;
      if (absl::SimpleAtoi(line, &value)) {
        return value;
      }
    }
  }
  return std::nullopt;
}

}  // namespace waystone::test
