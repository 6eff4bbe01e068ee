#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"

namespace waystone::http::http1 {

// A CodecTransport that keeps what the codec writes and counts readDisable() nesting.
class TestTransport : public CodecTransport {
 public:
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override;
  uint32_t bufferLimit() const override { return 1024 * 1024; }

  // Takes (and clears) what was written so far.
  std::string take();

  std::string written;
  bool end_stream = false;
  // Writes (with bytes) that arrived after end_stream: always a bug.
  int writes_after_end = 0;
  int read_disabled = 0;
  // readDisable(false) without a matching readDisable(true): always a bug.
  int unbalanced_enables = 0;
};

// How test input is cut before it reaches dispatch(): every test runs with each.
enum class Split { Whole, OneByte, SevenBytes };
std::string splitName(Split split);
inline void PrintTo(Split split, std::ostream* os) { *os << splitName(split); }

// Appends `bytes` to `input` piece by piece, dispatching after each piece (what a connection does
// as reads complete). Stops at the first error. Bytes the codec did not consume stay in `input`.
absl::Status feed(Connection& codec, buffer::OwnedImpl& input, absl::string_view bytes,
                  Split split);

// Records what a request decoder receives; hooks let a test act from inside the callbacks.
class TestRequestDecoder : public RequestDecoder, public StreamCallbacks {
 public:
  explicit TestRequestDecoder(ResponseEncoder& encoder);

  // RequestDecoder
  void decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(RequestTrailerMapPtr&& trailers) override;
  // StreamCallbacks
  void onResetStream(StreamResetReason reason, absl::string_view details) override;
  void onAboveWriteBufferHighWatermark() override { ++high_watermarks; }
  void onBelowWriteBufferLowWatermark() override { ++low_watermarks; }

  // Sends a response: status, headers, then `body` (if any) and end of stream.
  void respond(uint32_t status, const std::vector<std::pair<std::string, std::string>>& headers,
               absl::string_view body, bool end = true);

  ResponseEncoder& encoder;
  RequestHeaderMapPtr headers;
  bool headers_end_stream = false;
  std::string body;
  int data_calls = 0;
  RequestTrailerMapPtr trailers;
  bool ended = false;
  // Any event after end of stream, or before the headers: always a bug.
  int out_of_order = 0;
  bool reset = false;
  StreamResetReason reset_reason = StreamResetReason::LocalReset;
  int high_watermarks = 0;
  int low_watermarks = 0;
  std::function<void(TestRequestDecoder&)> on_headers;
  std::function<void(TestRequestDecoder&)> on_data;
  std::function<void(TestRequestDecoder&)> on_end;

 private:
  void end();
};

class TestServerCallbacks : public ServerConnectionCallbacks {
 public:
  RequestDecoder& newStream(ResponseEncoder& encoder) override;

  std::vector<std::unique_ptr<TestRequestDecoder>> streams;
  // Called for each new stream before it is returned.
  std::function<void(TestRequestDecoder&)> on_new_stream;
};

// Records what a response decoder receives.
class TestResponseDecoder : public ResponseDecoder, public StreamCallbacks {
 public:
  // ResponseDecoder
  void decode1xxHeaders(ResponseHeaderMapPtr&& headers) override;
  void decodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(ResponseTrailerMapPtr&& trailers) override;
  // StreamCallbacks
  void onResetStream(StreamResetReason reason, absl::string_view details) override;

  std::vector<ResponseHeaderMapPtr> informational;
  ResponseHeaderMapPtr headers;
  bool headers_end_stream = false;
  std::string body;
  ResponseTrailerMapPtr trailers;
  bool ended = false;
  int out_of_order = 0;
  bool reset = false;
  std::function<void(TestResponseDecoder&)> on_headers;
  std::function<void(TestResponseDecoder&)> on_data;
  std::function<void(TestResponseDecoder&)> on_end;

 private:
  void end();
};

class TestConnectionCallbacks : public ConnectionCallbacks {};

// Builds a header map from pairs, in order.
HeaderMap makeHeaders(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace waystone::http::http1
