#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

#include "source/common/http/codec_options.h"

namespace waystone::http::http2 {

// Per-connection abuse budgets that Debian's nghttp2 1.52 does not enforce by itself (it has
// the reset-rate limiter and the CONTINUATION cap as backports, but no "glitch" limiter). Each
// check returns OK or a bufferFloodError() whose message names the budget, Envoy style.
//
// Outbound frames are counted while the transport is above its high watermark: those frames sit
// in the transport's buffer because the peer is not reading (a PING or SETTINGS flood whose ACKs
// it never collects). The counts restart when the transport drains below its low watermark.
class ProtocolConstraints {
 public:
  // Envoy's premature-reset rule (CVE-2023-44487 "Rapid Reset"): once this many streams have
  // closed on a connection, more than half of them closing within kPrematureResetMinLifetime of
  // creation because the peer reset them, or they were refused or reset for the peer's
  // misbehaviour, is a flood. Envoy checks at 500 streams; we check sooner.
  static constexpr uint64_t kPrematureResetMinStreams = 100;
  static constexpr std::chrono::seconds kPrematureResetMinLifetime{1};

  explicit ProtocolConstraints(const Http2Settings& settings);

  // Inbound frame header (type, flags, payload length) as it starts to arrive.
  absl::Status trackInboundFrame(uint8_t type, uint8_t flags, size_t length);
  // A peer-initiated stream was opened (raises the PRIORITY and WINDOW_UPDATE budgets).
  void onInboundStreamOpened() { ++inbound_streams_; }

  // A frame was serialized for the transport.
  absl::Status trackOutboundFrame(uint8_t type);
  void setTransportAboveHighWatermark(bool above);
  bool transportAboveHighWatermark() const { return transport_above_high_watermark_; }

  // A stream closed; `premature` per the rule above.
  absl::Status trackStreamClose(bool premature);

  uint64_t outboundFrames() const { return outbound_frames_; }
  uint64_t outboundControlFrames() const { return outbound_control_frames_; }
  uint64_t closedStreams() const { return closed_streams_; }
  uint64_t prematureResets() const { return premature_resets_; }

 private:
  const uint32_t max_outbound_frames_;
  const uint32_t max_outbound_control_frames_;
  const uint32_t max_consecutive_empty_frames_;
  const uint32_t max_priority_frames_per_stream_;
  const uint32_t max_window_updates_per_data_frame_;

  bool transport_above_high_watermark_ = false;
  uint64_t outbound_frames_ = 0;
  uint64_t outbound_control_frames_ = 0;
  uint64_t outbound_data_frames_ = 0;  // all DATA frames sent, for the WINDOW_UPDATE budget

  uint64_t consecutive_empty_frames_ = 0;
  uint64_t inbound_streams_ = 0;
  uint64_t inbound_priority_frames_ = 0;
  uint64_t inbound_window_update_frames_ = 0;

  uint64_t closed_streams_ = 0;
  uint64_t premature_resets_ = 0;
};

}  // namespace waystone::http::http2
