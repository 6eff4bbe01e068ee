#include "source/common/formatter/substitution_format_parser.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "source/common/formatter/command_parser.h"

namespace waystone::formatter {
namespace {

constexpr absl::string_view kMissing = "-";

bool isCommandChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

void appendSegments(const std::vector<FormatSegment>& segments, const Context& context,
                    const stream_info::StreamInfo& info, bool omit_empty_values, std::string& out) {
  for (const FormatSegment& segment : segments) {
    if (segment.provider == nullptr) {
      out.append(segment.literal);
    } else if (!segment.provider->append(context, info, out) && !omit_empty_values) {
      out.append(kMissing.data(), kMissing.size());
    }
  }
}

absl::StatusOr<std::vector<FormatSegment>> SubstitutionFormatParser::parse(
    absl::string_view format) {
  std::vector<FormatSegment> segments;
  std::string literal;
  auto flush_literal = [&]() {
    if (!literal.empty()) {
      segments.push_back(FormatSegment{std::move(literal), nullptr});
      literal.clear();
    }
  };
  auto error = [&](size_t position, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " at position ", position, " of \"", format, "\""));
  };

  size_t i = 0;
  while (i < format.size()) {
    if (format[i] != '%') {
      literal.push_back(format[i++]);
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    const size_t start = i;
    size_t j = i + 1;
    while (j < format.size() && isCommandChar(format[j])) {
      ++j;
    }
    const absl::string_view command = format.substr(i + 1, j - i - 1);
    if (command.empty()) {
      return error(start,
                   "'%' starts no command (expected %COMMAND%, %COMMAND(arg)% or "
                   "%COMMAND(arg):N%; write %% for a literal '%')");
    }
    std::optional<absl::string_view> argument;
    if (j < format.size() && format[j] == '(') {
      const size_t close = format.find(')', j + 1);
      if (close == absl::string_view::npos) {
        return error(start, absl::StrCat("unterminated argument of \"%", command, "(\""));
      }
      argument = format.substr(j + 1, close - j - 1);
      j = close + 1;
    }
    std::optional<size_t> max_length;
    if (j < format.size() && format[j] == ':') {
      size_t end = j + 1;
      while (end < format.size() && absl::ascii_isdigit(format[end])) {
        ++end;
      }
      size_t length = 0;
      if (end == j + 1 || !absl::SimpleAtoi(format.substr(j + 1, end - j - 1), &length)) {
        return error(start, absl::StrCat("expected a length after ':' in \"%", command, "\""));
      }
      max_length = length;
      j = end;
    }
    if (j >= format.size() || format[j] != '%') {
      return error(start, absl::StrCat("unterminated command \"%", command, "\" (no closing '%')"));
    }
    i = j + 1;

    absl::StatusOr<FormatterProviderPtr> provider =
        CommandParser::parse(command, argument, max_length);
    if (!provider.ok()) {
      return error(start, provider.status().message());
    }
    flush_literal();
    segments.push_back(FormatSegment{std::string(), std::move(*provider)});
  }
  flush_literal();
  return segments;
}

}  // namespace waystone::formatter
