#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "re2/re2.h"

namespace waystone::tls {

// A compiled envoy.type.matcher.v3.StringMatcher: exact, prefix, suffix, contains (each honouring
// ignore_case) or safe_regex (RE2, whole-string match, ignore_case not applied, as in Envoy).
// Immutable and cheap to copy (the compiled regex is shared), so configs holding it can be copied
// and read from any thread.
class StringMatcher {
 public:
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex };

  // `path` names the matcher in errors, e.g. "...match_typed_subject_alt_names[0].matcher".
  static absl::StatusOr<StringMatcher> create(const envoy::type::matcher::v3::StringMatcher& proto,
                                              const std::string& path);

  bool match(absl::string_view value) const;

  Kind kind() const { return kind_; }
  // The literal (exact/prefix/suffix/contains) or the regex text.
  const std::string& pattern() const { return pattern_; }
  bool ignoreCase() const { return ignore_case_; }

 private:
  StringMatcher() = default;

  Kind kind_ = Kind::Exact;
  std::string pattern_;
  bool ignore_case_ = false;
  std::shared_ptr<const re2::RE2> regex_;
};

}  // namespace waystone::tls
