#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/type/matcher/v3/string.pb.h"

#include "source/common/router/compiled_regex.h"

namespace waystone::router {

// envoy.type.matcher.v3.StringMatcher: exact, prefix, suffix, contains (each optionally
// case-insensitive) or safe_regex (full match). Immutable.
class StringMatcher {
 public:
  // `path` names the StringMatcher message; errors name its fields.
  static absl::StatusOr<StringMatcher> create(const envoy::type::matcher::v3::StringMatcher& config,
                                              uint32_t max_program_size, absl::string_view path);

  // The deprecated direct forms of HeaderMatcher (exact_match, prefix_match, ...).
  static StringMatcher exact(absl::string_view value);
  static StringMatcher prefix(absl::string_view value);
  static StringMatcher suffix(absl::string_view value);
  static StringMatcher contains(absl::string_view value);
  static StringMatcher regex(CompiledRegexConstSharedPtr regex);

  bool match(absl::string_view value) const;

 private:
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex };

  StringMatcher(Kind kind, absl::string_view value, bool ignore_case,
                CompiledRegexConstSharedPtr regex);

  Kind kind_;
  // Lower-cased when ignore_case_, so that contains() needs only one side folded per match.
  std::string value_;
  bool ignore_case_;
  CompiledRegexConstSharedPtr regex_;
};

}  // namespace waystone::router
