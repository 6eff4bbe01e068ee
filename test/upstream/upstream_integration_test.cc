// Upstream membership through the real binary: an ORIGINAL_DST cluster whose host comes from the
// x-envoy-original-dst-host header, and a STRICT_DNS cluster that keeps re-resolving its name
// (off the workers and the main loop) while serving, with admin /clusters showing its hosts.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

#include "test/test_common/http_client.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

// The admin API and one HTTP listener "http" routing every request to `cluster`, followed by
// the clusters given.
std::string bootstrap(const std::string& cluster, const std::string& clusters_yaml) {
  return absl::StrCat(R"EOF(
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: )EOF",
                      cluster, R"EOF( }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
)EOF",
                      clusters_yaml);
}

class UpstreamIntegrationTest : public testing::Test {
 protected:
  void start(const std::string& yaml) {
    WaystoneOptions options;
    options.bootstrap_yaml = yaml;
    auto process = WaystoneProcess::start(std::move(options));
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    ASSERT_TRUE(process_->waitReady(std::chrono::seconds(30))) << process_->logs();
    // /listeners text: "<name>::<ip>:<port>".
    auto listeners = process_->admin("GET", "/listeners");
    ASSERT_TRUE(listeners.ok()) << listeners.status();
    for (absl::string_view line : absl::StrSplit(listeners->body, '\n', absl::SkipEmpty())) {
      if (absl::ConsumePrefix(&line, "http::")) {
        uint32_t port = 0;
        ASSERT_TRUE(absl::SimpleAtoi(line.substr(line.rfind(':') + 1), &port)) << line;
        port_ = static_cast<uint16_t>(port);
      }
    }
    ASSERT_NE(port_, 0) << listeners->body;
  }

  std::unique_ptr<TestHttpServer> backend(const std::string& body) {
    auto server = TestHttpServer::start();
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) {
      return nullptr;
    }
    (*server)->setResponse(200, body);
    return std::move(*server);
  }

  absl::StatusOr<HttpResponse> get(HttpHeaders headers = {}) {
    HttpClient client("127.0.0.1", port_);
    return client.request("GET", "/", headers);
  }

  // A counter or gauge from /stats; nullopt when absent.
  std::optional<uint64_t> stat(const std::string& name) {
    auto response = process_->admin("GET", "/stats");
    if (!response.ok()) {
      return std::nullopt;
    }
    for (absl::string_view line : absl::StrSplit(response->body, '\n', absl::SkipEmpty())) {
      if (absl::ConsumePrefix(&line, name + ": ")) {
        uint64_t value = 0;
        if (absl::SimpleAtoi(line, &value)) {
          return value;
        }
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<WaystoneProcess> process_;
  uint16_t port_ = 0;
};

TEST_F(UpstreamIntegrationTest, OriginalDstHeaderPicksTheBackend) {
  auto one = backend("one");
  auto two = backend("two");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  start(bootstrap("original", R"EOF(
  - name: original
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    connect_timeout: 1s
    original_dst_lb_config: { use_http_header: true }
)EOF"));
  for (int round = 0; round < 3; ++round) {
    auto first = get({{"x-envoy-original-dst-host", one->address()}});
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->status, 200);
    EXPECT_EQ(first->body, "one");
    auto second = get({{"x-envoy-original-dst-host", two->address()}});
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->status, 200);
    EXPECT_EQ(second->body, "two");
  }
  EXPECT_EQ(one->requestCount(), 3u);
  EXPECT_EQ(two->requestCount(), 3u);

  // Not an ip:port: no host, Envoy's 503.
  auto invalid = get({{"x-envoy-original-dst-host", "backend.example:80"}});
  ASSERT_TRUE(invalid.ok()) << invalid.status();
  EXPECT_EQ(invalid->status, 503);
  EXPECT_EQ(invalid->body, "no healthy upstream");
  EXPECT_EQ(stat("cluster.original.original_dst_host_invalid"), 1u);
  EXPECT_EQ(stat("cluster.original.upstream_cx_none_healthy"), 1u);
  EXPECT_EQ(stat("cluster.original.upstream_rq_total"), 6u);
}

TEST_F(UpstreamIntegrationTest, StrictDnsKeepsResolvingWhileServing) {
  auto server = backend("dns backend");
  ASSERT_NE(server, nullptr);
  start(bootstrap("dns", absl::StrCat(R"EOF(
  - name: dns
    type: STRICT_DNS
    dns_lookup_family: V4_ONLY
    dns_refresh_rate: 0.05s
    connect_timeout: 1s
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: )EOF",
                                      server->port(), " } }\n")));
  // Refreshes happen on their own, resolve the same addresses and publish nothing.
  ASSERT_TRUE(waitFor(
      [&] {
        auto success = stat("cluster.dns.update_success");
        return success.has_value() && *success >= 4;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(20)));
  EXPECT_GE(stat("cluster.dns.update_no_rebuild").value_or(0), 3u);
  EXPECT_EQ(stat("cluster.dns.update_failure"), 0u);
  EXPECT_EQ(stat("cluster.dns.membership_change"), 1u);
  EXPECT_EQ(stat("cluster.dns.membership_total"), 1u);

  auto response = get();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "dns backend");

  // /clusters lists the current host, named after the DNS name.
  auto clusters = process_->admin("GET", "/clusters");
  ASSERT_TRUE(clusters.ok()) << clusters.status();
  const std::string prefix = absl::StrCat("dns::127.0.0.1:", server->port(), "::");
  EXPECT_TRUE(absl::StrContains(clusters->body, prefix + "hostname::localhost\n"))
      << clusters->body;
  EXPECT_TRUE(absl::StrContains(clusters->body, prefix + "rq_total::1\n")) << clusters->body;
  EXPECT_TRUE(absl::StrContains(clusters->body, prefix + "health_flags::healthy\n"))
      << clusters->body;
}

}  // namespace
}  // namespace waystone::test
