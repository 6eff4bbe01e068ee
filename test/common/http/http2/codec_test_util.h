#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/deferred_deletable.h"
#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/http/http2/client_connection_impl.h"
#include "source/common/http/http2/server_connection_impl.h"

namespace waystone::http::http2::test {

// An in-memory transport: what the codec writes collects in outbox(). With a connection
// attached, it behaves like a socket's send buffer of bufferLimit() bytes: going above the limit
// calls onUnderlyingConnectionAboveWriteBufferHighWatermark(), draining to half calls ...Below.
class TestTransport : public CodecTransport {
 public:
  explicit TestTransport(uint32_t buffer_limit = 1024 * 1024) : buffer_limit_(buffer_limit) {}

  // CodecTransport
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override { read_disabled_ += disable ? 1 : -1; }
  uint32_t bufferLimit() const override { return buffer_limit_; }

  void simulateWatermarks(Connection* connection) { watermark_connection_ = connection; }
  // The peer reads up to `max` bytes.
  void drainTo(buffer::Instance& out, uint64_t max = UINT64_MAX);
  std::string takeOutput();

  buffer::OwnedImpl& outbox() { return outbox_; }
  uint64_t writeCalls() const { return write_calls_; }
  uint64_t maxOutboxLength() const { return max_outbox_length_; }
  int readDisabled() const { return read_disabled_; }

 private:
  const uint32_t buffer_limit_;
  buffer::OwnedImpl outbox_;
  Connection* watermark_connection_ = nullptr;
  bool above_ = false;
  uint64_t write_calls_ = 0;
  uint64_t max_outbox_length_ = 0;
  int read_disabled_ = 0;
};

// Records what happens on one stream, on either side.
struct StreamRecord : public StreamCallbacks {
  // StreamCallbacks
  void onResetStream(StreamResetReason reason, absl::string_view details) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  HeaderMapPtr headers;
  std::vector<HeaderMapPtr> informational;
  std::string body;
  HeaderMapPtr trailers;
  bool end_stream = false;
  bool reset = false;
  StreamResetReason reset_reason = StreamResetReason::LocalReset;
  std::string reset_details;
  int above_watermark = 0;
  int below_watermark = 0;
  bool paused = false;  // above - below > 0
  uint64_t data_calls = 0;
};

class TestRequestDecoder : public RequestDecoder, public StreamRecord {
 public:
  explicit TestRequestDecoder(ResponseEncoder& encoder) : encoder_(encoder) {
    encoder.getStream().addCallbacks(*this);
  }
  void decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(RequestTrailerMapPtr&& trailers) override;

  ResponseEncoder& encoder() { return encoder_; }
  Stream& stream() { return encoder_.getStream(); }

  // Hooks the test sets before the event.
  std::function<void(TestRequestDecoder&)> on_headers;
  std::function<void(TestRequestDecoder&)> on_data;
  std::function<void(TestRequestDecoder&)> on_end;

 private:
  ResponseEncoder& encoder_;
};

class TestResponseDecoder : public ResponseDecoder, public StreamRecord {
 public:
  void decode1xxHeaders(ResponseHeaderMapPtr&& headers) override;
  void decodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(ResponseTrailerMapPtr&& trailers) override;

  std::function<void(TestResponseDecoder&)> on_headers;
  std::function<void(TestResponseDecoder&)> on_data;
};

class TestServerCallbacks : public ServerConnectionCallbacks {
 public:
  RequestDecoder& newStream(ResponseEncoder& encoder) override;
  void onGoAway() override { ++goaways; }

  std::vector<std::unique_ptr<TestRequestDecoder>> streams;
  // Runs on each new stream before its headers are decoded, to set hooks.
  std::function<void(TestRequestDecoder&)> on_new_stream;
  int goaways = 0;
};

class TestConnectionCallbacks : public ConnectionCallbacks {
 public:
  void onGoAway() override { ++goaways; }
  int goaways = 0;
};

// Collects finished streams like Dispatcher::deferredDelete(); freeAll() is the end of a loop
// iteration.
class TestDeferredDeleter {
 public:
  CodecRuntime::DeferredDelete callback() {
    return [this](event::DeferredDeletablePtr&& p) { pending_.push_back(std::move(p)); };
  }
  void freeAll() { pending_.clear(); }
  size_t pending() const { return pending_.size(); }

 private:
  std::vector<event::DeferredDeletablePtr> pending_;
};

// A client codec wired to a server codec through two TestTransports.
class CodecPair {
 public:
  CodecPair(const Http2Settings& client_settings = {}, const Http2Settings& server_settings = {},
            const HeaderLimits& client_limits = {}, const HeaderLimits& server_limits = {},
            uint32_t client_buffer_limit = 1024 * 1024, uint32_t server_buffer_limit = 1024 * 1024);

  // Moves bytes both ways (at most `max_chunk` per hop) until neither side writes any more, or
  // a side fails. Returns the number of hops. Between hops `between_hops` runs (producers).
  int pump(uint64_t max_chunk = UINT64_MAX, int max_hops = 1000000,
           const std::function<void()>& between_hops = nullptr);

  TestResponseDecoder& startRequest(const HeaderMap& headers, bool end_stream,
                                    RequestEncoder** encoder_out = nullptr);

  TestTransport client_transport;
  TestTransport server_transport;
  TestConnectionCallbacks client_callbacks;
  TestServerCallbacks server_callbacks;
  TestDeferredDeleter client_deleter;
  TestDeferredDeleter server_deleter;
  std::unique_ptr<ClientConnectionImpl> client;
  std::unique_ptr<ServerConnectionImpl> server;
  absl::Status client_status;
  absl::Status server_status;
  std::vector<std::unique_ptr<TestResponseDecoder>> responses;
};

HeaderMap requestHeaders(absl::string_view method = "GET", absl::string_view path = "/");
HeaderMap responseHeaders(absl::string_view status = "200");

}  // namespace waystone::http::http2::test
