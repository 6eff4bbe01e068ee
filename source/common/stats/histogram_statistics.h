#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace waystone::stats {

// A consistent read of one histogram: bucket counts, sample count and sum, and quantiles
// estimated from the buckets. Envoy's default buckets and quantiles, so that /stats and
// /stats/prometheus show what Envoy shows.
class HistogramStatistics {
 public:
  // No samples.
  HistogramStatistics();
  // `bucket_counts` are per-bucket (not cumulative) counts, one per supportedBuckets() bound
  // plus one last for values above the largest bound. min/max are the extreme samples.
  HistogramStatistics(const std::vector<uint64_t>& bucket_counts, uint64_t sum, uint64_t min,
                      uint64_t max);

  // Envoy's default bucket upper bounds: 0.5, 1, 5, 10, 25, ..., 3600000.
  static const std::vector<double>& supportedBuckets();
  // Envoy's quantiles: 0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1.
  static const std::vector<double>& supportedQuantiles();

  // Cumulative counts: element i is the number of samples <= supportedBuckets()[i].
  const std::vector<uint64_t>& computedBuckets() const { return cumulative_buckets_; }
  uint64_t sampleCount() const { return count_; }
  uint64_t sampleSum() const { return sum_; }
  // One value per supported quantile; NaN when there are no samples.
  const std::vector<double>& computedQuantiles() const { return quantiles_; }
  // Estimates quantile q (0..1) by linear interpolation inside the bucket holding it, clamped
  // to the smallest and largest sample. NaN when there are no samples.
  double quantile(double q) const;

  // Formats a quantile the way Envoy's admin does: "nan", integers without a decimal point,
  // otherwise the shortest text that reads back as the same double.
  static std::string formatValue(double value);

 private:
  std::vector<uint64_t> bucket_counts_;       // Per bucket, plus the overflow bucket.
  std::vector<uint64_t> cumulative_buckets_;  // Per supported bound.
  std::vector<double> quantiles_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
};

}  // namespace waystone::stats
