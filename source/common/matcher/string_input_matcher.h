#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xds/type/matcher/v3/string.pb.h"

#include "source/common/matcher/input_matcher.h"
#include "source/common/router/string_matcher.h"

namespace waystone::matcher {

// single_predicate.value_match: an xds.type.matcher.v3.StringMatcher (exact, prefix, suffix,
// contains, safe_regex; ignore_case). An absent value does not match, as in Envoy.
class StringInputMatcher : public InputMatcher {
 public:
  // `path` names the StringMatcher; errors name its fields.
  static absl::StatusOr<InputMatcherPtr> create(const xds::type::matcher::v3::StringMatcher& config,
                                                absl::string_view path);

  bool match(const InputValue& value) const override {
    return value.present() && matcher_.match(value.value());
  }

 private:
  explicit StringInputMatcher(router::StringMatcher matcher) : matcher_(std::move(matcher)) {}

  const router::StringMatcher matcher_;
};

}  // namespace waystone::matcher
