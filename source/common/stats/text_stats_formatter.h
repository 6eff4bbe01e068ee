#pragma once

#include <string>

#include "absl/status/statusor.h"

#include "source/common/stats/stats_render_options.h"
#include "source/common/stats/store.h"
#include "source/common/stats/store_snapshot.h"

namespace waystone::stats {

// Envoy's admin /stats text format:
//   server.version: "1.2.3"                 (text readouts, first)
//   cluster.a.upstream_cx_total: 3          (counters and gauges, merged, sorted by name)
//   cluster.a.upstream_cx_length_ms: P0(nan,1) P25(nan,1.5) ... P100(nan,9)   (histograms)
//   http.x.downstream_rq_time: No recorded values
// The first number of each quantile pair is Envoy's interval value; Waystone does not flush
// intervals, so it is always nan. The second is over the whole process lifetime.
class TextStatsFormatter {
 public:
  // InvalidArgument if options.filter is not a valid RE2 pattern.
  static absl::StatusOr<std::string> render(const Store& store, const StatsRenderOptions& options);
  // Renders everything in an already filtered snapshot.
  static std::string render(const StoreSnapshot& snapshot);
  // "P0(nan,1) P25(nan,1.5) ..." or "No recorded values".
  static std::string quantileSummary(const HistogramSnapshot& histogram);
};

}  // namespace waystone::stats
