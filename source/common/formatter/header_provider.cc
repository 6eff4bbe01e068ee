#include "source/common/formatter/header_provider.h"

#include "absl/strings/ascii.h"

namespace waystone::formatter {

HeaderProvider::HeaderProvider(Source source, absl::string_view main, absl::string_view alternative,
                               std::optional<size_t> max_length)
    : source_(source),
      main_(absl::AsciiStrToLower(main)),
      alternative_(absl::AsciiStrToLower(alternative)),
      max_length_(max_length) {}

const http::HeaderEntry* HeaderProvider::find(const Context& context) const {
  const http::HeaderMap* headers = nullptr;
  switch (source_) {
    case Source::RequestHeaders:
      headers = context.request_headers;
      break;
    case Source::ResponseHeaders:
      headers = context.response_headers;
      break;
    case Source::ResponseTrailers:
      headers = context.response_trailers;
      break;
  }
  if (headers == nullptr) {
    return nullptr;
  }
  const http::HeaderEntry* entry = headers->get(main_);
  if (entry == nullptr && !alternative_.empty()) {
    entry = headers->get(alternative_);
  }
  return entry;
}

bool HeaderProvider::append(const Context& context, const stream_info::StreamInfo&,
                            std::string& out) const {
  const http::HeaderEntry* entry = find(context);
  if (entry == nullptr) {
    return false;
  }
  absl::string_view value = entry->value;
  if (max_length_.has_value() && value.size() > *max_length_) {
    value = value.substr(0, *max_length_);
  }
  out.append(value.data(), value.size());
  return true;
}

google::protobuf::Value HeaderProvider::value(const Context& context,
                                              const stream_info::StreamInfo& info) const {
  google::protobuf::Value value;
  std::string text;
  if (append(context, info, text)) {
    value.set_string_value(std::move(text));
  } else {
    value.set_null_value(google::protobuf::NULL_VALUE);
  }
  return value;
}

}  // namespace waystone::formatter
