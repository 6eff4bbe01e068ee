#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/type/matcher/v3/regex.pb.h"
#include "re2/re2.h"

namespace waystone::router {

// An RE2 compiled from config. Immutable and thread-safe (RE2 matching is const), so one
// instance is shared by every worker.
class CompiledRegex {
 public:
  // Compiles `matcher.regex`. `path` names the RegexMatcher message (e.g.
  // "virtual_hosts[0].routes[1].match.safe_regex"); errors name "<path>.regex". The program size
  // limit is `max_program_size` unless the matcher's deprecated google_re2.max_program_size is
  // set, which wins (as in Envoy).
  static absl::StatusOr<std::shared_ptr<const CompiledRegex>> create(
      const envoy::type::matcher::v3::RegexMatcher& matcher, uint32_t max_program_size,
      absl::string_view path);

  // Compiles a bare pattern; errors name `path` itself.
  static absl::StatusOr<std::shared_ptr<const CompiledRegex>> create(absl::string_view pattern,
                                                                     uint32_t max_program_size,
                                                                     absl::string_view path);

  // True if the whole of `value` matches (Envoy's safe_regex semantics).
  bool fullMatch(absl::string_view value) const;

  // Every non-overlapping match replaced by `substitution` (\1..\9 refer to capture groups).
  std::string replaceAll(absl::string_view value, absl::string_view substitution) const;

  // Checks at config time that `substitution` only refers to groups this regex has, so that
  // replaceAll() cannot fail on the data path. Errors name `path`.
  absl::Status checkSubstitution(absl::string_view substitution, absl::string_view path) const;

  const std::string& pattern() const { return re2_->pattern(); }

 private:
  explicit CompiledRegex(std::unique_ptr<const re2::RE2> re2) : re2_(std::move(re2)) {}

  std::unique_ptr<const re2::RE2> re2_;
};

using CompiledRegexConstSharedPtr = std::shared_ptr<const CompiledRegex>;

}  // namespace waystone::router
