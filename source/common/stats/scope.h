#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/stats/counter.h"
#include "source/common/stats/gauge.h"
#include "source/common/stats/histogram.h"
#include "source/common/stats/tag_extractor.h"
#include "source/common/stats/text_readout.h"

namespace waystone::stats {

class Store;
class Scope;
using ScopeSharedPtr = std::shared_ptr<Scope>;

// A name prefix over a Store: a listener's Scope with prefix "listener.0.0.0.0_10000" creates
// "listener.0.0.0.0_10000.downstream_cx_total". Stats belong to the Store, not to the Scope:
// they outlive it, and their references stay valid for the Store's lifetime. A Scope must not
// outlive its Store.
class Scope {
 public:
  // `prefix` is sanitized as Envoy does (leading/trailing '.' dropped, ':' -> '_'); "" is the
  // store's root.
  Scope(Store& store, absl::string_view prefix);

  Counter& counterFromString(absl::string_view name);
  Gauge& gaugeFromString(absl::string_view name);
  Histogram& histogramFromString(absl::string_view name);
  TextReadout& textReadoutFromString(absl::string_view name);
  // Stats with explicit tags; see Store::counterFromStringWithTags.
  Counter& counterFromStringWithTags(absl::string_view name, const TagVector& tags);
  Gauge& gaugeFromStringWithTags(absl::string_view name, const TagVector& tags);
  Histogram& histogramFromStringWithTags(absl::string_view name, const TagVector& tags);

  // A scope under this one: prefix "http" under "listener.x" is "listener.x.http".
  ScopeSharedPtr createScope(absl::string_view prefix);

  // Without a trailing dot.
  const std::string& prefix() const { return prefix_; }
  Store& store() { return store_; }

  // Envoy's stats-name sanitizing of prefixes, exposed for callers that build names.
  static std::string sanitizePrefix(absl::string_view prefix);

 private:
  std::string fullName(absl::string_view name) const;

  Store& store_;
  const std::string prefix_;
};

}  // namespace waystone::stats
