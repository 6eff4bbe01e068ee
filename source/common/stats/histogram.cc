#include "source/common/stats/histogram.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace waystone::stats {

const std::array<uint64_t, Histogram::kNumBounds>& Histogram::integerBounds() {
  static const std::array<uint64_t, kNumBounds> bounds = [] {
    std::array<uint64_t, kNumBounds> result{};
    const std::vector<double>& supported = HistogramStatistics::supportedBuckets();
    for (size_t i = 0; i < kNumBounds; ++i) {
      // floor(): a sample is an integer, so v <= 0.5 exactly when v <= 0.
      result[i] = static_cast<uint64_t>(supported[i]);
    }
    return result;
  }();
  return bounds;
}

Histogram::Histogram(std::string name)
    : Metric(std::move(name)), min_(std::numeric_limits<uint64_t>::max()) {
  for (auto& bucket : buckets_) {
    bucket.store(0, std::memory_order_relaxed);
  }
}

void Histogram::recordValue(uint64_t value) {
  const auto& bounds = integerBounds();
  const size_t index = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  uint64_t current = min_.load(std::memory_order_relaxed);
  while (value < current &&
         !min_.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
  current = max_.load(std::memory_order_relaxed);
  while (value > current &&
         !max_.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
  if (!used_.load(std::memory_order_relaxed)) {
    used_.store(true, std::memory_order_relaxed);
  }
}

HistogramStatistics Histogram::statistics() const {
  std::vector<uint64_t> counts;
  counts.reserve(buckets_.size());
  for (const auto& bucket : buckets_) {
    counts.push_back(bucket.load(std::memory_order_relaxed));
  }
  return HistogramStatistics(counts, sum_.load(std::memory_order_relaxed),
                             min_.load(std::memory_order_relaxed),
                             max_.load(std::memory_order_relaxed));
}

}  // namespace waystone::stats
