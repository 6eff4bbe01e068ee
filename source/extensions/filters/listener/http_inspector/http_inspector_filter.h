#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

#include "source/common/network/listener_filter.h"

namespace waystone::extensions::listener_filters::http_inspector {

// envoy.filters.listener.http_inspector: peeks at the first bytes of a plaintext connection and
// records its application protocol for filter chain selection: "h2c" for the HTTP/2 connection
// preface, "http/1.1" or "http/1.0" for an HTTP/1 request line. Anything else (or TLS, which
// tls_inspector reports) leaves the protocols empty. Waits for more bytes while the request line
// is incomplete, up to kMaxInspectBytes.
class HttpInspectorFilter final : public network::ListenerFilter {
 public:
  static constexpr uint64_t kMaxInspectBytes = 8192;

  enum class Result { NeedMoreData, Http2, Http10, Http11, NotHttp };
  // The verdict on the bytes seen so far (exposed for tests).
  static Result inspect(absl::string_view data);

  network::ListenerFilterStatus onAccept(network::ListenerFilterCallbacks& callbacks) override;

 private:
  // True when done (protocol recorded or given up).
  bool tryInspect();

  network::ListenerFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace waystone::extensions::listener_filters::http_inspector
