#include "source/common/stats/text_stats_formatter.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/stats/store.h"

namespace waystone::stats {
namespace {

using testing::HasSubstr;

class TextStatsFormatterTest : public testing::Test {
 protected:
  void SetUp() override {
    store_.counterFromString("cluster.b.upstream_cx_total").add(3);
    store_.gaugeFromString("cluster.a.upstream_cx_active").set(2);
    store_.counterFromString("cluster.a.upstream_cx_total").add(1);
    store_.counterFromString("cluster.a.upstream_cx_unused");
    store_.textReadoutFromString("server.version").set("1.0 <\"dev\">");
    store_.histogramFromString("cluster.a.upstream_cx_length_ms").recordValue(7);
    store_.histogramFromString("cluster.a.upstream_rq_time");
  }

  std::string render(const StatsRenderOptions& options) {
    absl::StatusOr<std::string> text = TextStatsFormatter::render(store_, options);
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  Store store_;
};

TEST_F(TextStatsFormatterTest, EverythingInEnvoyOrder) {
  EXPECT_EQ(render({}),
            "server.version: \"1.0 &lt;&quot;dev&quot;&gt;\"\n"
            "cluster.a.upstream_cx_active: 2\n"
            "cluster.a.upstream_cx_total: 1\n"
            "cluster.a.upstream_cx_unused: 0\n"
            "cluster.b.upstream_cx_total: 3\n"
            "cluster.a.upstream_cx_length_ms: P0(nan,7) P25(nan,7) P50(nan,7) P75(nan,7) "
            "P90(nan,7) P95(nan,7) P99(nan,7) P99.5(nan,7) P99.9(nan,7) P100(nan,7)\n"
            "cluster.a.upstream_rq_time: No recorded values\n");
}

TEST_F(TextStatsFormatterTest, UsedOnly) {
  StatsRenderOptions options;
  options.used_only = true;
  const std::string text = render(options);
  EXPECT_THAT(text, testing::Not(HasSubstr("upstream_cx_unused")));
  EXPECT_THAT(text, testing::Not(HasSubstr("upstream_rq_time")));
  EXPECT_THAT(text, HasSubstr("cluster.b.upstream_cx_total: 3\n"));
  EXPECT_THAT(text, HasSubstr("cluster.a.upstream_cx_length_ms: P0(nan,7)"));
}

TEST_F(TextStatsFormatterTest, FilterIsAPartialMatch) {
  StatsRenderOptions options;
  options.filter = "cx_total";
  EXPECT_EQ(render(options),
            "cluster.a.upstream_cx_total: 1\n"
            "cluster.b.upstream_cx_total: 3\n");
  options.filter = "^cluster\\.a\\.upstream_cx_(active|length)";
  EXPECT_EQ(render(options),
            "cluster.a.upstream_cx_active: 2\n"
            "cluster.a.upstream_cx_length_ms: P0(nan,7) P25(nan,7) P50(nan,7) P75(nan,7) "
            "P90(nan,7) P95(nan,7) P99(nan,7) P99.5(nan,7) P99.9(nan,7) P100(nan,7)\n");
}

TEST_F(TextStatsFormatterTest, TypeSelection) {
  StatsRenderOptions options;
  options.type = StatsRenderOptions::Type::Gauges;
  EXPECT_EQ(render(options), "cluster.a.upstream_cx_active: 2\n");
  options.type = StatsRenderOptions::Type::Histograms;
  options.used_only = true;
  EXPECT_THAT(render(options), testing::StartsWith("cluster.a.upstream_cx_length_ms: P0(nan,7)"));
  options.type = StatsRenderOptions::Type::Counters;
  options.filter = "cluster\\.b";
  EXPECT_EQ(render(options), "cluster.b.upstream_cx_total: 3\n");
}

TEST_F(TextStatsFormatterTest, InvalidRegexIsAnError) {
  StatsRenderOptions options;
  options.filter = "cluster.(a";
  const absl::StatusOr<std::string> text = TextStatsFormatter::render(store_, options);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("cluster.(a"));
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("missing )"));
}

TEST_F(TextStatsFormatterTest, QuantilesFromSeveralBuckets) {
  Store store;
  Histogram& histogram = store.histogramFromString("h");
  for (uint64_t v = 1; v <= 100; ++v) {
    histogram.recordValue(v);
  }
  absl::StatusOr<std::string> text = TextStatsFormatter::render(store, {});
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("h: P0(nan,1) P25(nan,25) P50(nan,50) P75(nan,75) P90(nan,90) "));
  EXPECT_THAT(*text, HasSubstr(" P100(nan,100)\n"));
}

}  // namespace
}  // namespace waystone::stats
