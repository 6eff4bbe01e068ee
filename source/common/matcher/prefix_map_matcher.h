#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "source/common/matcher/data_input.h"
#include "source/common/matcher/match_tree.h"

namespace waystone::matcher {

// matcher_tree.prefix_match_map: the longest key that is a prefix of the input's value wins. If
// that entry's nested matcher finds nothing, the next shorter matching key is tried (Envoy's
// prefix_map_matcher_resume_after_subtree_miss behaviour, on by default), then on_no_match.
//
// Keys are grouped by length: a lookup probes one hash map per distinct key length, longest
// first, with views of the input (no allocation, no trie walk).
template <class DataType>
class PrefixMapMatcher : public MatchTree<DataType> {
 public:
  PrefixMapMatcher(DataInputPtr<DataType> input, std::optional<OnMatch<DataType>> on_no_match)
      : input_(std::move(input)), on_no_match_(std::move(on_no_match)) {}

  void addChild(std::string key, OnMatch<DataType> on_match) {
    const size_t length = key.size();
    children_.insert_or_assign(std::move(key), std::move(on_match));
    if (std::find(lengths_.begin(), lengths_.end(), length) == lengths_.end()) {
      lengths_.push_back(length);
      std::sort(lengths_.begin(), lengths_.end(), std::greater<size_t>());
    }
  }

  const Action* match(const DataType& data) const override {
    const InputValue value = input_->get(data);
    if (value.present()) {
      const absl::string_view text = value.value();
      for (const size_t length : lengths_) {
        if (length > text.size()) {
          continue;
        }
        auto it = children_.find(text.substr(0, length));
        if (it == children_.end()) {
          continue;
        }
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
  std::vector<size_t> lengths_;  // distinct key lengths, longest first
  const std::optional<OnMatch<DataType>> on_no_match_;
};

}  // namespace waystone::matcher
