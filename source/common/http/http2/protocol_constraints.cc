#include "source/common/http/http2/protocol_constraints.h"

#include <nghttp2/nghttp2.h>

#include "source/common/http/codec.h"

namespace waystone::http::http2 {

ProtocolConstraints::ProtocolConstraints(const Http2Settings& settings)
    : max_outbound_frames_(settings.max_outbound_frames),
      max_outbound_control_frames_(settings.max_outbound_control_frames),
      max_consecutive_empty_frames_(settings.max_consecutive_inbound_frames_with_empty_payload),
      max_priority_frames_per_stream_(settings.max_inbound_priority_frames_per_stream),
      max_window_updates_per_data_frame_(
          settings.max_inbound_window_update_frames_per_data_frame_sent) {}

absl::Status ProtocolConstraints::trackInboundFrame(uint8_t type, uint8_t flags, size_t length) {
  switch (type) {
    case NGHTTP2_DATA:
    case NGHTTP2_HEADERS:
    case NGHTTP2_CONTINUATION:
      // An empty DATA frame that ends the stream is legitimate; a run of empty frames is the
      // CVE-2019-9518 pattern (each costs work and carries nothing).
      if (length == 0 && (flags & NGHTTP2_FLAG_END_STREAM) == 0) {
        if (++consecutive_empty_frames_ > max_consecutive_empty_frames_) {
          return bufferFloodError("http2.inbound_empty_frames_flood");
        }
      } else {
        consecutive_empty_frames_ = 0;
      }
      break;
    case NGHTTP2_PRIORITY:
      // PRIORITY frames cost work and are never answered, so a budget per opened stream.
      if (++inbound_priority_frames_ >
          static_cast<uint64_t>(max_priority_frames_per_stream_) * (1 + inbound_streams_)) {
        return bufferFloodError("http2.inbound_priority_frames_flood");
      }
      break;
    case NGHTTP2_WINDOW_UPDATE:
      // Envoy's formula: WINDOW_UPDATEs are expected in proportion to the DATA we send.
      if (++inbound_window_update_frames_ >
          5 + 2 * (inbound_streams_ + static_cast<uint64_t>(max_window_updates_per_data_frame_) *
                                          outbound_data_frames_)) {
        return bufferFloodError("http2.inbound_window_update_frames_flood");
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status ProtocolConstraints::trackOutboundFrame(uint8_t type) {
  if (type == NGHTTP2_DATA) {
    ++outbound_data_frames_;
  }
  if (!transport_above_high_watermark_) {
    return absl::OkStatus();
  }
  ++outbound_frames_;
  const bool control = type != NGHTTP2_DATA && type != NGHTTP2_HEADERS &&
                       type != NGHTTP2_CONTINUATION && type != NGHTTP2_PUSH_PROMISE;
  if (control && ++outbound_control_frames_ > max_outbound_control_frames_) {
    return bufferFloodError("http2.outbound_control_flood");
  }
  if (outbound_frames_ > max_outbound_frames_) {
    return bufferFloodError("http2.outbound_flood");
  }
  return absl::OkStatus();
}

void ProtocolConstraints::setTransportAboveHighWatermark(bool above) {
  transport_above_high_watermark_ = above;
  if (!above) {
    // The peer is reading again: what we had queued has (mostly) left.
    outbound_frames_ = 0;
    outbound_control_frames_ = 0;
  }
}

absl::Status ProtocolConstraints::trackStreamClose(bool premature) {
  ++closed_streams_;
  if (premature) {
    ++premature_resets_;
  }
  if (closed_streams_ >= kPrematureResetMinStreams && premature_resets_ * 2 > closed_streams_) {
    return bufferFloodError("http2.too_many_premature_resets");
  }
  return absl::OkStatus();
}

}  // namespace waystone::http::http2
