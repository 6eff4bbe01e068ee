#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/formatter/formatter.h"
#include "source/common/formatter/substitution_format_parser.h"

namespace waystone::formatter {

// A text format string with Envoy's command operators ("%REQ(:authority)%",
// "[%START_TIME%] %RESPONSE_CODE%\n", ...), parsed once. A missing value renders as "-", or as
// nothing with `omit_empty_values` (SubstitutionFormatString.omit_empty_values).
class TextFormatter : public Formatter {
 public:
  // `field_path` names the config field in errors ("<field_path>: unknown command "%FOO%" at
  // position 4 of "..."); may be empty.
  static absl::StatusOr<std::unique_ptr<TextFormatter>> create(absl::string_view format,
                                                               absl::string_view field_path,
                                                               bool omit_empty_values = false);

  void formatTo(const Context& context, const stream_info::StreamInfo& info,
                std::string& out) const override {
    appendSegments(segments_, context, info, omit_empty_values_, out);
  }

  // True when the format has no operators: its output is always the same text.
  bool isLiteral() const;

 private:
  TextFormatter(std::vector<FormatSegment> segments, bool omit_empty_values)
      : segments_(std::move(segments)), omit_empty_values_(omit_empty_values) {}

  const std::vector<FormatSegment> segments_;
  const bool omit_empty_values_;
};

}  // namespace waystone::formatter
