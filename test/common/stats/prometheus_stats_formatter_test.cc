#include "source/common/stats/prometheus_stats_formatter.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

#include "source/common/stats/store.h"

namespace waystone::stats {
namespace {

using testing::HasSubstr;
using testing::Not;

std::string render(const Store& store, const StatsRenderOptions& options = {}) {
  absl::StatusOr<std::string> text = PrometheusStatsFormatter::render(store, options);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// Checks the exposition format: every line is a TYPE line or a sample of the family declared
// by the last TYPE line, and no family is declared twice.
void expectWellFormed(const std::string& text) {
  ASSERT_TRUE(text.empty() || text.back() == '\n');
  const std::string label = R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
  const RE2 type_line(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const RE2 sample_line(
      absl::StrCat(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)\{(?:)", label, "(?:,", label, R"()*)?\} \d+)"));
  ASSERT_TRUE(sample_line.ok()) << sample_line.error();
  std::set<std::string> families;
  std::string family;
  std::string type;
  const std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    std::string name;
    std::string declared_type;
    if (RE2::FullMatch(line, type_line, &name, &declared_type)) {
      EXPECT_TRUE(families.insert(name).second) << "family declared twice: " << name;
      family = name;
      type = declared_type;
      continue;
    }
    std::string sample_name;
    ASSERT_TRUE(RE2::FullMatch(line, sample_line, &sample_name)) << line;
    if (type == "histogram") {
      EXPECT_TRUE(sample_name == family + "_bucket" || sample_name == family + "_sum" ||
                  sample_name == family + "_count")
          << line;
    } else {
      EXPECT_EQ(sample_name, family) << line;
    }
  }
}

TEST(PrometheusStatsFormatterTest, EnvoyNamesAndTags) {
  Store store;
  store.counterFromString("listener.0.0.0.0_15090.downstream_cx_total").add(5);
  store.counterFromString("cluster.xds-grpc.upstream_cx_total").add(2);
  store.counterFromString("http.inbound_0.0.0.0_80.downstream_rq_total").add(7);
  store.counterFromString("listener.admin.downstream_cx_total").add(1);
  store.gaugeFromString("server.live").set(1);
  const std::string text = render(store);
  EXPECT_EQ(text,
            "# TYPE envoy_cluster_upstream_cx_total counter\n"
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"xds-grpc\"} 2\n"
            "# TYPE envoy_http_downstream_rq_total counter\n"
            "envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix=\"inbound_0.0.0.0_80\"} "
            "7\n"
            "# TYPE envoy_listener_admin_downstream_cx_total counter\n"
            "envoy_listener_admin_downstream_cx_total{} 1\n"
            "# TYPE envoy_listener_downstream_cx_total counter\n"
            "envoy_listener_downstream_cx_total{envoy_listener_address=\"0.0.0.0_15090\"} 5\n"
            "# TYPE envoy_server_live gauge\n"
            "envoy_server_live{} 1\n");
  expectWellFormed(text);
}

TEST(PrometheusStatsFormatterTest, FamiliesAreContiguousAndSortedByTags) {
  Store store;
  // Created interleaved on purpose.
  store.counterFromString("cluster.b.upstream_rq_200").add(1);
  store.counterFromString("cluster.a.upstream_cx_total").add(2);
  store.counterFromString("cluster.a.upstream_rq_503").add(3);
  store.counterFromString("cluster.b.upstream_cx_total").add(4);
  store.counterFromString("cluster.a.upstream_rq_200").add(5);
  const std::string text = render(store);
  EXPECT_EQ(text,
            "# TYPE envoy_cluster_upstream_cx_total counter\n"
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\"} 2\n"
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 4\n"
            "# TYPE envoy_cluster_upstream_rq counter\n"
            "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"a\"} 5\n"
            "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"b\"} 1\n"
            "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"a\"} 3\n");
  expectWellFormed(text);
}

TEST(PrometheusStatsFormatterTest, HistogramBucketsSumAndCount) {
  Store store;
  Histogram& histogram = store.histogramFromString("cluster.a.upstream_cx_length_ms");
  for (const uint64_t value : {0u, 1u, 7u, 7u, 100u, 5000000u}) {
    histogram.recordValue(value);
  }
  store.histogramFromString("server.initialization_time_ms");
  const std::string text = render(store);
  const std::string a = "envoy_cluster_upstream_cx_length_ms";
  const std::string tags = "envoy_cluster_name=\"a\"";
  std::string expected = "# TYPE " + a + " histogram\n";
  const std::vector<std::pair<std::string, int>> buckets = {
      {"0.5", 1},    {"1", 2},      {"5", 2},       {"10", 4},     {"25", 4},
      {"50", 4},     {"100", 5},    {"250", 5},     {"500", 5},    {"1000", 5},
      {"2500", 5},   {"5000", 5},   {"10000", 5},   {"30000", 5},  {"60000", 5},
      {"300000", 5}, {"600000", 5}, {"1800000", 5}, {"3600000", 5}};
  for (const auto& [le, count] : buckets) {
    expected += absl::StrCat(a, "_bucket{", tags, ",le=\"", le, "\"} ", count, "\n");
  }
  expected += absl::StrCat(a, "_bucket{", tags, ",le=\"+Inf\"} 6\n");
  expected += absl::StrCat(a, "_sum{", tags, "} 5000115\n");
  expected += absl::StrCat(a, "_count{", tags, "} 6\n");
  EXPECT_THAT(text, HasSubstr(expected));
  // An untagged, empty histogram: no tag prefix before le, zero counts.
  EXPECT_THAT(text, HasSubstr("# TYPE envoy_server_initialization_time_ms histogram\n"
                              "envoy_server_initialization_time_ms_bucket{le=\"0.5\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("envoy_server_initialization_time_ms_bucket{le=\"+Inf\"} 0\n"
                              "envoy_server_initialization_time_ms_sum{} 0\n"
                              "envoy_server_initialization_time_ms_count{} 0\n"));
  expectWellFormed(text);
}

TEST(PrometheusStatsFormatterTest, UsedOnlyAndFilterApplyToFullNames) {
  Store store;
  store.counterFromString("cluster.a.upstream_cx_total").inc();
  store.counterFromString("cluster.b.upstream_cx_total");
  store.gaugeFromString("cluster.a.upstream_cx_active").set(3);
  store.histogramFromString("cluster.a.upstream_cx_length_ms");
  StatsRenderOptions options;
  options.used_only = true;
  EXPECT_EQ(render(store, options),
            "# TYPE envoy_cluster_upstream_cx_total counter\n"
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\"} 1\n"
            "# TYPE envoy_cluster_upstream_cx_active gauge\n"
            "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"a\"} 3\n");
  options.used_only = false;
  // The filter sees "cluster.b...", not the tag-extracted name.
  options.filter = "cluster\\.b\\.";
  EXPECT_EQ(render(store, options),
            "# TYPE envoy_cluster_upstream_cx_total counter\n"
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 0\n");
  options.filter = "(";
  const absl::StatusOr<std::string> bad = PrometheusStatsFormatter::render(store, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrometheusStatsFormatterTest, NamesSanitizedAndLabelValuesEscaped) {
  Store store;
  store.counterFromString("cluster.we\"ird\\name.upstream_cx_total").inc();
  store.counterFromString("my-filter.some:stat").inc();
  store.counterFromStringWithTags("custom.requests", {{"path", "/a\nb"}, {"1bad-label", "x"}})
      .inc();
  const std::string text = render(store);
  EXPECT_THAT(text, HasSubstr("envoy_cluster_upstream_cx_total{envoy_cluster_name="
                              "\"we\\\"ird\\\\name\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE envoy_my_filter_some_stat counter\n"
                              "envoy_my_filter_some_stat{} 1\n"));
  EXPECT_THAT(text, HasSubstr("envoy_custom_requests{path=\"/a\\nb\",_1bad_label=\"x\"} 1\n"));
  expectWellFormed(text);
}

TEST(PrometheusStatsFormatterTest, CustomNamespaceHasNoEnvoyPrefix) {
  Store store;
  store.addCustomNamespace("istio");
  store
      .counterFromStringWithTags("istio.istio_requests_total",
                                 {{"reporter", "waypoint"}, {"response_code", "200"}})
      .add(4);
  store
      .counterFromStringWithTags("istio.istio_requests_total",
                                 {{"reporter", "waypoint"}, {"response_code", "404"}})
      .add(1);
  store.counterFromString("istio.not-valid").inc();
  const std::string text = render(store);
  EXPECT_EQ(text,
            "# TYPE istio_requests_total counter\n"
            "istio_requests_total{reporter=\"waypoint\",response_code=\"200\"} 4\n"
            "istio_requests_total{reporter=\"waypoint\",response_code=\"404\"} 1\n");
  expectWellFormed(text);
}

TEST(PrometheusStatsFormatterTest, CollidingFamiliesAreDeclaredOnce) {
  Store store;
  store.counterFromString("a.b").inc();
  store.counterFromString("a_b").add(2);
  store.gaugeFromString("a.b").set(3);
  const std::string text = render(store);
  EXPECT_EQ(text,
            "# TYPE envoy_a_b counter\n"
            "envoy_a_b{} 1\n"
            "envoy_a_b{} 2\n");
  expectWellFormed(text);
  EXPECT_THAT(text, Not(HasSubstr("gauge")));
}

TEST(PrometheusStatsFormatterTest, Helpers) {
  EXPECT_EQ(PrometheusStatsFormatter::sanitizeName("a.b-c:d/e"), "a_b_c_d_e");
  EXPECT_EQ(PrometheusStatsFormatter::escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(PrometheusStatsFormatter::metricName("cluster.upstream_rq", {}),
            "envoy_cluster_upstream_rq");
  EXPECT_EQ(PrometheusStatsFormatter::metricName("istio.x_total", {"istio"}), "x_total");
  EXPECT_EQ(PrometheusStatsFormatter::metricName("istio.1x", {"istio"}), std::nullopt);
  EXPECT_EQ(PrometheusStatsFormatter::metricName("istiox.y", {"istio"}), "envoy_istiox_y");
}

}  // namespace
}  // namespace waystone::stats
