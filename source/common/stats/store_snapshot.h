#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "source/common/stats/histogram_statistics.h"
#include "source/common/stats/tag_extractor.h"

namespace waystone::stats {

// What every snapshot entry has: the full name, the tag-extracted name with its tags (for
// Prometheus) and Envoy's "used" flag.
struct MetricSnapshot {
  std::string name;
  std::string tag_extracted_name;
  TagVector tags;
  bool used = false;
};

struct CounterSnapshot : MetricSnapshot {
  uint64_t value = 0;
};

struct GaugeSnapshot : MetricSnapshot {
  uint64_t value = 0;
};

struct TextReadoutSnapshot : MetricSnapshot {
  std::string value;
};

struct HistogramSnapshot : MetricSnapshot {
  HistogramStatistics statistics;
};

// A copy of the store's stats for rendering, each list sorted by full name. Formatters work on
// this, so rendering never holds the store's lock.
struct StoreSnapshot {
  std::vector<CounterSnapshot> counters;
  std::vector<GaugeSnapshot> gauges;
  std::vector<TextReadoutSnapshot> text_readouts;
  std::vector<HistogramSnapshot> histograms;
  // Prefixes of stats exposed to Prometheus without "envoy_" (Envoy's custom stat namespaces,
  // e.g. "istio" for istio_requests_total).
  std::vector<std::string> custom_namespaces;
};

}  // namespace waystone::stats
