#include "source/common/stats/store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace waystone::stats {

namespace {

std::string nameWithTags(absl::string_view name, const TagVector& tags) {
  std::string full(name);
  for (const Tag& tag : tags) {
    absl::StrAppend(&full, ".", tag.name, ".", tag.value);
  }
  return full;
}

// Copies the fields every snapshot has.
template <class T, class S>
void fillMetricSnapshot(const std::string& name, const std::string& tag_extracted_name,
                        const TagVector& tags, const T& metric, S& snapshot) {
  snapshot.name = name;
  snapshot.tag_extracted_name = tag_extracted_name;
  snapshot.tags = tags;
  snapshot.used = metric.used();
}

}  // namespace

Store::Store() : Store(TagExtractor::defaultExtractor()) {}

Store::Store(std::shared_ptr<const TagExtractor> tag_extractor)
    : tag_extractor_(std::move(tag_extractor)), root_scope_(*this, "") {}

Store::~Store() = default;

template <class T>
T& Store::findOrCreate(Map<T>& map, absl::string_view name) {
  absl::MutexLock lock(&mutex_);
  auto it = map.find(name);
  if (it == map.end()) {
    Entry<T> entry;
    entry.metric = std::make_unique<T>(std::string(name));
    entry.tag_extracted_name = tag_extractor_->extract(name, entry.tags);
    it = map.emplace(std::string(name), std::move(entry)).first;
  }
  return *it->second.metric;
}

template <class T>
T& Store::findOrCreateWithTags(Map<T>& map, absl::string_view name, const TagVector& tags) {
  const std::string full_name = nameWithTags(name, tags);
  absl::MutexLock lock(&mutex_);
  auto it = map.find(full_name);
  if (it == map.end()) {
    Entry<T> entry;
    entry.metric = std::make_unique<T>(full_name);
    entry.tag_extracted_name = std::string(name);
    entry.tags = tags;
    entry.explicit_tags = true;
    it = map.emplace(full_name, std::move(entry)).first;
  }
  return *it->second.metric;
}

Counter& Store::counterFromString(absl::string_view name) { return findOrCreate(counters_, name); }

Gauge& Store::gaugeFromString(absl::string_view name) { return findOrCreate(gauges_, name); }

Histogram& Store::histogramFromString(absl::string_view name) {
  return findOrCreate(histograms_, name);
}

TextReadout& Store::textReadoutFromString(absl::string_view name) {
  return findOrCreate(text_readouts_, name);
}

Counter& Store::counterFromStringWithTags(absl::string_view name, const TagVector& tags) {
  return findOrCreateWithTags(counters_, name, tags);
}

Gauge& Store::gaugeFromStringWithTags(absl::string_view name, const TagVector& tags) {
  return findOrCreateWithTags(gauges_, name, tags);
}

Histogram& Store::histogramFromStringWithTags(absl::string_view name, const TagVector& tags) {
  return findOrCreateWithTags(histograms_, name, tags);
}

ScopeSharedPtr Store::createScope(absl::string_view prefix) {
  return std::make_shared<Scope>(*this, prefix);
}

template <class T>
void Store::reextract(Map<T>& map) {
  for (auto& [name, entry] : map) {
    if (!entry.explicit_tags) {
      entry.tags.clear();
      entry.tag_extracted_name = tag_extractor_->extract(name, entry.tags);
    }
  }
}

void Store::setTagExtractor(std::shared_ptr<const TagExtractor> tag_extractor) {
  absl::MutexLock lock(&mutex_);
  tag_extractor_ = std::move(tag_extractor);
  reextract(counters_);
  reextract(gauges_);
  reextract(histograms_);
  reextract(text_readouts_);
}

void Store::addCustomNamespace(absl::string_view name_space) {
  absl::MutexLock lock(&mutex_);
  if (std::find(custom_namespaces_.begin(), custom_namespaces_.end(), name_space) ==
      custom_namespaces_.end()) {
    custom_namespaces_.emplace_back(name_space);
  }
}

StoreSnapshot Store::snapshot(const RenderFilter& filter) const {
  using Type = StatsRenderOptions::Type;
  StoreSnapshot result;
  absl::MutexLock lock(&mutex_);
  result.custom_namespaces = custom_namespaces_;
  if (filter.showsType(Type::Counters)) {
    for (const auto& [name, entry] : counters_) {
      const Counter& counter = *entry.metric;
      if (filter.shows(name, counter.used())) {
        CounterSnapshot& snapshot = result.counters.emplace_back();
        fillMetricSnapshot(name, entry.tag_extracted_name, entry.tags, counter, snapshot);
        snapshot.value = counter.value();
      }
    }
  }
  if (filter.showsType(Type::Gauges)) {
    for (const auto& [name, entry] : gauges_) {
      const Gauge& gauge = *entry.metric;
      if (filter.shows(name, gauge.used())) {
        GaugeSnapshot& snapshot = result.gauges.emplace_back();
        fillMetricSnapshot(name, entry.tag_extracted_name, entry.tags, gauge, snapshot);
        snapshot.value = gauge.value();
      }
    }
  }
  if (filter.showsType(Type::TextReadouts)) {
    for (const auto& [name, entry] : text_readouts_) {
      const TextReadout& text_readout = *entry.metric;
      if (filter.shows(name, text_readout.used())) {
        TextReadoutSnapshot& snapshot = result.text_readouts.emplace_back();
        fillMetricSnapshot(name, entry.tag_extracted_name, entry.tags, text_readout, snapshot);
        snapshot.value = text_readout.value();
      }
    }
  }
  if (filter.showsType(Type::Histograms)) {
    for (const auto& [name, entry] : histograms_) {
      const Histogram& histogram = *entry.metric;
      if (filter.shows(name, histogram.used())) {
        HistogramSnapshot& snapshot = result.histograms.emplace_back();
        fillMetricSnapshot(name, entry.tag_extracted_name, entry.tags, histogram, snapshot);
        snapshot.statistics = histogram.statistics();
      }
    }
  }
  return result;
}

}  // namespace waystone::stats
