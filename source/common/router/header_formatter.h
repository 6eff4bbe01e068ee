#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/http/header_map.h"
#include "source/common/router/header_value_context.h"

namespace waystone::router {

// A header value from config with Envoy's %COMMAND% substitutions, parsed once. Supported:
//   %DOWNSTREAM_REMOTE_ADDRESS%              client "ip:port"
//   %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% client "ip"
//   %UPSTREAM_HOST%                          upstream "ip:port"
//   %PROTOCOL%                               "HTTP/1.1", "HTTP/2", ...
//   %REQ(name)% %REQ(name?alt)% %REQ(name):N% first value of a request header (or of `alt` when
//                                            `name` is absent), truncated to N bytes
//   %START_TIME% %START_TIME(format)%        request start, UTC; absl::FormatTime format,
//                                            default "%Y-%m-%dT%H:%M:%E3SZ" (Envoy's)
//   %%                                       a literal '%'
// Anything else between '%' signs is a config error.
class HeaderFormatter {
 public:
  // `path` names the config field holding the value; errors name it.
  static absl::StatusOr<HeaderFormatter> create(absl::string_view format, absl::string_view path);

  // `request_headers` serves %REQ()%; nullptr means no request headers (commands yield "").
  std::string format(const http::HeaderMap* request_headers,
                     const HeaderValueContext& context) const;

  // True if the value has no commands (the literal can be used as is).
  bool isLiteral() const { return literal_; }

 private:
  enum class Kind {
    kLiteral,
    kDownstreamRemoteAddress,
    kDownstreamRemoteAddressWithoutPort,
    kUpstreamHost,
    kProtocol,
    kRequestHeader,
    kStartTime,
  };
  struct Segment {
    Kind kind = Kind::kLiteral;
    std::string text;         // literal text, header name, or time format
    std::string alternative;  // REQ(name?alternative)
    std::optional<size_t> max_length;
  };

  HeaderFormatter() = default;

  std::vector<Segment> segments_;
  bool literal_ = true;
};

}  // namespace waystone::router
