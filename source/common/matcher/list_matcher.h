#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "source/common/matcher/field_matcher.h"
#include "source/common/matcher/match_tree.h"

namespace waystone::matcher {

// matcher_list: predicates in order, the first whose predicate holds and whose on_match yields
// an action wins. A matching predicate whose nested matcher finds nothing does not end the
// search (Envoy's current behaviour); after the last entry comes on_no_match.
template <class DataType>
class ListMatcher : public MatchTree<DataType> {
 public:
  explicit ListMatcher(std::optional<OnMatch<DataType>> on_no_match)
      : on_no_match_(std::move(on_no_match)) {}

  void addMatcher(FieldMatcherPtr<DataType> predicate, OnMatch<DataType> on_match) {
    matchers_.push_back({std::move(predicate), std::move(on_match)});
  }

  const Action* match(const DataType& data) const override {
    for (const Entry& entry : matchers_) {
      if (!entry.predicate->match(data)) {
        continue;
      }
      if (const Action* action = MatchTree<DataType>::resolve(entry.on_match, data)) {
        return action;
      }
    }
    return MatchTree<DataType>::resolve(on_no_match_, data);
  }

 private:
  struct Entry {
    FieldMatcherPtr<DataType> predicate;
    OnMatch<DataType> on_match;
  };

  std::vector<Entry> matchers_;
  const std::optional<OnMatch<DataType>> on_no_match_;
};

}  // namespace waystone::matcher
