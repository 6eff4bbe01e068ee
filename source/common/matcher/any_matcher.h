#pragma once

#include <optional>
#include <utility>

#include "source/common/matcher/match_tree.h"

namespace waystone::matcher {

// A Matcher with neither matcher_list nor matcher_tree: always its on_no_match (if any). Lets a
// config say "unconditionally this action".
template <class DataType>
class AnyMatcher : public MatchTree<DataType> {
 public:
  explicit AnyMatcher(std::optional<OnMatch<DataType>> on_no_match)
      : on_no_match_(std::move(on_no_match)) {}

  const Action* match(const DataType& data) const override {
    return MatchTree<DataType>::resolve(on_no_match_, data);
  }

 private:
  const std::optional<OnMatch<DataType>> on_no_match_;
};

}  // namespace waystone::matcher
