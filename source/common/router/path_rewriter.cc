#include "source/common/router/path_rewriter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"
#include "source/common/router/path_utility.h"

namespace waystone::router {

absl::StatusOr<PathRewriter> PathRewriter::create(
    absl::string_view prefix_rewrite,
    const envoy::type::matcher::v3::RegexMatchAndSubstitute* regex_rewrite,
    uint32_t max_program_size, absl::string_view path) {
  PathRewriter rewriter;
  if (!prefix_rewrite.empty() && regex_rewrite != nullptr) {
    return ConfigUtility::error(path, "specify only one of prefix_rewrite or regex_rewrite");
  }
  rewriter.prefix_ = std::string(prefix_rewrite);
  if (regex_rewrite != nullptr) {
    const std::string rewrite_path = ConfigUtility::field(path, "regex_rewrite");
    auto regex = CompiledRegex::create(regex_rewrite->pattern(), max_program_size,
                                       ConfigUtility::field(rewrite_path, "pattern"));
    if (!regex.ok()) {
      return regex.status();
    }
    absl::Status status = (*regex)->checkSubstitution(
        regex_rewrite->substitution(), ConfigUtility::field(rewrite_path, "substitution"));
    if (!status.ok()) {
      return status;
    }
    rewriter.regex_ = std::move(*regex);
    rewriter.substitution_ = regex_rewrite->substitution();
  }
  return rewriter;
}

std::string PathRewriter::rewrite(absl::string_view path, size_t matched_length) const {
  if (!prefix_.empty()) {
    return absl::StrCat(prefix_, path.substr(std::min(matched_length, path.size())));
  }
  if (regex_ != nullptr) {
    const absl::string_view just_path = PathUtility::removeQueryAndFragment(path);
    return absl::StrCat(regex_->replaceAll(just_path, substitution_),
                        path.substr(just_path.size()));
  }
  return std::string(path);
}

}  // namespace waystone::router
