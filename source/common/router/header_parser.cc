#include "source/common/router/header_parser.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {
namespace {

using HeaderValueOption = envoy::config::core::v3::HeaderValueOption;

// Envoy's isModifiableHeader / isRemovableHeader: the pseudo-headers and Host are owned by the
// codec and the routing logic (host rewrites have their own fields).
bool isProtectedHeader(absl::string_view name) {
  return (!name.empty() && name[0] == ':') || absl::EqualsIgnoreCase(name, "host");
}

}  // namespace

absl::StatusOr<HeaderParser> HeaderParser::create(const HeaderValueOptions& headers_to_add,
                                                  const HeaderNames& headers_to_remove,
                                                  absl::string_view path,
                                                  absl::string_view add_field,
                                                  absl::string_view remove_field) {
  HeaderParser parser;
  for (int i = 0; i < headers_to_add.size(); ++i) {
    const HeaderValueOption& option = headers_to_add.Get(i);
    const std::string option_path = ConfigUtility::element(path, add_field, i);
    const std::string& key = option.header().key();
    if (key.empty()) {
      return ConfigUtility::error(ConfigUtility::field(option_path, "header.key"),
                                  "must not be empty");
    }
    if (isProtectedHeader(key)) {
      return ConfigUtility::error(ConfigUtility::field(option_path, "header.key"),
                                  ":-prefixed or host headers may not be modified");
    }
    if (!option.header().value().empty() && !option.header().raw_value().empty()) {
      return ConfigUtility::error(ConfigUtility::field(option_path, "header"),
                                  "only one of value or raw_value may be set");
    }
    AppendAction action = option.append_action();
    if (option.has_append()) {
      // The deprecated bool: true appends, false overwrites. It may not be combined with a
      // non-default append_action (as Envoy).
      if (action != HeaderValueOption::APPEND_IF_EXISTS_OR_ADD) {
        return ConfigUtility::error(option_path,
                                    "both append and append_action are set and it's not allowed");
      }
      action = option.append().value() ? HeaderValueOption::APPEND_IF_EXISTS_OR_ADD
                                       : HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD;
    }
    const bool raw = !option.header().raw_value().empty();
    const std::string& text = raw ? option.header().raw_value() : option.header().value();
    // omit_empty_values: Envoy's header formatter drops a missing value instead of writing "-",
    // so "%REQ(x-missing)%" formats to "" and the header is skipped.
    auto parsed = formatter::TextFormatter::create(
        text, ConfigUtility::field(option_path, raw ? "header.raw_value" : "header.value"),
        /*omit_empty_values=*/true);
    if (!parsed.ok()) {
      return parsed.status();
    }
    Entry entry{absl::AsciiStrToLower(key), nullptr, std::string(), action,
                option.keep_empty_value()};
    if ((*parsed)->isLiteral()) {
      // No commands: the literal after "%%" unescaping, computed once.
      entry.literal = (*parsed)->format(formatter::Context{}, stream_info::StreamInfo{});
    } else {
      entry.formatter = std::move(*parsed);
    }
    parser.headers_to_add_.push_back(std::move(entry));
  }
  for (int i = 0; i < headers_to_remove.size(); ++i) {
    const std::string& name = headers_to_remove.Get(i);
    if (isProtectedHeader(name)) {
      return ConfigUtility::error(ConfigUtility::element(path, remove_field, i),
                                  ":-prefixed or host headers may not be removed");
    }
    parser.headers_to_remove_.push_back(absl::AsciiStrToLower(name));
  }
  return parser;
}

void HeaderParser::evaluateHeaders(http::HeaderMap& headers, const formatter::Context& context,
                                   const stream_info::StreamInfo& info) const {
  // Removing first makes "remove then add" the behaviour of a level that does both.
  for (const std::string& name : headers_to_remove_) {
    headers.remove(name);
  }
  if (headers_to_add_.empty()) {
    return;
  }
  // Every value is computed before any is applied, so one entry's result never depends on
  // another entry of the same level.
  std::vector<std::pair<const std::string*, std::string>> to_overwrite;
  std::vector<std::pair<const std::string*, std::string>> to_add;
  for (const Entry& entry : headers_to_add_) {
    std::string value =
        entry.formatter != nullptr ? entry.formatter->format(context, info) : entry.literal;
    if (value.empty() && !entry.keep_empty_value) {
      continue;
    }
    switch (entry.action) {
      case HeaderValueOption::ADD_IF_ABSENT:
        if (!headers.has(entry.key)) {
          to_add.emplace_back(&entry.key, std::move(value));
        }
        break;
      case HeaderValueOption::OVERWRITE_IF_EXISTS:
        if (headers.has(entry.key)) {
          to_overwrite.emplace_back(&entry.key, std::move(value));
        }
        break;
      case HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD:
        to_overwrite.emplace_back(&entry.key, std::move(value));
        break;
      default:  // APPEND_IF_EXISTS_OR_ADD
        to_add.emplace_back(&entry.key, std::move(value));
        break;
    }
  }
  for (const auto& [key, value] : to_overwrite) {
    headers.setCopy(*key, value);
  }
  for (const auto& [key, value] : to_add) {
    headers.addCopy(*key, value);
  }
}

}  // namespace waystone::router
