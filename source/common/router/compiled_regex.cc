#include "source/common/router/compiled_regex.h"

#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {
namespace {

re2::StringPiece piece(absl::string_view value) {
  return re2::StringPiece(value.data(), value.size());
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledRegex>> CompiledRegex::create(
    const envoy::type::matcher::v3::RegexMatcher& matcher, uint32_t max_program_size,
    absl::string_view path) {
  uint32_t limit = max_program_size;
  if (matcher.has_google_re2() && matcher.google_re2().has_max_program_size()) {
    limit = matcher.google_re2().max_program_size().value();
  }
  return create(matcher.regex(), limit, ConfigUtility::field(path, "regex"));
}

absl::StatusOr<std::shared_ptr<const CompiledRegex>> CompiledRegex::create(
    absl::string_view pattern, uint32_t max_program_size, absl::string_view path) {
  re2::RE2::Options options;
  // Errors are returned to the caller with the field path; RE2 must not print them itself.
  options.set_log_errors(false);
  auto re2 = std::make_unique<const re2::RE2>(piece(pattern), options);
  if (!re2->ok()) {
    return ConfigUtility::error(path, absl::StrCat("invalid RE2: ", re2->error()));
  }
  const int program_size = re2->ProgramSize();
  if (program_size < 0 || static_cast<uint32_t>(program_size) > max_program_size) {
    return ConfigUtility::error(
        path, absl::StrCat("regex '", pattern, "' RE2 program size ", program_size,
                           " exceeds the maximum program size ", max_program_size));
  }
  return std::shared_ptr<const CompiledRegex>(new CompiledRegex(std::move(re2)));
}

bool CompiledRegex::fullMatch(absl::string_view value) const {
  return re2::RE2::FullMatch(piece(value), *re2_);
}

std::string CompiledRegex::replaceAll(absl::string_view value,
                                      absl::string_view substitution) const {
  std::string result(value);
  // The substitution was checked by checkSubstitution(); a count of 0 only means no match.
  re2::RE2::GlobalReplace(&result, *re2_, piece(substitution));
  return result;
}

absl::Status CompiledRegex::checkSubstitution(absl::string_view substitution,
                                              absl::string_view path) const {
  std::string error;
  if (!re2_->CheckRewriteString(piece(substitution), &error)) {
    return ConfigUtility::error(path, absl::StrCat("invalid substitution: ", error));
  }
  return absl::OkStatus();
}

}  // namespace waystone::router
