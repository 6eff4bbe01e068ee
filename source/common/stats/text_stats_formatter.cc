#include "source/common/stats/text_stats_formatter.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include "source/common/stats/render_filter.h"

namespace waystone::stats {

namespace {

// Envoy escapes text readout values for HTML (its admin pages embed them).
std::string htmlSanitize(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> TextStatsFormatter::render(const Store& store,
                                                       const StatsRenderOptions& options) {
  absl::StatusOr<RenderFilter> filter = RenderFilter::create(options);
  if (!filter.ok()) {
    return filter.status();
  }
  return render(store.snapshot(*filter));
}

std::string TextStatsFormatter::quantileSummary(const HistogramSnapshot& histogram) {
  if (!histogram.used) {
    return "No recorded values";
  }
  const std::vector<double>& quantiles = HistogramStatistics::supportedQuantiles();
  const std::vector<double>& values = histogram.statistics.computedQuantiles();
  std::vector<std::string> parts;
  parts.reserve(quantiles.size());
  for (size_t i = 0; i < quantiles.size(); ++i) {
    parts.push_back(absl::StrFormat("P%g(nan,%s)", 100 * quantiles[i],
                                    HistogramStatistics::formatValue(values[i])));
  }
  return absl::StrJoin(parts, " ");
}

std::string TextStatsFormatter::render(const StoreSnapshot& snapshot) {
  std::string out;
  for (const TextReadoutSnapshot& text_readout : snapshot.text_readouts) {
    absl::StrAppend(&out, text_readout.name, ": \"", htmlSanitize(text_readout.value), "\"\n");
  }
  // Counters and gauges are one list in Envoy's output: merge the two sorted lists.
  size_t c = 0;
  size_t g = 0;
  while (c < snapshot.counters.size() || g < snapshot.gauges.size()) {
    const bool take_counter =
        g == snapshot.gauges.size() ||
        (c < snapshot.counters.size() && snapshot.counters[c].name <= snapshot.gauges[g].name);
    if (take_counter) {
      absl::StrAppend(&out, snapshot.counters[c].name, ": ", snapshot.counters[c].value, "\n");
      ++c;
    } else {
      absl::StrAppend(&out, snapshot.gauges[g].name, ": ", snapshot.gauges[g].value, "\n");
      ++g;
    }
  }
  for (const HistogramSnapshot& histogram : snapshot.histograms) {
    absl::StrAppend(&out, histogram.name, ": ", quantileSummary(histogram), "\n");
  }
  return out;
}

}  // namespace waystone::stats
