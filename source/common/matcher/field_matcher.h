#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "source/common/matcher/data_input.h"
#include "source/common/matcher/input_matcher.h"

namespace waystone::matcher {

// A matcher_list predicate (Envoy's FieldMatcher): single_predicate, or_matcher, and_matcher,
// not_matcher. The four are tiny and only make sense together, so they share this file.
template <class DataType>
class FieldMatcher {
 public:
  virtual ~FieldMatcher() = default;
  virtual bool match(const DataType& data) const = 0;
};

template <class DataType>
using FieldMatcherPtr = std::unique_ptr<const FieldMatcher<DataType>>;

// single_predicate: one input, one input matcher.
template <class DataType>
class SingleFieldMatcher : public FieldMatcher<DataType> {
 public:
  SingleFieldMatcher(DataInputPtr<DataType> input, InputMatcherPtr matcher)
      : input_(std::move(input)), matcher_(std::move(matcher)) {}
  bool match(const DataType& data) const override { return matcher_->match(input_->get(data)); }

 private:
  const DataInputPtr<DataType> input_;
  const InputMatcherPtr matcher_;
};

// or_matcher: true if any predicate is (evaluated in order, stops at the first true).
template <class DataType>
class AnyFieldMatcher : public FieldMatcher<DataType> {
 public:
  explicit AnyFieldMatcher(std::vector<FieldMatcherPtr<DataType>> matchers)
      : matchers_(std::move(matchers)) {}
  bool match(const DataType& data) const override {
    for (const auto& matcher : matchers_) {
      if (matcher->match(data)) {
        return true;
      }
    }
    return false;
  }

 private:
  const std::vector<FieldMatcherPtr<DataType>> matchers_;
};

// and_matcher: true if every predicate is (stops at the first false).
template <class DataType>
class AllFieldMatcher : public FieldMatcher<DataType> {
 public:
  explicit AllFieldMatcher(std::vector<FieldMatcherPtr<DataType>> matchers)
      : matchers_(std::move(matchers)) {}
  bool match(const DataType& data) const override {
    for (const auto& matcher : matchers_) {
      if (!matcher->match(data)) {
        return false;
      }
    }
    return true;
  }

 private:
  const std::vector<FieldMatcherPtr<DataType>> matchers_;
};

// not_matcher.
template <class DataType>
class NotFieldMatcher : public FieldMatcher<DataType> {
 public:
  explicit NotFieldMatcher(FieldMatcherPtr<DataType> matcher) : matcher_(std::move(matcher)) {}
  bool match(const DataType& data) const override { return !matcher_->match(data); }

 private:
  const FieldMatcherPtr<DataType> matcher_;
};

}  // namespace waystone::matcher
