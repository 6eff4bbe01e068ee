#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

#include "source/common/formatter/text_formatter.h"
#include "source/common/http/header_map.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// tunneling_config: how a tcp_proxy connection becomes an HTTP/2 CONNECT stream (Envoy's
// TunnelingConfigHelper). Classic CONNECT only: `:method CONNECT` and `:authority` from
// `hostname`, no `:path` / `:scheme` (RFC 9113 §8.5), which is what HBONE peers expect.
// Immutable; evaluated per connection against the downstream connection's stream info.
class TunnelingConfig {
 public:
  using Proto = envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::TunnelingConfig;

  // `field_path` names the tunneling_config message. Refused: use_post and post_path (Waystone
  // tunnels with CONNECT only), header names that are pseudo-headers or host (as Envoy).
  static absl::StatusOr<std::unique_ptr<const TunnelingConfig>> create(
      const Proto& proto, absl::string_view field_path);

  // The CONNECT request for one connection: :method, :authority (hostname formatted; a missing
  // value renders as "-", as Envoy's formatter does) and headers_to_add.
  http::RequestHeaderMapPtr requestHeaders(const stream_info::StreamInfo& info) const;

  // Store the CONNECT response headers / trailers in the downstream connection's filter state.
  bool propagateResponseHeaders() const { return propagate_response_headers_; }
  bool propagateResponseTrailers() const { return propagate_response_trailers_; }

 private:
  using AppendAction = envoy::config::core::v3::HeaderValueOption::HeaderAppendAction;
  struct HeaderToAdd {
    std::string key;  // lower case
    std::unique_ptr<formatter::TextFormatter> value;
    AppendAction action;
    bool keep_empty_value;
  };

  TunnelingConfig() = default;

  std::unique_ptr<formatter::TextFormatter> hostname_;
  std::vector<HeaderToAdd> headers_to_add_;
  bool propagate_response_headers_ = false;
  bool propagate_response_trailers_ = false;
};

// The filter-state keys Envoy uses for propagate_response_headers / _trailers.
inline constexpr absl::string_view kPropagateResponseHeadersKey =
    "envoy.tcp_proxy.propagate_response_headers";
inline constexpr absl::string_view kPropagateResponseTrailersKey =
    "envoy.tcp_proxy.propagate_response_trailers";

// The value stored under those keys: the CONNECT response's headers (or trailers). Its text form
// (%FILTER_STATE(...:PLAIN)%) is one "name: value" line per header.
class TunnelResponseHeaders : public stream_info::FilterState::Object {
 public:
  explicit TunnelResponseHeaders(http::HeaderMapPtr headers) : headers_(std::move(headers)) {}
  const http::HeaderMap& value() const { return *headers_; }
  std::optional<std::string> serializeAsString() const override { return headers_->toString(); }

 private:
  const http::HeaderMapPtr headers_;
};

}  // namespace waystone::extensions::network_filters::tcp_proxy
