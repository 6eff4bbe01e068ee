#include "source/extensions/filters/network/tcp_proxy/tunneling_config.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

using HeaderValueOption = envoy::config::core::v3::HeaderValueOption;

absl::Status error(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

}  // namespace

absl::StatusOr<std::unique_ptr<const TunnelingConfig>> TunnelingConfig::create(
    const Proto& proto, absl::string_view field_path) {
  if (proto.use_post()) {
    return error(absl::StrCat(field_path, ".use_post"),
                 "not supported: Waystone tunnels with HTTP/2 CONNECT only");
  }
  if (!proto.post_path().empty()) {
    // Envoy refuses it without use_post too.
    return error(absl::StrCat(field_path, ".post_path"), "only valid with use_post");
  }
  if (proto.hostname().empty()) {
    return error(absl::StrCat(field_path, ".hostname"), "must not be empty");
  }
  std::unique_ptr<TunnelingConfig> config(new TunnelingConfig());
  auto hostname =
      formatter::TextFormatter::create(proto.hostname(), absl::StrCat(field_path, ".hostname"));
  if (!hostname.ok()) {
    return hostname.status();
  }
  config->hostname_ = std::move(*hostname);

  for (int i = 0; i < proto.headers_to_add_size(); ++i) {
    const HeaderValueOption& option = proto.headers_to_add(i);
    const std::string path = absl::StrCat(field_path, ".headers_to_add[", i, "]");
    const std::string& key = option.header().key();
    if (key.empty()) {
      return error(absl::StrCat(path, ".header.key"), "must not be empty");
    }
    // Envoy: ":-prefixed pseudo-headers nor the Host: header can be overridden".
    if (key[0] == ':' || absl::EqualsIgnoreCase(key, "host")) {
      return error(absl::StrCat(path, ".header.key"),
                   ":-prefixed or host headers may not be modified");
    }
    if (!option.header().value().empty() && !option.header().raw_value().empty()) {
      return error(absl::StrCat(path, ".header"), "only one of value or raw_value may be set");
    }
    AppendAction action = option.append_action();
    if (option.has_append()) {
      // The deprecated bool: true appends, false overwrites; not together with append_action.
      if (action != HeaderValueOption::APPEND_IF_EXISTS_OR_ADD) {
        return error(path, "both append and append_action are set and it's not allowed");
      }
      action = option.append().value() ? HeaderValueOption::APPEND_IF_EXISTS_OR_ADD
                                       : HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD;
    }
    const bool raw = !option.header().raw_value().empty();
    // As Envoy's header formatter: a missing value is empty (not "-"), and an empty result adds
    // nothing unless keep_empty_value.
    auto value = formatter::TextFormatter::create(
        raw ? option.header().raw_value() : option.header().value(),
        absl::StrCat(path, raw ? ".header.raw_value" : ".header.value"),
        /*omit_empty_values=*/true);
    if (!value.ok()) {
      return value.status();
    }
    config->headers_to_add_.push_back(HeaderToAdd{absl::AsciiStrToLower(key), std::move(*value),
                                                  action, option.keep_empty_value()});
  }
  config->propagate_response_headers_ = proto.propagate_response_headers();
  config->propagate_response_trailers_ = proto.propagate_response_trailers();
  return std::unique_ptr<const TunnelingConfig>(std::move(config));
}

http::RequestHeaderMapPtr TunnelingConfig::requestHeaders(
    const stream_info::StreamInfo& info) const {
  auto headers = std::make_unique<http::RequestHeaderMap>();
  headers->setCopy(":method", "CONNECT");
  headers->setCopy(":authority", hostname_->format(formatter::Context{}, info));
  // Every value is computed before any is applied (Envoy's HeaderParser), so one entry never
  // sees another's result.
  std::vector<std::pair<const std::string*, std::string>> overwrite;
  std::vector<std::pair<const std::string*, std::string>> add;
  for (const HeaderToAdd& entry : headers_to_add_) {
    std::string value = entry.value->format(formatter::Context{}, info);
    if (value.empty() && !entry.keep_empty_value) {
      continue;
    }
    switch (entry.action) {
      case HeaderValueOption::ADD_IF_ABSENT:
        if (!headers->has(entry.key)) {
          add.emplace_back(&entry.key, std::move(value));
        }
        break;
      case HeaderValueOption::OVERWRITE_IF_EXISTS:
        if (headers->has(entry.key)) {
          overwrite.emplace_back(&entry.key, std::move(value));
        }
        break;
      case HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD:
        overwrite.emplace_back(&entry.key, std::move(value));
        break;
      default:  // APPEND_IF_EXISTS_OR_ADD
        add.emplace_back(&entry.key, std::move(value));
        break;
    }
  }
  for (const auto& [key, value] : overwrite) {
    headers->setCopy(*key, value);
  }
  for (const auto& [key, value] : add) {
    headers->addCopy(*key, value);
  }
  return headers;
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
