#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/stats/stats_render_options.h"
#include "source/common/stats/store.h"
#include "source/common/stats/store_snapshot.h"

namespace waystone::stats {

// Envoy's admin /stats?format=json:
//   {"stats":[{"name":"server.version","value":"1.2.3"},{"name":"c","value":3},...,
//     {"histograms":{"supported_quantiles":[0,25,50,75,90,95,99,99.5,99.9,100],
//       "computed_quantiles":[{"name":"h","values":[{"interval":null,"cumulative":1},...]}]}}]}
// Text readouts, then counters and gauges sorted by name, then (only if there are any) the
// histograms element. Unknown quantiles (no samples; intervals, which Waystone does not flush)
// are null.
class JsonStatsFormatter {
 public:
  // InvalidArgument if options.filter is not a valid RE2 pattern.
  static absl::StatusOr<std::string> render(const Store& store, const StatsRenderOptions& options);
  static std::string render(const StoreSnapshot& snapshot);
  // A JSON string literal, quotes included.
  static std::string quote(absl::string_view text);
};

}  // namespace waystone::stats
