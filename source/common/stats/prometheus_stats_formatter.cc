#include "source/common/stats/prometheus_stats_formatter.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

#include "source/common/stats/histogram_statistics.h"
#include "source/common/stats/render_filter.h"

namespace waystone::stats {

namespace {

bool isNameChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Groups the metrics of one type into families and appends them. `sample` appends the sample
// lines of one metric. `emitted` holds the family names written so far: a second family with
// the same name (say a gauge named like a counter) is skipped, because a repeated "# TYPE"
// makes Prometheus reject the whole scrape.
template <class S, class SampleFn>
void renderType(const std::vector<S>& metrics, absl::string_view type,
                const std::vector<std::string>& custom_namespaces,
                absl::flat_hash_set<std::string>& emitted, std::string& out, SampleFn sample) {
  std::map<std::string, std::vector<const S*>> families;
  for (const S& metric : metrics) {
    std::optional<std::string> name =
        PrometheusStatsFormatter::metricName(metric.tag_extracted_name, custom_namespaces);
    if (name.has_value()) {
      families[*name].push_back(&metric);
    }
  }
  for (auto& [name, members] : families) {
    if (!emitted.insert(name).second) {
      continue;
    }
    absl::StrAppend(&out, "# TYPE ", name, " ", type, "\n");
    // Sorted by tags for a stable output between scrapes (Envoy's order), then by name.
    std::sort(members.begin(), members.end(), [](const S* a, const S* b) {
      return std::tie(a->tags, a->name) < std::tie(b->tags, b->name);
    });
    for (const S* metric : members) {
      sample(out, name, *metric);
    }
  }
}

}  // namespace

std::string PrometheusStatsFormatter::sanitizeName(absl::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  if (!name.empty() && absl::ascii_isdigit(static_cast<unsigned char>(name.front()))) {
    out.push_back('_');
  }
  for (const char c : name) {
    out.push_back(isNameChar(c) ? c : '_');
  }
  return out;
}

std::string PrometheusStatsFormatter::escapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> PrometheusStatsFormatter::metricName(
    absl::string_view tag_extracted_name, const std::vector<std::string>& custom_namespaces) {
  for (const std::string& name_space : custom_namespaces) {
    absl::string_view stripped = tag_extracted_name;
    if (absl::ConsumePrefix(&stripped, name_space) && absl::ConsumePrefix(&stripped, ".")) {
      // Exposed as the user named it, so it must already be a valid Prometheus name.
      if (stripped.empty() || absl::ascii_isdigit(static_cast<unsigned char>(stripped.front())) ||
          !std::all_of(stripped.begin(), stripped.end(), isNameChar)) {
        return std::nullopt;
      }
      return std::string(stripped);
    }
  }
  return absl::StrCat("envoy_", sanitizeName(tag_extracted_name));
}

std::string PrometheusStatsFormatter::formatTags(const TagVector& tags) {
  std::string out;
  absl::flat_hash_set<std::string> seen;
  for (const Tag& tag : tags) {
    std::string label = sanitizeName(tag.name);
    if (!seen.insert(label).second) {
      continue;
    }
    absl::StrAppend(&out, out.empty() ? "" : ",", label, "=\"", escapeLabelValue(tag.value), "\"");
  }
  return out;
}

absl::StatusOr<std::string> PrometheusStatsFormatter::render(const Store& store,
                                                             const StatsRenderOptions& options) {
  absl::StatusOr<RenderFilter> filter = RenderFilter::create(options);
  if (!filter.ok()) {
    return filter.status();
  }
  return render(store.snapshot(*filter));
}

std::string PrometheusStatsFormatter::render(const StoreSnapshot& snapshot) {
  std::string out;
  absl::flat_hash_set<std::string> emitted;
  const auto scalar_sample = [](std::string& output, const std::string& name, const auto& metric) {
    absl::StrAppend(&output, name, "{", formatTags(metric.tags), "} ", metric.value, "\n");
  };
  renderType(snapshot.counters, "counter", snapshot.custom_namespaces, emitted, out, scalar_sample);
  renderType(snapshot.gauges, "gauge", snapshot.custom_namespaces, emitted, out, scalar_sample);
  renderType(snapshot.histograms, "histogram", snapshot.custom_namespaces, emitted, out,
             [](std::string& output, const std::string& name, const HistogramSnapshot& metric) {
               const std::string tags = formatTags(metric.tags);
               const std::string bucket_tags = tags.empty() ? "" : absl::StrCat(tags, ",");
               const HistogramStatistics& statistics = metric.statistics;
               const std::vector<double>& bounds = HistogramStatistics::supportedBuckets();
               const std::vector<uint64_t>& cumulative = statistics.computedBuckets();
               for (size_t i = 0; i < bounds.size(); ++i) {
                 // %.32g: fixed-point for every default bound ("0.5", "3600000"), as Envoy.
                 absl::StrAppendFormat(&output, "%s_bucket{%sle=\"%.32g\"} %d\n", name, bucket_tags,
                                       bounds[i], cumulative[i]);
               }
               absl::StrAppend(&output, name, "_bucket{", bucket_tags, "le=\"+Inf\"} ",
                               statistics.sampleCount(), "\n");
               absl::StrAppend(&output, name, "_sum{", tags, "} ", statistics.sampleSum(), "\n");
               absl::StrAppend(&output, name, "_count{", tags, "} ", statistics.sampleCount(),
                               "\n");
             });
  return out;
}

}  // namespace waystone::stats
