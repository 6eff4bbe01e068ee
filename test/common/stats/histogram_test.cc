#include "source/common/stats/histogram.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "source/common/stats/histogram_statistics.h"

namespace waystone::stats {
namespace {

TEST(HistogramTest, EnvoyDefaultBuckets) {
  const std::vector<double> expected = {0.5,   1,      5,      10,      25,     50,    100,
                                        250,   500,    1000,   2500,    5000,   10000, 30000,
                                        60000, 300000, 600000, 1800000, 3600000};
  EXPECT_EQ(HistogramStatistics::supportedBuckets(), expected);
  EXPECT_EQ(HistogramStatistics::supportedBuckets().size(), Histogram::kNumBounds);
}

TEST(HistogramTest, EmptyHistogram) {
  Histogram histogram("h");
  EXPECT_FALSE(histogram.used());
  const HistogramStatistics statistics = histogram.statistics();
  EXPECT_EQ(statistics.sampleCount(), 0u);
  EXPECT_EQ(statistics.sampleSum(), 0u);
  for (const uint64_t bucket : statistics.computedBuckets()) {
    EXPECT_EQ(bucket, 0u);
  }
  for (const double q : statistics.computedQuantiles()) {
    EXPECT_TRUE(std::isnan(q));
  }
}

TEST(HistogramTest, BucketBoundariesAreInclusive) {
  Histogram histogram("h");
  // 0 -> le 0.5; 1 -> le 1; 5 -> le 5; 6 -> le 10; 3600000 -> last; above -> only +Inf.
  for (const uint64_t value : {0u, 1u, 5u, 6u, 3600000u, 3600001u}) {
    histogram.recordValue(value);
  }
  EXPECT_TRUE(histogram.used());
  const HistogramStatistics statistics = histogram.statistics();
  const std::vector<uint64_t>& cumulative = statistics.computedBuckets();
  ASSERT_EQ(cumulative.size(), 19u);
  EXPECT_EQ(cumulative[0], 1u);   // le 0.5
  EXPECT_EQ(cumulative[1], 2u);   // le 1
  EXPECT_EQ(cumulative[2], 3u);   // le 5
  EXPECT_EQ(cumulative[3], 4u);   // le 10
  EXPECT_EQ(cumulative[17], 4u);  // le 1800000
  EXPECT_EQ(cumulative[18], 5u);  // le 3600000
  EXPECT_EQ(statistics.sampleCount(), 6u);
  EXPECT_EQ(statistics.sampleSum(), 0u + 1 + 5 + 6 + 3600000 + 3600001);
}

TEST(HistogramTest, QuantilesOfASingleValueAreExact) {
  Histogram histogram("h");
  histogram.recordValue(7);
  const HistogramStatistics statistics = histogram.statistics();
  for (const double q : statistics.computedQuantiles()) {
    EXPECT_DOUBLE_EQ(q, 7);
  }
}

TEST(HistogramTest, QuantilesInterpolateInsideBuckets) {
  Histogram histogram("h");
  for (uint64_t v = 1; v <= 100; ++v) {
    histogram.recordValue(v);
  }
  const HistogramStatistics statistics = histogram.statistics();
  EXPECT_DOUBLE_EQ(statistics.quantile(0), 1);
  EXPECT_DOUBLE_EQ(statistics.quantile(0.5), 50);
  EXPECT_DOUBLE_EQ(statistics.quantile(0.9), 90);
  EXPECT_DOUBLE_EQ(statistics.quantile(1), 100);
  // Monotonic over the supported quantiles.
  const std::vector<double>& quantiles = statistics.computedQuantiles();
  for (size_t i = 1; i < quantiles.size(); ++i) {
    EXPECT_LE(quantiles[i - 1], quantiles[i]);
  }
}

TEST(HistogramTest, OverflowQuantilesUseTheMaximum) {
  Histogram histogram("h");
  histogram.recordValue(5000000);
  histogram.recordValue(7000000);
  const HistogramStatistics statistics = histogram.statistics();
  EXPECT_DOUBLE_EQ(statistics.quantile(1), 7000000);
  EXPECT_DOUBLE_EQ(statistics.quantile(0), 5000000);
  EXPECT_GE(statistics.quantile(0.5), 5000000);
  EXPECT_LE(statistics.quantile(0.5), 7000000);
}

TEST(HistogramTest, FormatValue) {
  EXPECT_EQ(HistogramStatistics::formatValue(std::nan("")), "nan");
  EXPECT_EQ(HistogramStatistics::formatValue(7), "7");
  EXPECT_EQ(HistogramStatistics::formatValue(1050000), "1050000");
  EXPECT_EQ(HistogramStatistics::formatValue(2.5), "2.5");
  EXPECT_EQ(HistogramStatistics::formatValue(0.1), "0.1");
}

}  // namespace
}  // namespace waystone::stats
