#pragma once

#include <cstdint>

namespace waystone::http {

// What HttpConnectionManager / HttpProtocolOptions / Http2ProtocolOptions say, in the form the
// codecs use. Defaults are Envoy's (v1.36 for HTTP/2, which tightened them), except where noted.

enum class HeadersWithUnderscoresAction { Allow, RejectRequest, DropHeader };

struct HeaderLimits {
  uint32_t max_request_headers_kb = 60;  // HCM max_request_headers_kb; over it: 431
  uint32_t max_headers_count = 100;      // common_http_protocol_options.max_headers_count
  HeadersWithUnderscoresAction headers_with_underscores_action =
      HeadersWithUnderscoresAction::Allow;
};

struct Http1Settings {
  bool allow_absolute_url = true;
  bool accept_http_10 = false;
  // Envoy refuses chunked + content-length by default (allow_chunked_length false).
  bool allow_chunked_length = false;
  bool enable_trailers = false;
};

struct Http2Settings {
  uint32_t hpack_table_size = 4096;
  // Envoy 1.36 default 1024; Istio's waypoint sets 100 on the HBONE listener.
  uint32_t max_concurrent_streams = 1024;
  uint32_t initial_stream_window_size = 16 * 1024 * 1024;
  uint32_t initial_connection_window_size = 24 * 1024 * 1024;
  bool allow_connect = false;
  // Flood protection (Envoy's names and defaults).
  uint32_t max_outbound_frames = 10000;
  uint32_t max_outbound_control_frames = 1000;
  uint32_t max_consecutive_inbound_frames_with_empty_payload = 1;
  uint32_t max_inbound_priority_frames_per_stream = 100;
  uint32_t max_inbound_window_update_frames_per_data_frame_sent = 10;
  // Keepalive PING: 0 disables.
  uint32_t connection_keepalive_interval_ms = 0;
  uint32_t connection_keepalive_timeout_ms = 0;
};

}  // namespace waystone::http
