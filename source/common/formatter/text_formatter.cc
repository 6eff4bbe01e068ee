#include "source/common/formatter/text_formatter.h"

#include "absl/strings/str_cat.h"

namespace waystone::formatter {

absl::StatusOr<std::unique_ptr<TextFormatter>> TextFormatter::create(absl::string_view format,
                                                                     absl::string_view field_path,
                                                                     bool omit_empty_values) {
  absl::StatusOr<std::vector<FormatSegment>> segments = SubstitutionFormatParser::parse(format);
  if (!segments.ok()) {
    if (field_path.empty()) {
      return segments.status();
    }
    return absl::InvalidArgumentError(absl::StrCat(field_path, ": ", segments.status().message()));
  }
  return std::unique_ptr<TextFormatter>(new TextFormatter(std::move(*segments), omit_empty_values));
}

bool TextFormatter::isLiteral() const {
  for (const FormatSegment& segment : segments_) {
    if (segment.provider != nullptr) {
      return false;
    }
  }
  return true;
}

}  // namespace waystone::formatter
