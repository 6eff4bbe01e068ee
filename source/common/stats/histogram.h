#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "source/common/stats/histogram_statistics.h"
#include "source/common/stats/metric.h"

namespace waystone::stats {

// A distribution of uint64 samples (latencies in ms, sizes in bytes) over Envoy's default
// buckets. recordValue() is a handful of relaxed atomic operations: one bucket, the sum, and
// the min/max (a compare-exchange only while the extreme changes).
class Histogram : public Metric {
 public:
  static constexpr size_t kNumBounds = 19;

  explicit Histogram(std::string name);

  void recordValue(uint64_t value);
  bool used() const { return used_.load(std::memory_order_relaxed); }
  // A read of the buckets, count, sum and quantiles.
  HistogramStatistics statistics() const;

 private:
  // Integer upper bounds of the supported buckets: a uint64 sample v belongs to the first
  // bucket whose bound b has v <= b. The 0.5 bucket holds exactly the zeros, so it is 0 here.
  static const std::array<uint64_t, kNumBounds>& integerBounds();

  std::array<std::atomic<uint64_t>, kNumBounds + 1> buckets_;  // Last: above every bound.
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> min_;
  std::atomic<uint64_t> max_{0};
  std::atomic<bool> used_{false};
};

}  // namespace waystone::stats
