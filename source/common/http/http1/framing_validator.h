#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace waystone::http::http1 {

// Checks the framing bytes of an HTTP/1 message before libhttp-parser sees them.
//
// Debian builds libhttp-parser with HTTP_PARSER_STRICT=0, which accepts things a proxy must
// refuse because another hop may read them differently (request smuggling): whitespace before
// the colon, obs-fold continuation lines, bare CR, any two bytes after chunk data, control bytes
// and raw 8-bit bytes in the request target, chunk-size lines with trailing garbage, HTTP/0.9
// request lines. The codec runs this validator over every byte of the message head, the chunk-size
// lines, the CRLF after each chunk and the trailer section, and feeds the parser only the bytes the
// validator accepted. The section ends exactly where the parser's state changes, so the two never
// disagree about where a message, a chunk or the trailers end.
//
// Limits are enforced here too, while the bytes arrive: the head (start line, header lines and
// their line ends) may not exceed `max_head_bytes`, nor hold more than `max_header_count` header
// lines; the same limits apply afresh to the trailer section.
//
// Line ends: CRLF, or a bare LF in the head and trailers (as libhttp-parser and Envoy's
// http-parser codec accept it). A bare CR is always refused. Chunk-size lines and the line end
// after chunk data must be CRLF.
class FramingValidator {
 public:
  enum class Section {
    RequestHead,    // optional empty lines, request line, header lines, empty line
    ResponseHead,   // optional empty lines, status line, header lines, empty line
    Trailers,       // header lines, empty line (after the last chunk)
    ChunkSizeLine,  // chunk-size [ext] CRLF
    ChunkDataEnd,   // the CRLF after chunk data
  };

  enum class Error {
    None,
    Malformed,          // the grammar is broken (missing colon, bad version, bad chunk size...)
    InvalidCharacters,  // a byte not allowed where it stands (NUL, CTL, whitespace before colon)
    ObsFold,            // a header line starting with SP or HTAB
    HeadersTooLarge,    // more than max_head_bytes
    TooManyHeaders,     // more than max_header_count header lines
    Http09,             // a request line without a version
    ChunkLineTooLong,   // a chunk-size line longer than kMaxChunkSizeLineBytes
  };

  struct Result {
    // Bytes at the front of the input that belong to the section and are valid. When `complete`,
    // the last of them ends the section; otherwise they are all of the input.
    size_t accepted = 0;
    bool complete = false;
    Error error = Error::None;
  };

  // Chunk extensions have no use in a proxy; a long one is only an attempt to cost CPU.
  static constexpr uint32_t kMaxChunkSizeLineBytes = 4096;
  // Hex digits in a chunk size: 16 hold any 64-bit size; more is an overflow attempt.
  static constexpr uint32_t kMaxChunkSizeDigits = 16;

  FramingValidator(uint64_t max_head_bytes, uint32_t max_header_count);

  // Starts a new section; every counter is reset.
  void begin(Section section);
  // Validates the next bytes of the current section. After an error or a complete section, returns
  // the same result again without looking at `data` until begin() is called.
  Result scan(absl::string_view data);

  Section section() const { return section_; }
  bool complete() const { return state_ == State::Complete; }
  // Bytes of the head counted against the limit so far (leading empty lines do not count).
  uint64_t headBytes() const { return head_bytes_; }
  uint32_t headerCount() const { return header_count_; }

 private:
  enum class State {
    // Start lines.
    BeforeStart,
    Method,
    TargetStart,
    Target,
    RequestVersion,
    ResponseVersion,
    StatusCode,
    Reason,
    StartLineCr,
    // Header lines.
    LineStart,
    Name,
    Value,
    ValueCr,
    EndCr,
    // Chunk framing.
    ChunkSizeStart,
    ChunkSize,
    ChunkBws,
    ChunkExt,
    ChunkCr,
    DataEndCr,
    DataEndLf,
    // Terminal.
    Complete,
    Failed,
  };

  // Consumes one byte; returns an error or None. Sets state_ = Complete on the section's last byte.
  Error step(uint8_t c);
  Error stepStartLine(uint8_t c);
  Error stepHeaderLine(uint8_t c);
  Error stepChunk(uint8_t c);
  // Matches "HTTP/d.d" one byte at a time; true when the version is complete.
  Error stepVersion(uint8_t c, bool& done);

  const uint64_t max_head_bytes_;
  const uint32_t max_header_count_;
  Section section_ = Section::RequestHead;
  State state_ = State::BeforeStart;
  Error error_ = Error::None;
  uint64_t head_bytes_ = 0;
  uint32_t header_count_ = 0;
  uint32_t index_ = 0;  // position inside a fixed token (version, status code, chunk digits)
  uint32_t line_bytes_ = 0;
};

}  // namespace waystone::http::http1
