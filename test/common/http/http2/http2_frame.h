#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace waystone::http::http2::test {

// Hand-made HTTP/2 frames for tests and the corpus, independent of nghttp2 (so a test does not
// check the codec against the library it wraps). HPACK blocks use literal fields without
// indexing and without Huffman coding: valid, if not compact.

inline constexpr absl::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum FrameType : uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoAway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};

enum FrameFlags : uint8_t {
  kNoFlags = 0,
  kEndStream = 0x1,
  kAck = 0x1,
  kEndHeaders = 0x4,
  kPadded = 0x8,
};

// RFC 9113 §7 error codes used by the tests.
enum ErrorCode : uint32_t {
  kNoError = 0,
  kProtocolError = 1,
  kInternalError = 2,
  kRefusedStream = 7,
  kCancel = 8,
  kEnhanceYourCalm = 11,
};

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string frame(uint8_t type, uint8_t flags, uint32_t stream_id, absl::string_view payload);
std::string hpackBlock(const Headers& headers);
std::string settings(const std::vector<std::pair<uint16_t, uint32_t>>& entries = {});
std::string settingsAck();
std::string ping(uint64_t opaque, bool ack = false);
std::string headers(uint32_t stream_id, const Headers& headers, uint8_t flags);
std::string continuation(uint32_t stream_id, absl::string_view block_fragment, uint8_t flags);
std::string data(uint32_t stream_id, absl::string_view payload, uint8_t flags);
std::string rstStream(uint32_t stream_id, uint32_t error_code);
std::string goAway(uint32_t last_stream_id, uint32_t error_code);
std::string windowUpdate(uint32_t stream_id, uint32_t increment);
std::string priority(uint32_t stream_id, uint32_t depends_on, uint8_t weight);
// A GET for `path` on "example.com" over https.
Headers getRequest(absl::string_view path = "/");

struct Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;
  std::string payload;

  uint32_t errorCode() const;  // RST_STREAM and GOAWAY
};

// Splits bytes into frames; a leading client preface is skipped, a trailing partial frame
// ignored.
std::vector<Frame> parseFrames(absl::string_view bytes);

}  // namespace waystone::http::http2::test
