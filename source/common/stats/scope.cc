#include "source/common/stats/scope.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "source/common/stats/store.h"

namespace waystone::stats {

Scope::Scope(Store& store, absl::string_view prefix)
    : store_(store), prefix_(sanitizePrefix(prefix)) {}

std::string Scope::sanitizePrefix(absl::string_view prefix) {
  while (absl::ConsumeSuffix(&prefix, ".")) {
  }
  while (absl::ConsumePrefix(&prefix, ".")) {
  }
  std::string result(prefix);
  // ':' would clash with the admin text format "name: value"; NUL with C strings.
  std::replace(result.begin(), result.end(), ':', '_');
  std::replace(result.begin(), result.end(), '\0', '_');
  return result;
}

std::string Scope::fullName(absl::string_view name) const {
  if (prefix_.empty()) {
    return std::string(name);
  }
  return absl::StrCat(prefix_, ".", name);
}

Counter& Scope::counterFromString(absl::string_view name) {
  return store_.counterFromString(fullName(name));
}

Gauge& Scope::gaugeFromString(absl::string_view name) {
  return store_.gaugeFromString(fullName(name));
}

Histogram& Scope::histogramFromString(absl::string_view name) {
  return store_.histogramFromString(fullName(name));
}

TextReadout& Scope::textReadoutFromString(absl::string_view name) {
  return store_.textReadoutFromString(fullName(name));
}

Counter& Scope::counterFromStringWithTags(absl::string_view name, const TagVector& tags) {
  return store_.counterFromStringWithTags(fullName(name), tags);
}

Gauge& Scope::gaugeFromStringWithTags(absl::string_view name, const TagVector& tags) {
  return store_.gaugeFromStringWithTags(fullName(name), tags);
}

Histogram& Scope::histogramFromStringWithTags(absl::string_view name, const TagVector& tags) {
  return store_.histogramFromStringWithTags(fullName(name), tags);
}

ScopeSharedPtr Scope::createScope(absl::string_view prefix) {
  const std::string sanitized = sanitizePrefix(prefix);
  if (prefix_.empty()) {
    return std::make_shared<Scope>(store_, sanitized);
  }
  if (sanitized.empty()) {
    return std::make_shared<Scope>(store_, prefix_);
  }
  return std::make_shared<Scope>(store_, absl::StrCat(prefix_, ".", sanitized));
}

}  // namespace waystone::stats
