#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "source/common/matcher/cidr_range.h"
#include "source/common/matcher/data_input.h"
#include "source/common/matcher/ip_prefix_table.h"
#include "source/common/matcher/match_tree.h"

namespace waystone::matcher {

// matcher_tree.custom_match xds.type.matcher.v3.IPMatcher (Envoy's IP range matcher): the input
// is an IP address as text; range_matchers whose CIDR ranges contain it are tried longest prefix
// first, then in declaration order, until one yields an action. A range_matcher marked
// `exclusive` is only tried when it is the most specific candidate: it never catches what a more
// specific range declined. No value, an unparsable value, or no candidate: on_no_match.
template <class DataType>
class IpRangeMatcher : public MatchTree<DataType> {
 public:
  IpRangeMatcher(DataInputPtr<DataType> input, std::optional<OnMatch<DataType>> on_no_match)
      : input_(std::move(input)), on_no_match_(std::move(on_no_match)) {}

  // Adds one range_matchers entry, in declaration order.
  void addRangeMatcher(const std::vector<CidrRange>& ranges, bool exclusive,
                       OnMatch<DataType> on_match) {
    const size_t index = range_matchers_.size();
    range_matchers_.push_back({exclusive, std::move(on_match)});
    for (const CidrRange& range : ranges) {
      std::vector<size_t>& indexes = table_.entry(range);
      // The same range listed twice in one range_matcher is one candidate.
      if (indexes.empty() || indexes.back() != index) {
        indexes.push_back(index);
      }
    }
  }

  const Action* match(const DataType& data) const override {
    const InputValue value = input_->get(data);
    if (value.present()) {
      if (const std::optional<IpAddress> address = IpAddress::parse(value.value())) {
        const Action* found = nullptr;
        bool first = true;
        // Each level holds the range_matchers of one prefix length in declaration order, so
        // this walks Envoy's order: longest prefix first, then declaration order.
        table_.forEachMatch(*address, [&](const std::vector<size_t>& indexes, uint32_t) {
          for (const size_t index : indexes) {
            const RangeMatcher& candidate = range_matchers_[index];
            if (!first && candidate.exclusive) {
              continue;
            }
            first = false;
            found = MatchTree<DataType>::resolve(candidate.on_match, data);
            if (found != nullptr) {
              return true;
            }
          }
          return false;
        });
        if (found != nullptr) {
          return found;
        }
      }
    }
    return MatchTree<DataType>::resolve(on_no_match_, data);
  }

 private:
  struct RangeMatcher {
    bool exclusive;
    OnMatch<DataType> on_match;
  };

  const DataInputPtr<DataType> input_;
  std::vector<RangeMatcher> range_matchers_;
  IpPrefixTable<std::vector<size_t>> table_;  // range -> indexes into range_matchers_
  const std::optional<OnMatch<DataType>> on_no_match_;
};

}  // namespace waystone::matcher
