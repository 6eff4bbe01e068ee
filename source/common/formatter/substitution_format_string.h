#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/core/v3/substitution_format_string.pb.h"

#include "source/common/formatter/formatter.h"

namespace waystone::formatter {

// Builds formatters from Envoy's SubstitutionFormatString (access logs, local replies,
// set_filter_state, ...). Supported: text_format_source with inline_string or inline_bytes, the
// deprecated text_format, json_format, and omit_empty_values. Refused with an error naming the
// field: formatter extensions (`formatters`, e.g. envoy.formatter.cel) and a text_format_source
// from a file or an environment variable. content_type and json_format_options are the caller's
// business (JSON keys are always sorted).
class SubstitutionFormatStringUtils {
 public:
  // `field_path` names the SubstitutionFormatString message, e.g.
  // "...typed_config.on_request_headers[0].format_string".
  static absl::StatusOr<FormatterPtr> fromProto(
      const envoy::config::core::v3::SubstitutionFormatString& config,
      absl::string_view field_path);

  // As fromProto, for users that need a text value (filter state, headers): json_format is
  // refused.
  static absl::StatusOr<FormatterPtr> textFromProto(
      const envoy::config::core::v3::SubstitutionFormatString& config,
      absl::string_view field_path);
};

}  // namespace waystone::formatter
