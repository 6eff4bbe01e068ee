#pragma once

#include <memory>

#include "source/common/matcher/input_value.h"

namespace waystone::matcher {

// Decides whether one extracted value matches (Envoy's InputMatcher): the value_match string
// matcher or a custom_match extension of a single_predicate. An absent value never matches.
// Immutable and thread-safe.
class InputMatcher {
 public:
  virtual ~InputMatcher() = default;
  virtual bool match(const InputValue& value) const = 0;
};

using InputMatcherPtr = std::unique_ptr<const InputMatcher>;

}  // namespace waystone::matcher
