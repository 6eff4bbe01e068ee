#include "source/common/http/codec_client.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/logger.h"
#include "source/common/http/codec_factory.h"

namespace waystone::http {

// Sits between the codec and the caller's decoder (and encoder) to see when each request ends.
// A request ends with its response, except a CONNECT: a tunnel carries bytes both ways, and its
// upload may go on after the response has ended (the server half-closed first), so it ends when
// both directions have (or on a reset). Until then it holds its place in the connection's stream
// count, and a connection that closes resets it, so a tunnel never outlives its stream unheard.
class CodecClient::ActiveRequest final : public ResponseDecoder,
                                         public StreamCallbacks,
                                         public RequestEncoder {
 public:
  ActiveRequest(CodecClient& parent, ResponseDecoder& inner) : parent_(parent), inner_(inner) {}

  // ResponseDecoder
  void decode1xxHeaders(ResponseHeaderMapPtr&& headers) override {
    inner_.decode1xxHeaders(std::move(headers));
  }
  void decodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream) override {
    ResponseDecoder& inner = inner_;
    if (end_stream) {
      onDecodeComplete();
    }
    inner.decodeHeaders(std::move(headers), end_stream);
  }
  void decodeData(buffer::Instance& data, bool end_stream) override {
    ResponseDecoder& inner = inner_;
    if (end_stream) {
      onDecodeComplete();
    }
    inner.decodeData(data, end_stream);
  }
  void decodeTrailers(ResponseTrailerMapPtr&& trailers) override {
    ResponseDecoder& inner = inner_;
    onDecodeComplete();
    inner.decodeTrailers(std::move(trailers));
  }
  void onResetStream(StreamResetReason, absl::string_view) override { done(true); }

  // RequestEncoder: the codec's, watched for the end of the request.
  absl::Status encodeHeaders(const RequestHeaderMap& headers, bool end_stream) override {
    if (headers.method() == "CONNECT") {
      wait_encode_complete_ = true;
    }
    const absl::Status status = codec_encoder_->encodeHeaders(headers, end_stream);
    if (status.ok() && end_stream) {
      onEncodeComplete();
    }
    return status;
  }
  void encodeTrailers(const RequestTrailerMap& trailers) override {
    codec_encoder_->encodeTrailers(trailers);
    onEncodeComplete();
  }
  void encodeData(buffer::Instance& data, bool end_stream) override {
    codec_encoder_->encodeData(data, end_stream);
    if (end_stream) {
      onEncodeComplete();
    }
  }
  Stream& getStream() override { return codec_encoder_->getStream(); }

  RequestEncoder* codec_encoder_ = nullptr;
  std::list<std::unique_ptr<ActiveRequest>>::iterator position_;

 private:
  void onDecodeComplete() {
    decode_complete_ = true;
    if (!wait_encode_complete_ || encode_complete_) {
      done(false);
    }
  }
  void onEncodeComplete() {
    encode_complete_ = true;
    if (wait_encode_complete_ && decode_complete_) {
      done(false);
    }
  }
  void done(bool reset) {
    if (!done_) {
      done_ = true;
      codec_encoder_->getStream().removeCallbacks(*this);
      parent_.onRequestDone(*this, reset);
    }
  }

  CodecClient& parent_;
  ResponseDecoder& inner_;
  bool wait_encode_complete_ = false;
  bool decode_complete_ = false;
  bool encode_complete_ = false;
  bool done_ = false;
};

CodecClient::CodecClient(Protocol protocol, network::ClientConnectionPtr connection,
                         upstream::HostConstSharedPtr host, event::Dispatcher& dispatcher,
                         const Http2Settings& http2_settings, const HeaderLimits& limits,
                         CodecClientCallbacks& callbacks)
    : protocol_(protocol),
      connection_(std::move(connection)),
      host_(std::move(host)),
      dispatcher_(dispatcher),
      callbacks_(callbacks) {
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
  codec_ = createClientCodec(protocol_, *this, *this, http2_settings, limits, dispatcher_);
}

CodecClient::~CodecClient() {
  if (!closed_) {
    closed_ = true;
    connection_->close(network::ConnectionCloseType::NoFlush);
  }
  dispatcher_.deferredDelete(std::move(connection_));
}

void CodecClient::connect() { connection_->connect(); }

RequestEncoder& CodecClient::newStream(ResponseDecoder& decoder) {
  auto request = std::make_unique<ActiveRequest>(*this, decoder);
  ActiveRequest& ref = *request;
  active_requests_.push_front(std::move(request));
  ref.position_ = active_requests_.begin();
  ref.codec_encoder_ = &codec_->newStream(ref);
  ref.codec_encoder_->getStream().addCallbacks(ref);
  ++total_requests_;
  return ref;
}

