#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

#include "source/common/http/header_map.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::formatter {

// What a format string is evaluated against besides the StreamInfo (Envoy's
// HttpFormatterContext). Every member is optional: a network filter or a TCP access log has no
// headers, and operators that need what is missing render as missing ("-").
struct Context {
  const http::RequestHeaderMap* request_headers = nullptr;
  const http::ResponseHeaderMap* response_headers = nullptr;
  const http::ResponseTrailerMap* response_trailers = nullptr;
  // %LOCAL_REPLY_BODY%.
  absl::string_view local_reply_body;
};

// One parsed command operator (%REQ(...)%, %START_TIME%, ...), immutable after parsing and
// shared by every evaluation, on any thread.
class FormatterProvider {
 public:
  virtual ~FormatterProvider() = default;

  // Appends the text form of the value to `out` and returns true, or returns false without
  // touching `out` when there is no value (the formatter then writes "-", Envoy's placeholder,
  // or nothing with omit_empty_values). Called on the data path: append, don't build strings.
  virtual bool append(const Context& context, const stream_info::StreamInfo& info,
                      std::string& out) const = 0;

  // The typed form for JSON output: a string, a number (the numeric operators), or a struct or
  // list (DYNAMIC_METADATA); null_value when there is no value.
  virtual google::protobuf::Value value(const Context& context,
                                        const stream_info::StreamInfo& info) const = 0;
};

using FormatterProviderPtr = std::unique_ptr<const FormatterProvider>;

}  // namespace waystone::formatter
