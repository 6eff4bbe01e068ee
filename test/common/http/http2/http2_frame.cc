#include "test/common/http/http2/http2_frame.h"

#include "absl/strings/match.h"

namespace waystone::http::http2::test {
namespace {

void appendUint32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

uint32_t readUint32(absl::string_view bytes) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(bytes[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(bytes[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[3]));
}

// HPACK integer with a 7-bit prefix (RFC 7541 §5.1), H bit clear.
void appendLength(std::string& out, size_t value) {
  if (value < 127) {
    out.push_back(static_cast<char>(value));
    return;
  }
  out.push_back(static_cast<char>(127));
  value -= 127;
  while (value >= 128) {
    out.push_back(static_cast<char>((value % 128) + 128));
    value /= 128;
  }
  out.push_back(static_cast<char>(value));
}

}  // namespace

std::string frame(uint8_t type, uint8_t flags, uint32_t stream_id, absl::string_view payload) {
  std::string out;
  const size_t length = payload.size();
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  appendUint32(out, stream_id & 0x7fffffff);
  out.append(payload.data(), payload.size());
  return out;
}

std::string hpackBlock(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    out.push_back(0x00);  // literal header field without indexing, new name
    appendLength(out, name.size());
    out += name;
    appendLength(out, value.size());
    out += value;
  }
  return out;
}

std::string settings(const std::vector<std::pair<uint16_t, uint32_t>>& entries) {
  std::string payload;
  for (const auto& [id, value] : entries) {
    payload.push_back(static_cast<char>(id >> 8));
    payload.push_back(static_cast<char>(id & 0xff));
    appendUint32(payload, value);
  }
  return frame(kSettings, kNoFlags, 0, payload);
}

std::string settingsAck() { return frame(kSettings, kAck, 0, ""); }

std::string ping(uint64_t opaque, bool ack) {
  std::string payload;
  appendUint32(payload, static_cast<uint32_t>(opaque >> 32));
  appendUint32(payload, static_cast<uint32_t>(opaque));
  return frame(kPing, ack ? kAck : kNoFlags, 0, payload);
}

std::string headers(uint32_t stream_id, const Headers& headers, uint8_t flags) {
  return frame(kHeaders, flags, stream_id, hpackBlock(headers));
}

std::string continuation(uint32_t stream_id, absl::string_view block_fragment, uint8_t flags) {
  return frame(kContinuation, flags, stream_id, block_fragment);
}

std::string data(uint32_t stream_id, absl::string_view payload, uint8_t flags) {
  return frame(kData, flags, stream_id, payload);
}

std::string rstStream(uint32_t stream_id, uint32_t error_code) {
  std::string payload;
  appendUint32(payload, error_code);
  return frame(kRstStream, kNoFlags, stream_id, payload);
}

std::string goAway(uint32_t last_stream_id, uint32_t error_code) {
  std::string payload;
  appendUint32(payload, last_stream_id);
  appendUint32(payload, error_code);
  return frame(kGoAway, kNoFlags, 0, payload);
}

std::string windowUpdate(uint32_t stream_id, uint32_t increment) {
  std::string payload;
  appendUint32(payload, increment);
  return frame(kWindowUpdate, kNoFlags, stream_id, payload);
}

std::string priority(uint32_t stream_id, uint32_t depends_on, uint8_t weight) {
  std::string payload;
  appendUint32(payload, depends_on);
  payload.push_back(static_cast<char>(weight));
  return frame(kPriority, kNoFlags, stream_id, payload);
}

Headers getRequest(absl::string_view path) {
  return {{":method", "GET"},
          {":scheme", "https"},
          {":authority", "example.com"},
          {":path", std::string(path)}};
}

uint32_t Frame::errorCode() const {
  if (type == kRstStream && payload.size() >= 4) {
    return readUint32(payload);
  }
  if (type == kGoAway && payload.size() >= 8) {
    return readUint32(absl::string_view(payload).substr(4));
  }
  return 0;
}

std::vector<Frame> parseFrames(absl::string_view bytes) {
  if (absl::StartsWith(bytes, kClientPreface)) {
    bytes.remove_prefix(kClientPreface.size());
  }
  std::vector<Frame> frames;
  while (bytes.size() >= 9) {
    const size_t length = (static_cast<size_t>(static_cast<uint8_t>(bytes[0])) << 16) |
                          (static_cast<size_t>(static_cast<uint8_t>(bytes[1])) << 8) |
                          static_cast<size_t>(static_cast<uint8_t>(bytes[2]));
    if (bytes.size() < 9 + length) {
      break;
    }
    Frame f;
    f.type = static_cast<uint8_t>(bytes[3]);
    f.flags = static_cast<uint8_t>(bytes[4]);
    f.stream_id = readUint32(bytes.substr(5)) & 0x7fffffff;
    f.payload = std::string(bytes.substr(9, length));
    frames.push_back(std::move(f));
    bytes.remove_prefix(9 + length);
  }
  return frames;
}

}  // namespace waystone::http::http2::test