void CodecClient::onRequestDone(ActiveRequest& request, bool reset) {
  std::unique_ptr<ActiveRequest> owned = std::move(*request.position_);
  active_requests_.erase(request.position_);
  // The request object may still be on the stack (inside its callback): free it later.
  struct Holder : event::DeferredDeletable {
    explicit Holder(std::unique_ptr<ActiveRequest> r) : request(std::move(r)) {}
    std::unique_ptr<ActiveRequest> request;
  };
  dispatcher_.deferredDelete(std::make_unique<Holder>(std::move(owned)));
  // An HTTP/1 connection whose request was reset (the response may still be arriving) or whose
  // peer said "connection: close" must never carry another request: close it, and the pool
  // forgets it (onClose) instead of reusing it.
  if (protocol_ != Protocol::Http2 &&
      (reset || (codec_ != nullptr && codec_->shouldCloseConnection()))) {
    close();
    return;
  }
  callbacks_.onStreamComplete(*this);
}

void CodecClient::close() {
  if (!closed_) {
    connection_->close(network::ConnectionCloseType::NoFlush);
  }
}

void CodecClient::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected) {
    transport_connected_ = true;
    // HTTP/2: wait for the peer's SETTINGS (sent first thing by every server, so half a round
    // trip at most), so that no stream is opened beyond its MAX_CONCURRENT_STREAMS; nghttp2
    // would hold such a stream back, and a tunnel would wait for another to end.
    if (protocol_ != Protocol::Http2 || settings_received_) {
      connected_ = true;
      callbacks_.onConnected(*this);
    }
    return;
  }
  if (closed_) {
    return;
  }
  closed_ = true;
  const bool was_connected = connected_;
  connected_ = false;
  const std::string reason(connection_->transportFailureReason());
  // Requests still open lose their connection: reset each through the codec, which tells every
  // party watching the stream (the router, and the ActiveRequest that reports to the pool).
  while (!active_requests_.empty()) {
    ActiveRequest* request = active_requests_.front().get();
    request->getStream().resetStream(StreamResetReason::ConnectionTermination);
    if (!active_requests_.empty() && active_requests_.front().get() == request) {
      request->onResetStream(StreamResetReason::ConnectionTermination, reason);
    }
  }
  // We may be inside the codec's own call stack (a callback that closed us): free it after
  // this loop turn, never now.
  struct CodecHolder : event::DeferredDeletable {
    explicit CodecHolder(ClientConnectionPtr c) : codec(std::move(c)) {}
    ClientConnectionPtr codec;
  };
  dispatcher_.deferredDelete(std::make_unique<CodecHolder>(std::move(codec_)));
  callbacks_.onClose(*this, was_connected, reason);
}

void CodecClient::onAboveWriteBufferHighWatermark() {
  if (codec_ != nullptr) {
    codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  }
}

void CodecClient::onBelowWriteBufferLowWatermark() {
  if (codec_ != nullptr) {
    codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  }
}

void CodecClient::onData(buffer::Instance& data, bool end_stream) {
  if (codec_ == nullptr) {
    data.drain(data.length());
    return;
  }
  const absl::Status status = codec_->dispatch(data);
  if (!status.ok()) {
    WAYSTONE_LOG(debug, pool, "upstream %s: codec error: %s", host_->address()->asString(),
                 status.message());
    close();
    return;
  }
  if (end_stream) {
    // The upstream closed its side: an empty dispatch tells the codec, which completes an
    // HTTP/1 close-delimited body (instead of resetting it), then the connection goes.
    buffer::OwnedImpl empty;
    if (codec_ != nullptr) {
      (void)codec_->dispatch(empty);
    }
    close();
  }
}

void CodecClient::write(buffer::Instance& data, bool end_stream) {
  connection_->write(data, end_stream);
}

void CodecClient::readDisable(bool disable) { connection_->readDisable(disable); }

uint32_t CodecClient::bufferLimit() const { return connection_->bufferLimit(); }

void CodecClient::onSettings() {
  if (closed_) {
    return;
  }
  if (!settings_received_) {
    settings_received_ = true;
    if (transport_connected_ && !connected_) {
      connected_ = true;
      callbacks_.onConnected(*this);
    }
    return;
  }
  if (connected_) {
    callbacks_.onSettingsChanged(*this);
  }
}

uint64_t CodecClient::maxConcurrentStreams() const {
  return codec_ == nullptr ? UINT64_MAX : codec_->maxConcurrentStreams();
}

void CodecClient::onGoAway() {
  remote_goaway_ = true;
  callbacks_.onGoAway(*this);
}

}  // namespace waystone::http
