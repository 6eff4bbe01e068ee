#pragma once

#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

#include "source/common/matcher/data_input.h"
#include "source/common/matcher/match_tree.h"

namespace waystone::matcher {

// matcher_tree.exact_match_map: the input's value looked up in a hash map. No value, no entry,
// or an entry whose nested matcher finds nothing: on_no_match.
template <class DataType>
class ExactMapMatcher : public MatchTree<DataType> {
 public:
  ExactMapMatcher(DataInputPtr<DataType> input, std::optional<OnMatch<DataType>> on_no_match)
      : input_(std::move(input)), on_no_match_(std::move(on_no_match)) {}

  void addChild(std::string key, OnMatch<DataType> on_match) {
    children_.insert_or_assign(std::move(key), std::move(on_match));
  }

  const Action* match(const DataType& data) const override {
    const InputValue value = input_->get(data);
    if (value.present()) {
      // Heterogeneous lookup: no string is built for the key.
      auto it = children_.find(value.value());
      if (it != children_.end()) {
        if (const Action* action = MatchTree<DataType>::resolve(it->second, data)) {
          return action;
        }
      }
    }
    return MatchTree<DataType>::resolve(on_no_match_, data);
  }

 private:
  const DataInputPtr<DataType> input_;
  absl::flat_hash_map<std::string, OnMatch<DataType>> children_;
  const std::optional<OnMatch<DataType>> on_no_match_;
};

}  // namespace waystone::matcher
