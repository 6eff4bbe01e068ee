#include "source/common/stats/histogram_statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_format.h"

namespace waystone::stats {

// Leaked on purpose (here and below): stats may be read while static destructors run at exit.
const std::vector<double>& HistogramStatistics::supportedBuckets() {
  static const std::vector<double>& buckets = *new std::vector<double>{
      0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
      2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
  return buckets;
}

const std::vector<double>& HistogramStatistics::supportedQuantiles() {
  static const std::vector<double>& quantiles =
      *new std::vector<double>{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};
  return quantiles;
}

HistogramStatistics::HistogramStatistics()
    : HistogramStatistics(std::vector<uint64_t>(supportedBuckets().size() + 1, 0), 0, 0, 0) {}

HistogramStatistics::HistogramStatistics(const std::vector<uint64_t>& bucket_counts, uint64_t sum,
                                         uint64_t min, uint64_t max)
    : bucket_counts_(bucket_counts), sum_(sum), min_(min), max_(max) {
  bucket_counts_.resize(supportedBuckets().size() + 1, 0);
  cumulative_buckets_.reserve(supportedBuckets().size());
  // The count is the sum of the buckets (not a separate counter), so that the +Inf bucket and
  // _count always agree even when samples land while the histogram is being read.
  for (size_t i = 0; i < bucket_counts_.size(); ++i) {
    count_ += bucket_counts_[i];
    if (i < supportedBuckets().size()) {
      cumulative_buckets_.push_back(count_);
    }
  }
  if (count_ > 0 && min_ > max_) {
    // A sample was counted but min/max were not updated yet (a concurrent recordValue):
    // fall back to the range of the non-empty buckets.
    const std::vector<double>& bounds = supportedBuckets();
    size_t first = 0;
    while (bucket_counts_[first] == 0) {
      ++first;
    }
    size_t last = bucket_counts_.size() - 1;
    while (bucket_counts_[last] == 0) {
      --last;
    }
    min_ = first == 0 ? 0 : static_cast<uint64_t>(bounds[first - 1]) + 1;
    max_ = last < bounds.size() ? static_cast<uint64_t>(bounds[last])
                                : static_cast<uint64_t>(bounds.back()) + 1;
  }
  quantiles_.reserve(supportedQuantiles().size());
  for (const double q : supportedQuantiles()) {
    quantiles_.push_back(quantile(q));
  }
}

double HistogramStatistics::quantile(double q) const {
  if (count_ == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double lowest = static_cast<double>(min_);
  const double highest = static_cast<double>(max_);
  if (q <= 0) {
    return lowest;
  }
  if (q >= 1) {
    return highest;
  }
  const std::vector<double>& bounds = supportedBuckets();
  const double rank = q * static_cast<double>(count_);
  double before = 0;
  for (size_t i = 0; i < bucket_counts_.size(); ++i) {
    const double in_bucket = static_cast<double>(bucket_counts_[i]);
    if (in_bucket == 0 || before + in_bucket < rank) {
      before += in_bucket;
      continue;
    }
    // The samples of this bucket are assumed spread evenly between its bounds, narrowed to
    // the observed extremes (which makes one-valued histograms exact).
    double lower = i == 0 ? 0 : bounds[i - 1];
    double upper = i < bounds.size() ? bounds[i] : highest;
    lower = std::clamp(lower, lowest, highest);
    upper = std::clamp(upper, lowest, highest);
    return lower + (upper - lower) * ((rank - before) / in_bucket);
  }
  return highest;
}

std::string HistogramStatistics::formatValue(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    return absl::StrFormat("%.0f", value);
  }
  std::string text = absl::StrFormat("%.15g", value);
  if (std::strtod(text.c_str(), nullptr) != value) {
    text = absl::StrFormat("%.17g", value);
  }
  return text;
}

}  // namespace waystone::stats
