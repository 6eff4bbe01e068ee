#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace waystone::http::http2 {

// Passes an HTTP/2 byte stream on so that every 9-byte frame header reaches the sink in one
// call. Debian's nghttp2 1.52 (the CVE-2024-28182 backport) counts a CONTINUATION frame once per
// nghttp2_session_mem_recv call that delivers part of its header, so a valid header block whose
// CONTINUATION headers were split across small reads could hit the CONTINUATION cap. An
// incomplete frame header is held back (at most 8 bytes) until it is whole; complete frames and
// payload bytes pass through untouched, in as few calls as possible. A server skips the 24-byte
// client preface first (passed through as it comes, so a bad preface fails at once).
class FrameHeaderAligner {
 public:
  // Returns false to stop (the receiver failed).
  using Sink = std::function<bool(absl::string_view)>;

  static constexpr size_t kFrameHeaderSize = 9;

  explicit FrameHeaderAligner(size_t preface_size) : preface_remaining_(preface_size) {}

  // Returns false as soon as `sink` does.
  bool process(absl::string_view input, const Sink& sink);

  // Bytes held back (a partial frame header).
  size_t heldBack() const { return header_carry_.size(); }

 private:
  size_t preface_remaining_;
  uint64_t payload_remaining_ = 0;
  std::string header_carry_;
};

}  // namespace waystone::http::http2
