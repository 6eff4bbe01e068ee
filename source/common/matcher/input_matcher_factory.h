#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "xds/type/matcher/v3/matcher.pb.h"

#include "source/common/matcher/input_matcher.h"

namespace waystone::matcher {

// The matcher half of a single_predicate: value_match (StringMatcher) or custom_match, of which
// Waystone knows envoy.extensions.matching.input_matchers.ip.v3.Ip. `path` names the
// single_predicate; errors name the offending field below it. Independent of the matching data
// type, so HTTP matchers can share it.
absl::StatusOr<InputMatcherPtr> createInputMatcher(
    const xds::type::matcher::v3::Matcher::MatcherList::Predicate::SinglePredicate& predicate,
    const std::string& path);

}  // namespace waystone::matcher
