#include "source/common/stats/json_stats_formatter.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include "source/common/common/json_escape.h"
#include "source/common/stats/render_filter.h"

namespace waystone::stats {

namespace {

std::string jsonNumber(double value) {
  return std::isnan(value) ? "null" : HistogramStatistics::formatValue(value);
}

}  // namespace

std::string JsonStatsFormatter::quote(absl::string_view text) { return jsonQuote(text); }

absl::StatusOr<std::string> JsonStatsFormatter::render(const Store& store,
                                                       const StatsRenderOptions& options) {
  absl::StatusOr<RenderFilter> filter = RenderFilter::create(options);
  if (!filter.ok()) {
    return filter.status();
  }
  return render(store.snapshot(*filter));
}

std::string JsonStatsFormatter::render(const StoreSnapshot& snapshot) {
  std::vector<std::string> elements;
  elements.reserve(snapshot.text_readouts.size() + snapshot.counters.size() +
                   snapshot.gauges.size() + 1);
  for (const TextReadoutSnapshot& text_readout : snapshot.text_readouts) {
    elements.push_back(absl::StrCat("{\"name\":", quote(text_readout.name),
                                    ",\"value\":", quote(text_readout.value), "}"));
  }
  size_t c = 0;
  size_t g = 0;
  while (c < snapshot.counters.size() || g < snapshot.gauges.size()) {
    const bool take_counter =
        g == snapshot.gauges.size() ||
        (c < snapshot.counters.size() && snapshot.counters[c].name <= snapshot.gauges[g].name);
    const MetricSnapshot& metric = take_counter
                                       ? static_cast<const MetricSnapshot&>(snapshot.counters[c])
                                       : static_cast<const MetricSnapshot&>(snapshot.gauges[g]);
    const uint64_t value = take_counter ? snapshot.counters[c++].value : snapshot.gauges[g++].value;
    elements.push_back(absl::StrCat("{\"name\":", quote(metric.name), ",\"value\":", value, "}"));
  }
  if (!snapshot.histograms.empty()) {
    std::vector<std::string> supported;
    for (const double q : HistogramStatistics::supportedQuantiles()) {
      // %g: 100 * 0.995 is not exactly 99.5 in binary.
      supported.push_back(absl::StrFormat("%g", 100 * q));
    }
    std::vector<std::string> computed;
    computed.reserve(snapshot.histograms.size());
    for (const HistogramSnapshot& histogram : snapshot.histograms) {
      std::vector<std::string> values;
      for (const double value : histogram.statistics.computedQuantiles()) {
        values.push_back(
            absl::StrCat("{\"interval\":null,\"cumulative\":", jsonNumber(value), "}"));
      }
      computed.push_back(absl::StrCat("{\"name\":", quote(histogram.name), ",\"values\":[",
                                      absl::StrJoin(values, ","), "]}"));
    }
    elements.push_back(absl::StrCat("{\"histograms\":{\"supported_quantiles\":[",
                                    absl::StrJoin(supported, ","), "],\"computed_quantiles\":[",
                                    absl::StrJoin(computed, ","), "]}}"));
  }
  return absl::StrCat("{\"stats\":[", absl::StrJoin(elements, ","), "]}");
}

}  // namespace waystone::stats
