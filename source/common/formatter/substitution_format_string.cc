#include "source/common/formatter/substitution_format_string.h"

#include "absl/strings/str_cat.h"

#include "source/common/formatter/json_formatter.h"
#include "source/common/formatter/text_formatter.h"

namespace waystone::formatter {
namespace {

using envoy::config::core::v3::DataSource;
using envoy::config::core::v3::SubstitutionFormatString;

absl::Status commonChecks(const SubstitutionFormatString& config, absl::string_view field_path) {
  if (config.formatters_size() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field_path, ".formatters[0]: formatter extensions are not supported (\"",
                     config.formatters(0).name(), "\"); only the built-in command operators are"));
  }
  return absl::OkStatus();
}

absl::StatusOr<FormatterPtr> text(const SubstitutionFormatString& config,
                                  absl::string_view field_path) {
  std::string format;
  std::string format_path;
  if (config.format_case() == SubstitutionFormatString::kTextFormat) {
    format = config.text_format();
    format_path = absl::StrCat(field_path, ".text_format");
  } else {
    const DataSource& source = config.text_format_source();
    const std::string source_path = absl::StrCat(field_path, ".text_format_source");
    switch (source.specifier_case()) {
      case DataSource::kInlineString:
        format = source.inline_string();
        format_path = absl::StrCat(source_path, ".inline_string");
        break;
      case DataSource::kInlineBytes:
        format = source.inline_bytes();
        format_path = absl::StrCat(source_path, ".inline_bytes");
        break;
      case DataSource::kFilename:
        return absl::InvalidArgumentError(
            absl::StrCat(source_path, ".filename: not supported (use inline_string)"));
      case DataSource::kEnvironmentVariable:
        return absl::InvalidArgumentError(
            absl::StrCat(source_path, ".environment_variable: not supported (use inline_string)"));
      default:
        return absl::InvalidArgumentError(absl::StrCat(source_path, ": inline_string is required"));
    }
  }
  absl::StatusOr<std::unique_ptr<TextFormatter>> formatter =
      TextFormatter::create(format, format_path, config.omit_empty_values());
  if (!formatter.ok()) {
    return formatter.status();
  }
  return FormatterPtr(std::move(*formatter));
}

}  // namespace

absl::StatusOr<FormatterPtr> SubstitutionFormatStringUtils::fromProto(
    const SubstitutionFormatString& config, absl::string_view field_path) {
  if (absl::Status status = commonChecks(config, field_path); !status.ok()) {
    return status;
  }
  switch (config.format_case()) {
    case SubstitutionFormatString::kTextFormat:
    case SubstitutionFormatString::kTextFormatSource:
      return text(config, field_path);
    case SubstitutionFormatString::kJsonFormat: {
      absl::StatusOr<std::unique_ptr<JsonFormatter>> formatter =
          JsonFormatter::create(config.json_format(), absl::StrCat(field_path, ".json_format"),
                                config.omit_empty_values());
      if (!formatter.ok()) {
        return formatter.status();
      }
      return FormatterPtr(std::move(*formatter));
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          field_path, ": one of text_format_source, text_format or json_format is required"));
  }
}

absl::StatusOr<FormatterPtr> SubstitutionFormatStringUtils::textFromProto(
    const SubstitutionFormatString& config, absl::string_view field_path) {
  if (config.format_case() == SubstitutionFormatString::kJsonFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat(field_path,
                     ".json_format: not supported here, the value must be text (use "
                     "text_format_source.inline_string)"));
  }
  return fromProto(config, field_path);
}

}  // namespace waystone::formatter
