#include "source/common/stats/tag_extractor.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace waystone::stats {
namespace {

using testing::HasSubstr;

struct Extracted {
  std::string name;
  TagVector tags;
};

Extracted extractDefault(absl::string_view name) {
  Extracted result;
  result.name = TagExtractor::defaultExtractor()->extract(name, result.tags);
  return result;
}

void expectDefault(absl::string_view name, absl::string_view expected_name,
                   const TagVector& expected_tags) {
  const Extracted extracted = extractDefault(name);
  EXPECT_EQ(extracted.name, expected_name) << name;
  EXPECT_EQ(extracted.tags, expected_tags) << name;
}

TEST(TagExtractorTest, ListenerAddress) {
  expectDefault("listener.0.0.0.0_15090.downstream_cx_total", "listener.downstream_cx_total",
                {{"envoy.listener_address", "0.0.0.0_15090"}});
  expectDefault("listener.[__]_15008.downstream_cx_total", "listener.downstream_cx_total",
                {{"envoy.listener_address", "[__]_15008"}});
  // A listener stat prefix that is not an address is one segment.
  expectDefault("listener.main_internal.downstream_cx_total", "listener.downstream_cx_total",
                {{"envoy.listener_address", "main_internal"}});
}

TEST(TagExtractorTest, AdminListenerIsNotTagged) {
  expectDefault("listener.admin.downstream_cx_total", "listener.admin.downstream_cx_total", {});
}

TEST(TagExtractorTest, ClusterName) {
  expectDefault("cluster.xds-grpc.upstream_cx_total", "cluster.upstream_cx_total",
                {{"envoy.cluster_name", "xds-grpc"}});
  // The default rule takes one segment, as Envoy's does.
  expectDefault("cluster.outbound|80||reviews.default.svc.cluster.local.upstream_cx_total",
                "cluster.default.svc.cluster.local.upstream_cx_total",
                {{"envoy.cluster_name", "outbound|80||reviews"}});
  // "cluster.x" alone has nothing after the name: not a cluster stat.
  expectDefault("cluster.x", "cluster.x", {});
}

TEST(TagExtractorTest, HttpConnectionManagerPrefix) {
  expectDefault("http.inbound_0.0.0.0_80.downstream_rq_total", "http.downstream_rq_total",
                {{"envoy.http_conn_manager_prefix", "inbound_0.0.0.0_80"}});
  expectDefault("http.admin.downstream_rq_total", "http.downstream_rq_total",
                {{"envoy.http_conn_manager_prefix", "admin"}});
  expectDefault("http.connect_terminate.downstream_cx_active", "http.downstream_cx_active",
                {{"envoy.http_conn_manager_prefix", "connect_terminate"}});
}

TEST(TagExtractorTest, ResponseCodesComeFirst) {
  expectDefault("cluster.xds-grpc.upstream_rq_200", "cluster.upstream_rq",
                {{"envoy.response_code", "200"}, {"envoy.cluster_name", "xds-grpc"}});
  expectDefault("cluster.xds-grpc.upstream_rq_2xx", "cluster.upstream_rq_xx",
                {{"envoy.response_code_class", "2"}, {"envoy.cluster_name", "xds-grpc"}});
  expectDefault("http.admin.downstream_rq_5xx", "http.downstream_rq_xx",
                {{"envoy.response_code_class", "5"}, {"envoy.http_conn_manager_prefix", "admin"}});
  // Not a code: four digits, or "_rq_" not at the end.
  expectDefault("cluster.a.upstream_rq_2000", "cluster.upstream_rq_2000",
                {{"envoy.cluster_name", "a"}});
}

TEST(TagExtractorTest, ListenerScopedHttpAndWorker) {
  expectDefault("listener.0.0.0.0_15006.http.inbound_0.0.0.0_80.downstream_rq_2xx",
                "listener.http.downstream_rq_xx",
                {{"envoy.response_code_class", "2"},
                 {"envoy.http_conn_manager_prefix", "inbound_0.0.0.0_80"},
                 {"envoy.listener_address", "0.0.0.0_15006"}});
  expectDefault("listener.0.0.0.0_15090.worker_1.downstream_cx_active",
                "listener.worker_downstream_cx_active",
                {{"envoy.worker_id", "1"}, {"envoy.listener_address", "0.0.0.0_15090"}});
  expectDefault("listener_manager.worker_0.dispatcher.loop_duration_us",
                "listener_manager.worker_dispatcher.loop_duration_us", {{"envoy.worker_id", "0"}});
  expectDefault("server.worker_3.watchdog_miss", "server.worker_watchdog_miss",
                {{"envoy.worker_id", "3"}});
}

TEST(TagExtractorTest, Rbac) {
  expectDefault("http.inbound_0.0.0.0_80.rbac.allowed", "http.rbac.allowed",
                {{"envoy.http_conn_manager_prefix", "inbound_0.0.0.0_80"}});
  expectDefault("http.hcm.rbac.rules1.policy.deny-all.denied", "http.rbac.policy.denied",
                {{"envoy.http_conn_manager_prefix", "hcm"},
                 {"envoy.rbac_policy_name", "deny-all"},
                 {"envoy.rbac_http_prefix", "rules1"}});
  // "policy" right after "rbac." is not a rules prefix.
  expectDefault(
      "http.hcm.rbac.policy.allow-ns.shadow_allowed", "http.rbac.policy.shadow_allowed",
      {{"envoy.http_conn_manager_prefix", "hcm"}, {"envoy.rbac_policy_name", "allow-ns"}});
  // The network filter: <stat_prefix>.rbac.*
  expectDefault("waypoint_rbac.rbac.denied", "rbac.denied",
                {{"envoy.rbac_prefix", "waypoint_rbac"}});
}

TEST(TagExtractorTest, OtherFamilies) {
  expectDefault("tcp.connect_originate.downstream_cx_total", "tcp.downstream_cx_total",
                {{"envoy.tcp_prefix", "connect_originate"}});
  expectDefault("vhost.backend.route.r1.upstream_rq_completed", "vhost.route.upstream_rq_completed",
                {{"envoy.virtual_host", "backend"}, {"envoy.route", "r1"}});
  expectDefault(
      "http.hcm.rds.my.route.config.update_success", "http.rds.update_success",
      {{"envoy.http_conn_manager_prefix", "hcm"}, {"envoy.rds_route_config", "my.route.config"}});
  expectDefault("listener.0.0.0.0_15008.ssl.ciphers.TLS_AES_128_GCM_SHA256", "listener.ssl.ciphers",
                {{"envoy.ssl_cipher", "TLS_AES_128_GCM_SHA256"},
                 {"envoy.listener_address", "0.0.0.0_15008"}});
  expectDefault("cluster.c.ssl.versions.TLSv1.3", "cluster.ssl.versions",
                {{"envoy.ssl_version", "TLSv1.3"}, {"envoy.cluster_name", "c"}});
  expectDefault("ratelimiter.http_local_rate_limit.rate_limited",
                "http_local_rate_limit.rate_limited",
                {{"envoy.local_http_ratelimit_prefix", "ratelimiter"}});
  expectDefault("server.live", "server.live", {});
}

TEST(TagExtractorTest, IstioBootstrapTagsWithLookahead) {
  // Istio's bootstrap stats_tags use std::regex lookahead, which RE2 lacks.
  absl::StatusOr<std::shared_ptr<const TagExtractor>> extractor = TagExtractor::create(
      {{"response_code", R"(_rq(_(\d{3}))$)", ""},
       {"http_conn_manager_listener_prefix",
        R"(^listener(?=\.).*?\.http\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.))", ""},
       {"listener_address", R"(^listener\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.))",
        ""},
       {"mesh", "", "cluster.local"}},
      false);
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  TagVector tags;
  EXPECT_EQ(
      (*extractor)->extract("listener.0.0.0.0_15006.http.10.0.0.1_80.downstream_rq_200", tags),
      "listener.http.downstream_rq");
  EXPECT_EQ(tags, (TagVector{{"mesh", "cluster.local"},
                             {"response_code", "200"},
                             {"http_conn_manager_listener_prefix", "10.0.0.1_80"},
                             {"listener_address", "0.0.0.0_15006"}}));
  // Without the defaults, cluster names are not extracted.
  tags.clear();
  EXPECT_EQ((*extractor)->extract("cluster.a.upstream_cx_total", tags),
            "cluster.a.upstream_cx_total");
  EXPECT_EQ(tags, (TagVector{{"mesh", "cluster.local"}}));
}

TEST(TagExtractorTest, SpecifierSelectingADefaultRuleByName) {
  absl::StatusOr<std::shared_ptr<const TagExtractor>> extractor =
      TagExtractor::create({{"envoy.cluster_name", "", ""}}, false);
  ASSERT_TRUE(extractor.ok()) << extractor.status();
  TagVector tags;
  EXPECT_EQ((*extractor)->extract("cluster.a.upstream_rq_200", tags), "cluster.upstream_rq_200");
  EXPECT_EQ(tags, (TagVector{{"envoy.cluster_name", "a"}}));
}

TEST(TagExtractorTest, Errors) {
  absl::StatusOr<std::shared_ptr<const TagExtractor>> result =
      TagExtractor::create({{"envoy.cluster_name", "^x\\.((.*)\\.)", ""}}, true);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("'envoy.cluster_name'"));

  result = TagExtractor::create({{"bad", "^x\\.((unclosed", ""}}, false);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("'bad'"));

  result = TagExtractor::create({{"nogroup", "^x\\.", ""}}, false);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("capture group"));

  result = TagExtractor::create({{"unknown_tag", "", ""}}, false);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("'unknown_tag'"));
}

}  // namespace
}  // namespace waystone::stats
