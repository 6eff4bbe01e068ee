#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/type/matcher/v3/regex.pb.h"

#include "source/common/router/compiled_regex.h"

namespace waystone::router {

// prefix_rewrite or regex_rewrite of a route action or redirect. Immutable.
class PathRewriter {
 public:
  // No rewrite.
  PathRewriter() = default;

  // `regex_rewrite` may be nullptr. Setting both is an error. `path` names the message holding
  // the fields.
  static absl::StatusOr<PathRewriter> create(
      absl::string_view prefix_rewrite,
      const envoy::type::matcher::v3::RegexMatchAndSubstitute* regex_rewrite,
      uint32_t max_program_size, absl::string_view path);

  bool active() const { return !prefix_.empty() || regex_ != nullptr; }

  // The rewritten :path. `path` is the request's :path; `matched_length` is how many leading
  // bytes the route's path matcher matched (replaced by prefix_rewrite). regex_rewrite applies to
  // the path without query; the query is kept either way.
  std::string rewrite(absl::string_view path, size_t matched_length) const;

 private:
  std::string prefix_;
  CompiledRegexConstSharedPtr regex_;
  std::string substitution_;
};

}  // namespace waystone::router
