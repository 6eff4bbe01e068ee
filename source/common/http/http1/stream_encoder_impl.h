#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"

namespace waystone::http::http1 {

class ConnectionImpl;

// The part of an HTTP/1 stream shared by requests and responses: body framing on the way out,
// the Stream interface (callbacks, reset, flow control). The request or response line and the
// choice of framing belong to RequestEncoderImpl and ResponseEncoderImpl.
class StreamEncoderImpl : public virtual StreamEncoder, public Stream {
 public:
  // How the body goes on the wire, decided when the headers are encoded.
  enum class BodyFraming {
    None,            // no body may follow (HEAD response, 1xx, 204, 304): data is dropped
    ContentLength,   // the caller sent content-length: bytes as they come
    Chunked,         // transfer-encoding: chunked
    CloseDelimited,  // the body ends when the connection closes (HTTP/1.0 peers)
    Raw,             // after an upgrade or a CONNECT: opaque bytes both ways
  };

  ~StreamEncoderImpl() override = default;

  // StreamEncoder
  void encodeData(buffer::Instance& data, bool end_stream) override;
  Stream& getStream() override { return *this; }

  // Stream
  void addCallbacks(StreamCallbacks& callbacks) override;
  void removeCallbacks(StreamCallbacks& callbacks) override;
  void resetStream(StreamResetReason reason) override;
  void readDisable(bool disable) override;
  uint32_t bufferLimit() const override;
  uint32_t streamId() const override { return 0; }

  bool headersEncoded() const { return headers_encoded_; }
  bool localComplete() const { return local_complete_; }
  bool resetCalled() const { return reset_called_; }
  bool readDisabled() const { return read_disable_count_ > 0; }
  BodyFraming framing() const { return framing_; }

  // The connection is done with this stream: undo any readDisable(true) still outstanding (the
  // next stream must be able to read) and ignore flow control calls from now on.
  void detach();
  void runResetCallbacks(StreamResetReason reason);
  void runHighWatermarkCallbacks();
  void runLowWatermarkCallbacks();

  // Writes "key: value\r\n". Entries that would break the framing (CR, LF, NUL or other controls
  // in the value, a name that is not a token) are skipped: a filter must never be able to split
  // a message.
  static void writeHeaderLine(buffer::Instance& out, absl::string_view key,
                              absl::string_view value);
  static bool validHeaderName(absl::string_view name);
  static bool validHeaderValue(absl::string_view value);

 protected:
  explicit StreamEncoderImpl(ConnectionImpl& connection) : connection_(connection) {}

  // Writes the headers after the start line: every non-pseudo entry, in order, except the ones
  // named in `skip` (framing headers the codec decides itself).
  static void writeHeaderBlock(buffer::Instance& out, const HeaderMap& headers,
                               std::initializer_list<absl::string_view> skip);
  void encodeTrailersBase(const HeaderMap& trailers);
  // Marks the local side complete and tells the connection.
  void endEncode();

  ConnectionImpl& connection_;
  BodyFraming framing_ = BodyFraming::Chunked;
  bool headers_encoded_ = false;
  bool local_complete_ = false;
  bool reset_called_ = false;

 private:
  // Entries are nulled, not erased, by removeCallbacks() so that a callback may remove itself
  // while the list is being walked.
  std::vector<StreamCallbacks*> callbacks_;
  uint32_t read_disable_count_ = 0;
  bool detached_ = false;
};

}  // namespace waystone::http::http1
