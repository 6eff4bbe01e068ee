#pragma once

// Waystone's stats, compatible with Envoy's names and admin output.
//
// Design choices:
// - Creating a stat is rare (config load, first use of a cluster or listener) and takes the
//   Store's mutex. Using one is the hot path: callers look a stat up once, keep the reference
//   (the object never moves and lives as long as the Store), and inc()/add()/recordValue() are
//   relaxed atomic operations: no lock, no allocation, no ordering cost. Relaxed is enough
//   because readers (admin, scrapes) only need each value eventually, not in order with other
//   memory.
// - Shared atomics are contended when several workers bump the same stat. That is fine at the
//   current scale; if profiles show it, per-worker shards of the same objects, summed in
//   snapshot(), fit behind this API without changing callers.
// - The exposition is our own rather than prometheus-cpp's: Prometheus names must be Envoy's
//   (envoy_ prefix, tag-extracted names, Envoy's default tag rules and label order, "{}" on
//   untagged samples, cumulative histogram buckets with Envoy's bounds) so that Istio's
//   dashboards and pilot-agent's stats merging see what they see with Envoy, and the same data
//   must also render as Envoy's /stats text and JSON. A registry of our own also avoids
//   prometheus-cpp's per-increment label lookups.
// - Tags are extracted once, at creation, with the Store's TagExtractor (Envoy's default rules
//   unless the bootstrap's stats_config replaces them).
// - Stats are never deleted: a removed cluster's stats keep their last values, which keeps
//   every handed-out reference valid. Memory grows with the number of distinct names ever
//   created, not with traffic.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "source/common/stats/counter.h"
#include "source/common/stats/gauge.h"
#include "source/common/stats/histogram.h"
#include "source/common/stats/render_filter.h"
#include "source/common/stats/scope.h"
#include "source/common/stats/store_snapshot.h"
#include "source/common/stats/tag_extractor.h"
#include "source/common/stats/text_readout.h"

namespace waystone::stats {

// All stats of the process (one Store per server; tests make their own). Thread-safe.
class Store {
 public:
  // With Envoy's default tag rules.
  Store();
  explicit Store(std::shared_ptr<const TagExtractor> tag_extractor);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The same name always returns the same object. Names are Envoy's dotted names.
  Counter& counterFromString(absl::string_view name);
  Gauge& gaugeFromString(absl::string_view name);
  Histogram& histogramFromString(absl::string_view name);
  TextReadout& textReadoutFromString(absl::string_view name);

  // Stats whose tags are given rather than extracted from the name (Envoy's
  // *FromStatNameWithTags, as istio_stats uses). As in Envoy, the full name is `name` followed
  // by ".<tag name>.<tag value>" for each tag, and the tag-extracted name is `name`.
  Counter& counterFromStringWithTags(absl::string_view name, const TagVector& tags);
  Gauge& gaugeFromStringWithTags(absl::string_view name, const TagVector& tags);
  Histogram& histogramFromStringWithTags(absl::string_view name, const TagVector& tags);

  // A prefix helper: createScope("listener.0.0.0.0_10000.") then
  // scope->counterFromString("downstream_cx_total").
  ScopeSharedPtr createScope(absl::string_view prefix);
  // The scope without a prefix.
  Scope& rootScope() { return root_scope_; }

  // Replaces the tag rules (bootstrap stats_config) and re-extracts the tags of existing
  // stats, so stats created before the bootstrap was read are labelled the same way.
  void setTagExtractor(std::shared_ptr<const TagExtractor> tag_extractor);
  // Stats whose tag-extracted name starts with "<name_space>." are exposed to Prometheus
  // without the envoy_ prefix (Envoy's custom stat namespaces).
  void addCustomNamespace(absl::string_view name_space);

  // Copies the stats the filter shows, each list sorted by name.
  StoreSnapshot snapshot(const RenderFilter& filter) const;
  StoreSnapshot snapshot() const { return snapshot(RenderFilter()); }

 private:
  template <class T>
  struct Entry {
    std::unique_ptr<T> metric;
    std::string tag_extracted_name;
    TagVector tags;
    bool explicit_tags = false;
  };
  // Ordered, so snapshots come out sorted; std::less<> allows lookups by string_view.
  template <class T>
  using Map = std::map<std::string, Entry<T>, std::less<>>;

  template <class T>
  T& findOrCreate(Map<T>& map, absl::string_view name) ABSL_LOCKS_EXCLUDED(mutex_);
  template <class T>
  T& findOrCreateWithTags(Map<T>& map, absl::string_view name, const TagVector& tags)
      ABSL_LOCKS_EXCLUDED(mutex_);
  template <class T>
  void reextract(Map<T>& map) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  std::shared_ptr<const TagExtractor> tag_extractor_ ABSL_GUARDED_BY(mutex_);
  Map<Counter> counters_ ABSL_GUARDED_BY(mutex_);
  Map<Gauge> gauges_ ABSL_GUARDED_BY(mutex_);
  Map<Histogram> histograms_ ABSL_GUARDED_BY(mutex_);
  Map<TextReadout> text_readouts_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> custom_namespaces_ ABSL_GUARDED_BY(mutex_);
  Scope root_scope_;
};

}  // namespace waystone::stats
