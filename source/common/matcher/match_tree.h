#pragma once

#include <memory>
#include <optional>

#include "source/common/matcher/action.h"

namespace waystone::matcher {

template <class DataType>
class MatchTree;
template <class DataType>
using MatchTreePtr = std::unique_ptr<const MatchTree<DataType>>;

// xds.type.matcher.v3.Matcher.OnMatch: an action, or a nested matcher to evaluate.
template <class DataType>
struct OnMatch {
  ActionConstSharedPtr action;     // set: the match yields this action
  MatchTreePtr<DataType> matcher;  // else: the result is whatever this nested matcher yields
};

// One node of a compiled xds.type.matcher.v3.Matcher. Immutable once built; match() is const and
// keeps no state, so one tree serves every worker at once.
//
// Semantics follow Envoy's current implementation: a nested matcher that finds nothing (and has
// no on_no_match of its own) makes its branch a no-match, and the enclosing node carries on as if
// that branch had not matched: an exact map falls to its on_no_match, a prefix map or an IP
// matcher tries the next shorter prefix, a list tries its next entry.
template <class DataType>
class MatchTree {
 public:
  virtual ~MatchTree() = default;

  // The action chosen for `data`, or nullptr if nothing matched. The action lives as long as the
  // tree.
  virtual const Action* match(const DataType& data) const = 0;

 protected:
  // The result of taking `on_match`: its action, or its nested matcher's result.
  static const Action* resolve(const OnMatch<DataType>& on_match, const DataType& data) {
    if (on_match.matcher != nullptr) {
      return on_match.matcher->match(data);
    }
    return on_match.action.get();
  }
  static const Action* resolve(const std::optional<OnMatch<DataType>>& on_match,
                               const DataType& data) {
    return on_match.has_value() ? resolve(*on_match, data) : nullptr;
  }
};

}  // namespace waystone::matcher
