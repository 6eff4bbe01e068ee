#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/formatter/formatter_provider.h"

namespace waystone::formatter {

// One piece of a parsed format string: literal text, or a command operator.
struct FormatSegment {
  std::string literal;            // when provider is null
  FormatterProviderPtr provider;  // a command operator
};

// Evaluates parsed segments into `out`: literals as they are, operators through their
// provider, and "-" for a missing value (nothing at all with `omit_empty_values`).
void appendSegments(const std::vector<FormatSegment>& segments, const Context& context,
                    const stream_info::StreamInfo& info, bool omit_empty_values, std::string& out);

// Splits a format string into segments, Envoy's syntax: text, "%%" for a literal '%', and
// operators "%COMMAND%", "%COMMAND(argument)%", "%COMMAND(argument):N%" where COMMAND is
// [A-Z0-9_]+ and the argument runs to the first ')'. Adjacent literal text is merged.
class SubstitutionFormatParser {
 public:
  // Errors name what is wrong and where: `unknown command "%FOO%" at position 4 of "..."`, a '%'
  // that starts no command, an unterminated '(' or operator, a bad argument.
  static absl::StatusOr<std::vector<FormatSegment>> parse(absl::string_view format);
};

}  // namespace waystone::formatter
