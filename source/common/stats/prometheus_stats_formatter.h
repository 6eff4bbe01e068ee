#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/stats/stats_render_options.h"
#include "source/common/stats/store.h"
#include "source/common/stats/store_snapshot.h"
#include "source/common/stats/tag_extractor.h"

namespace waystone::stats {

// Envoy's admin /stats/prometheus (Prometheus text exposition format 0.0.4):
//   # TYPE envoy_cluster_upstream_cx_total counter
//   envoy_cluster_upstream_cx_total{envoy_cluster_name="xds-grpc"} 3
//   # TYPE envoy_server_live gauge
//   envoy_server_live{} 1
//   # TYPE envoy_cluster_upstream_cx_length_ms histogram
//   envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="a",le="0.5"} 0
//   ... le="3600000", le="+Inf", then _sum and _count.
// Names are the tag-extracted names, "envoy_"-prefixed, with every character outside
// [a-zA-Z0-9_] turned into '_'. Counters, then gauges, then histograms; within each type one
// "# TYPE" line per family (sorted by name) followed by all its samples, sorted by their tags.
// Text readouts are not exported (as Envoy's default).
class PrometheusStatsFormatter {
 public:
  // InvalidArgument if options.filter is not a valid RE2 pattern. The filter and used_only
  // apply to the full stat names, as in Envoy.
  static absl::StatusOr<std::string> render(const Store& store, const StatsRenderOptions& options);
  static std::string render(const StoreSnapshot& snapshot);

  // Replaces characters outside [a-zA-Z0-9_] with '_' (and prefixes '_' to a leading digit).
  static std::string sanitizeName(absl::string_view name);
  // Escapes '\\', '"' and newline as the exposition format requires for label values.
  static std::string escapeLabelValue(absl::string_view value);
  // The Prometheus name of a family: "envoy_<sanitized>", or for a name in a custom namespace
  // the name without the namespace, as is; nullopt if that is not a valid Prometheus name.
  static std::optional<std::string> metricName(absl::string_view tag_extracted_name,
                                               const std::vector<std::string>& custom_namespaces);
  // `name="value",...` (a label repeated by overlapping rules is written once).
  static std::string formatTags(const TagVector& tags);
};

}  // namespace waystone::stats
