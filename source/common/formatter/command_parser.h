#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/formatter/formatter_provider.h"

namespace waystone::formatter {

// Turns one command operator, already split by SubstitutionFormatParser, into its provider:
// `%COMMAND(argument):max_length%`. Checks each command's syntax as Envoy does (which take an
// argument, which need one, which allow a length). Errors describe the problem; the parser adds
// where it is.
class CommandParser {
 public:
  // `argument` is nullopt without parentheses ("%START_TIME()%" passes an empty argument).
  static absl::StatusOr<FormatterProviderPtr> parse(absl::string_view command,
                                                    std::optional<absl::string_view> argument,
                                                    std::optional<size_t> max_length);

  // Every command parse() accepts, sorted (for docs and tests).
  static std::vector<std::string> knownCommands();
};

}  // namespace waystone::formatter
