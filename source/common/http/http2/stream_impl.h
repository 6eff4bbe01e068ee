#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/buffer/watermark_buffer.h"
#include "source/common/event/deferred_deletable.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"

namespace waystone::http::http2 {

class ConnectionImpl;
class ServerConnectionImpl;
class ClientConnectionImpl;

// State and behaviour shared by server and client streams. A stream is owned by its connection
// from creation until it is finished (both directions done, or reset); then it is handed to
// deferred deletion, so references held by the layers above stay valid until the end of the
// current event-loop iteration. Every method is a no-op once the stream is finished.
//
// Receive side: DATA is appended to pending_recv_data_ and handed to the decoder when the frame
// is complete, unless the stream is read-disabled; then it stays here, the stream-level window
// is not re-opened (nghttp2_session_consume_stream is called only for delivered bytes), and the
// peer stalls on this stream alone. So a read-disabled stream never holds more than its window.
//
// Send side: encodeData() appends to pending_send_data_, a watermark buffer whose high mark is
// the transport's buffer limit; nghttp2 pulls from it through a data provider (NO_COPY: the
// frame header and the slices are moved into the connection's output, no byte is copied).
class StreamImpl : public virtual StreamEncoder, public Stream, public event::DeferredDeletable {
 public:
  StreamImpl(ConnectionImpl& parent, uint32_t buffer_limit);
  ~StreamImpl() override = default;

  // Stream
  void addCallbacks(StreamCallbacks& callbacks) override;
  void removeCallbacks(StreamCallbacks& callbacks) override;
  void resetStream(StreamResetReason reason) override;
  void readDisable(bool disable) override;
  uint32_t bufferLimit() const override { return buffer_limit_; }
  uint32_t streamId() const override {
    return stream_id_ > 0 ? static_cast<uint32_t>(stream_id_) : 0;
  }

  // StreamEncoder
  void encodeData(buffer::Instance& data, bool end_stream) override;
  Stream& getStream() override { return *this; }

  // Bytes received and not yet handed to the decoder.
  uint64_t bufferedReceiveBytes() const { return pending_recv_data_.length(); }
  uint64_t bufferedSendBytes() const { return pending_send_data_.length(); }

 protected:
  // The connection side drives the receive path and reads the state flags.
  friend class ConnectionImpl;
  friend class ServerConnectionImpl;
  friend class ClientConnectionImpl;

  // The side-specific half of delivery.
  virtual void deliverData(buffer::Instance& data, bool end_stream) = 0;
  virtual void deliverTrailers(HeaderMapPtr&& trailers) = 0;

  // Sends trailers after any pending data (both sides share this).
  void encodeTrailersBase(const HeaderMap& trailers);
  // Runs onResetStream() on every callback once; later calls do nothing.
  void runResetCallbacks(StreamResetReason reason, absl::string_view details);
  void runHighWatermarkCallbacks();
  void runLowWatermarkCallbacks();

  // Receive path, driven by the connection.
  void onDataChunk(const uint8_t* data, size_t length);
  void onDataFrameComplete(bool end_stream);
  void onTrailers(HeaderMapPtr&& trailers);
  // Hands buffered data, end of stream and trailers to the decoder while reads are enabled.
  void deliverPending();
  // True once the decoder has seen the end of the stream (or never will, after a reset).
  bool receiveDone() const { return end_delivered_ || reset_notified_; }

  bool active() const { return !finalized_; }

  ConnectionImpl& parent_;
  const uint32_t buffer_limit_;
  int32_t stream_id_ = -1;  // -1 until HEADERS are submitted (client) or received (server)
  std::list<std::unique_ptr<StreamImpl>>::iterator entry_;
  std::chrono::steady_clock::time_point created_;

  std::vector<StreamCallbacks*> callbacks_;  // removed entries become nullptr while iterating
  uint32_t callbacks_iterating_ = 0;
  uint32_t high_watermark_callbacks_ = 0;

  buffer::WatermarkBuffer pending_send_data_;
  buffer::OwnedImpl pending_recv_data_;
  HeaderMapPtr decoding_headers_;       // the header block being received
  HeaderMapPtr pending_trailers_;       // received, not yet delivered (reads disabled)
  HeaderMapPtr pending_send_trailers_;  // to send once pending_send_data_ is out

  uint32_t read_disable_count_ = 0;
  bool headers_submitted_ = false;        // our HEADERS are queued in nghttp2
  bool data_provider_attached_ = false;   // ... with a data provider behind them
  bool data_deferred_ = false;            // the provider said DEFERRED: resume_data() wakes it
  bool local_end_requested_ = false;      // the encoder ended the stream
  bool local_end_sent_ = false;           // END_STREAM went out
  bool remote_end_ = false;               // END_STREAM arrived
  bool end_delivered_ = false;            // the decoder saw end_stream (or trailers)
  bool reset_notified_ = false;           // onResetStream() ran (or the stream was never exposed)
  bool remote_reset_ = false;             // the peer sent RST_STREAM
  bool peer_misbehaved_ = false;          // we reset it for the peer's fault (limits, protocol)
  bool nghttp2_closed_ = false;           // nghttp2 forgot the stream
  bool finalized_ = false;                // handed to deferred deletion
  bool resume_scheduled_ = false;         // queued for delivery after the current nghttp2 call
  bool low_watermark_scheduled_ = false;  // below-low notification queued likewise

  // Why nghttp2 will close the stream, when we asked it to (header limits, messaging errors).
  bool has_close_reason_ = false;
  StreamResetReason close_reason_ = StreamResetReason::LocalReset;
  std::string close_details_;
};

}  // namespace waystone::http::http2
