#include "source/common/http/http2/frame_header_aligner.h"

#include <algorithm>

namespace waystone::http::http2 {
namespace {

// The 24-bit length field of the frame header at the start of `header`.
size_t frameLength(absl::string_view header) {
  return (static_cast<size_t>(static_cast<uint8_t>(header[0])) << 16) |
         (static_cast<size_t>(static_cast<uint8_t>(header[1])) << 8) |
         static_cast<size_t>(static_cast<uint8_t>(header[2]));
}

}  // namespace

bool FrameHeaderAligner::process(absl::string_view input, const Sink& sink) {
  while (!input.empty()) {
    if (preface_remaining_ > 0) {
      const size_t n = std::min(preface_remaining_, input.size());
      preface_remaining_ -= n;
      if (!sink(input.substr(0, n))) {
        return false;
      }
      input.remove_prefix(n);
      continue;
    }
    if (payload_remaining_ > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(payload_remaining_, input.size()));
      payload_remaining_ -= n;
      if (!sink(input.substr(0, n))) {
        return false;
      }
      input.remove_prefix(n);
      continue;
    }
    if (!header_carry_.empty()) {
      const size_t n = std::min(kFrameHeaderSize - header_carry_.size(), input.size());
      header_carry_.append(input.data(), n);
      input.remove_prefix(n);
      if (header_carry_.size() < kFrameHeaderSize) {
        return true;  // still incomplete: wait for the next read
      }
      payload_remaining_ = frameLength(header_carry_);
      const std::string header = std::move(header_carry_);
      header_carry_.clear();
      if (!sink(header)) {
        return false;
      }
      continue;
    }
    // At a frame boundary: pass every frame whose header is complete, carry the rest.
    size_t end = 0;
    while (input.size() - end >= kFrameHeaderSize) {
      end += kFrameHeaderSize + frameLength(input.substr(end));
      if (end >= input.size()) {
        break;
      }
    }
    if (end >= input.size()) {
      payload_remaining_ = end - input.size();
      return sink(input);
    }
    if (end > 0 && !sink(input.substr(0, end))) {
      return false;
    }
    header_carry_.assign(input.data() + end, input.size() - end);
    return true;
  }
  return true;
}

}  // namespace waystone::http::http2
