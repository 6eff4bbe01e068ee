#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include <nghttp2/nghttp2.h>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/timer.h"
#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/http2/codec_runtime.h"
#include "source/common/http/http2/frame_header_aligner.h"
#include "source/common/http/http2/nghttp2_handles.h"
#include "source/common/http/http2/protocol_constraints.h"
#include "source/common/http/http2/stream_impl.h"

namespace waystone::http::http2 {

class Nghttp2Trampolines;

// The part of an HTTP/2 connection that servers and clients share: the nghttp2 session, its
// callbacks, the send loop, flow control, limits, GOAWAY and keepalive.
//
// Output: everything nghttp2 serializes during one dispatch() or one send cycle is collected in
// one buffer and handed to CodecTransport::write() once, not frame by frame.
//
// Errors: dispatch() returns the first connection error and keeps returning it; before
// returning, the codec has queued and written a GOAWAY with the matching code (PROTOCOL_ERROR,
// or ENHANCE_YOUR_CALM for floods), so the owner only has to flush and close.
class ConnectionImpl : public virtual Connection {
 public:
  ~ConnectionImpl() override;

  // Connection
  absl::Status dispatch(buffer::Instance& data) override;
  void goAway() override;
  void shutdownNotice() override;
  Protocol protocol() const override { return Protocol::Http2; }
  bool wantsToWrite() const override;
  void onUnderlyingConnectionAboveWriteBufferHighWatermark() override;
  void onUnderlyingConnectionBelowWriteBufferLowWatermark() override;

  // Diagnostics (tests, admin): DATA bytes received but not yet handed to decoders, and the
  // streams still owned by the connection.
  uint64_t bufferedReceiveBytes() const;
  size_t activeStreamCount() const { return active_streams_.size(); }
  const ProtocolConstraints& protocolConstraints() const { return constraints_; }

  // For StreamImpl.
  nghttp2_session* session() { return session_.get(); }
  const HeaderLimits& headerLimits() const { return header_limits_; }
  uint32_t transportBufferLimit() const { return transport_.bufferLimit(); }
  bool transportAboveHighWatermark() const { return constraints_.transportAboveHighWatermark(); }
  bool isServer() const { return is_server_; }
  std::chrono::steady_clock::time_point now() const;
  // Flushes nghttp2's queue to the transport unless a dispatch or send is already running (then
  // that one picks the new frames up).
  void sendPending();
  // A data provider reading `stream`'s pending send buffer.
  nghttp2_data_provider dataProvider(StreamImpl& stream);
  // Re-opens the stream-level receive window by `length` delivered bytes.
  void consumeStreamWindow(StreamImpl& stream, uint64_t length);
  // Wakes a deferred data provider.
  void resumeData(StreamImpl& stream);
  // Records the id nghttp2 gave a stream.
  void registerStreamId(StreamImpl& stream, int32_t stream_id);
  // Sends RST_STREAM for a local reset and finishes the stream when nghttp2 will not.
  void submitReset(StreamImpl& stream, StreamResetReason reason);
  // Delivery of buffered DATA after readDisable(false): immediately, or after the nghttp2 call
  // in progress (a decoder must never be re-entered from inside nghttp2).
  void scheduleResume(StreamImpl& stream);
  // Below-low-watermark callbacks found while nghttp2 is sending run after it returns.
  void scheduleLowWatermark(StreamImpl& stream);
  // Removes a finished stream and hands it to deferred deletion.
  void finalizeStream(StreamImpl& stream);

 protected:
  ConnectionImpl(CodecTransport& transport, ConnectionCallbacks& callbacks,
                 const Http2Settings& settings, const HeaderLimits& header_limits,
                 CodecRuntime runtime, bool is_server);

  // Side-specific header handling. onBeginHeaders() returns 0 or an nghttp2 error code.
  virtual int onBeginHeaders(const nghttp2_frame& frame) = 0;
  virtual void onHeadersComplete(StreamImpl& stream, const nghttp2_frame& frame) = 0;

  StreamImpl* findStream(int32_t stream_id) const;
  // Takes ownership of a new stream.
  StreamImpl& addStream(std::unique_ptr<StreamImpl> stream);
  // Records the first connection error; later ones are ignored.
  void setConnectionError(const absl::Status& status);
  bool hasConnectionError() const { return !connection_error_.ok(); }
  // Checks a header against the limits while the block is still arriving. Returns 0, or
  // NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE, which makes nghttp2 reset the stream.
  int addDecodedHeader(StreamImpl& stream, absl::string_view name, absl::string_view value);
  ConnectionCallbacks& connectionCallbacks() { return callbacks_; }
  void onInboundStreamOpened() { constraints_.onInboundStreamOpened(); }
  const Http2Settings& settings() const { return settings_; }

 private:
  friend class Nghttp2Trampolines;

  void createSession(const CodecRuntime& runtime);
  // One nghttp2_session_mem_recv call; false once a connection error is recorded.
  bool feed(absl::string_view bytes);
  void submitSettings();
  void sendPendingInternal();
  void flushOutput();
  void runScheduledWork();
  void terminateOnError();
  void clearGraveyard();
  void onKeepaliveTimer();
  void onKeepaliveTimeout();

  // nghttp2 callbacks (see Nghttp2Trampolines).
  ssize_t onSend(const uint8_t* data, size_t length);
  int onSendData(nghttp2_frame& frame, const uint8_t* framehd, size_t length);
  ssize_t onDataSourceRead(int32_t stream_id, size_t length, uint32_t& data_flags);
  int onBeginFrame(const nghttp2_frame_hd& hd);
  int onHeader(const nghttp2_frame& frame, absl::string_view name, absl::string_view value);
  int onFrameReceived(const nghttp2_frame& frame);
  int onDataChunk(int32_t stream_id, const uint8_t* data, size_t length);
  int onStreamClose(int32_t stream_id, uint32_t error_code);
  int onFrameSend(const nghttp2_frame& frame);
  int onFrameNotSend(const nghttp2_frame& frame, int lib_error_code);
  int onInvalidFrame(const nghttp2_frame& frame, int lib_error_code);

  CodecTransport& transport_;
  ConnectionCallbacks& callbacks_;
  const Http2Settings settings_;
  const HeaderLimits header_limits_;
  const bool is_server_;
  CodecRuntime::DeferredDelete deferred_delete_;
  CodecRuntime::TimeSource time_source_;
  CodecRuntime::ErrorCallback on_connection_error_;

  SessionPtr session_;
  ProtocolConstraints constraints_;
  buffer::OwnedImpl output_;

  std::list<std::unique_ptr<StreamImpl>> active_streams_;
  absl::flat_hash_map<int32_t, StreamImpl*> streams_by_id_;
  std::vector<std::unique_ptr<StreamImpl>> graveyard_;  // without deferred_delete_
  std::vector<StreamImpl*> scheduled_resumes_;
  std::vector<StreamImpl*> scheduled_low_watermarks_;

  // Hands input to nghttp2 with every frame header whole (see FrameHeaderAligner).
  FrameHeaderAligner aligner_;

  absl::Status connection_error_;
  bool dispatching_ = false;
  bool sending_ = false;
  bool send_again_ = false;
  bool terminated_by_us_ = false;

  event::TimerPtr keepalive_timer_;
  event::TimerPtr keepalive_timeout_timer_;
  uint64_t keepalive_ping_id_ = 0;
};

}  // namespace waystone::http::http2
