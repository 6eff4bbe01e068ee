#include "source/common/http/http1/framing_validator.h"

namespace waystone::http::http1 {
namespace {

constexpr uint8_t kCr = '\r';
constexpr uint8_t kLf = '\n';
constexpr uint8_t kSp = ' ';
constexpr uint8_t kHtab = '\t';

// RFC 9110 tchar.
bool isTchar(uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isVchar(uint8_t c) { return c >= 0x21 && c <= 0x7e; }

// field-content bytes (RFC 9110 5.5): VCHAR, SP, HTAB and obs-text.
bool isFieldByte(uint8_t c) { return c == kHtab || c == kSp || isVchar(c) || c >= 0x80; }

bool isHex(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool isDigit(uint8_t c) { return c >= '0' && c <= '9'; }

constexpr absl::string_view kVersionPrefix = "HTTP/";
// "HTTP/" DIGIT "." DIGIT
constexpr uint32_t kVersionLength = 8;

}  // namespace

FramingValidator::FramingValidator(uint64_t max_head_bytes, uint32_t max_header_count)
    : max_head_bytes_(max_head_bytes), max_header_count_(max_header_count) {}

void FramingValidator::begin(Section section) {
  section_ = section;
  error_ = Error::None;
  head_bytes_ = 0;
  header_count_ = 0;
  index_ = 0;
  line_bytes_ = 0;
  switch (section) {
    case Section::RequestHead:
    case Section::ResponseHead:
      state_ = State::BeforeStart;
      break;
    case Section::Trailers:
      state_ = State::LineStart;
      break;
    case Section::ChunkSizeLine:
      state_ = State::ChunkSizeStart;
      break;
    case Section::ChunkDataEnd:
      state_ = State::DataEndCr;
      break;
  }
}

FramingValidator::Result FramingValidator::scan(absl::string_view data) {
  Result result;
  if (state_ == State::Failed) {
    result.error = error_;
    return result;
  }
  if (state_ == State::Complete) {
    result.complete = true;
    return result;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    const Error error = step(static_cast<uint8_t>(data[i]));
    if (error != Error::None) {
      error_ = error;
      state_ = State::Failed;
      result.accepted = i;
      result.error = error;
      return result;
    }
    if (state_ == State::Complete) {
      result.accepted = i + 1;
      result.complete = true;
      return result;
    }
  }
  result.accepted = data.size();
  return result;
}

FramingValidator::Error FramingValidator::step(uint8_t c) {
  const bool head_section = section_ == Section::RequestHead || section_ == Section::ResponseHead ||
                            section_ == Section::Trailers;
  if (head_section) {
    // Empty lines before a message are skipped by the parser and cost nothing to keep: they are
    // consumed as they come.
    if (state_ == State::BeforeStart && (c == kCr || c == kLf)) {
      return Error::None;
    }
    if (++head_bytes_ > max_head_bytes_) {
      return Error::HeadersTooLarge;
    }
  }
  switch (state_) {
    case State::BeforeStart:
    case State::Method:
    case State::TargetStart:
    case State::Target:
    case State::RequestVersion:
    case State::ResponseVersion:
    case State::StatusCode:
    case State::Reason:
    case State::StartLineCr:
      return stepStartLine(c);
    case State::LineStart:
    case State::Name:
    case State::Value:
    case State::ValueCr:
    case State::EndCr:
      return stepHeaderLine(c);
    case State::ChunkSizeStart:
    case State::ChunkSize:
    case State::ChunkBws:
    case State::ChunkExt:
    case State::ChunkCr:
    case State::DataEndCr:
    case State::DataEndLf:
      return stepChunk(c);
    case State::Complete:
    case State::Failed:
      break;
  }
  return Error::Malformed;
}

FramingValidator::Error FramingValidator::stepVersion(uint8_t c, bool& done) {
  done = false;
  if (index_ < kVersionPrefix.size()) {
    if (c != static_cast<uint8_t>(kVersionPrefix[index_])) {
      return Error::Malformed;
    }
  } else if (index_ == 5 || index_ == 7) {
    if (!isDigit(c)) {
      return Error::Malformed;
    }
  } else if (c != '.') {
    return Error::Malformed;
  }
  done = ++index_ == kVersionLength;
  return Error::None;
}

FramingValidator::Error FramingValidator::stepStartLine(uint8_t c) {
  switch (state_) {
    case State::BeforeStart:
      index_ = 0;
      if (section_ == Section::RequestHead) {
        state_ = State::Method;
      } else {
        state_ = State::ResponseVersion;
      }
      return stepStartLine(c);
    case State::Method:
      if (isTchar(c)) {
        ++index_;
        return Error::None;
      }
      if (c == kSp && index_ > 0) {
        state_ = State::TargetStart;
        return Error::None;
      }
      return Error::Malformed;
    case State::TargetStart:
      // Exactly one space between method and target; raw 8-bit bytes and controls are never part
      // of a request target (they must be percent-encoded).
      if (!isVchar(c)) {
        return Error::Malformed;
      }
      state_ = State::Target;
      return Error::None;
    case State::Target:
      if (isVchar(c)) {
        return Error::None;
      }
      if (c == kSp) {
        state_ = State::RequestVersion;
        index_ = 0;
        return Error::None;
      }
      if (c == kCr || c == kLf) {
        return Error::Http09;
      }
      return Error::Malformed;
    case State::RequestVersion:
      if (index_ < kVersionLength) {
        bool done = false;
        return stepVersion(c, done);
      }
      if (c == kCr) {
        state_ = State::StartLineCr;
        return Error::None;
      }
      if (c == kLf) {
        state_ = State::LineStart;
        return Error::None;
      }
      return Error::Malformed;
    case State::ResponseVersion:
      if (index_ < kVersionLength) {
        bool done = false;
        return stepVersion(c, done);
      }
      if (c != kSp) {
        return Error::Malformed;
      }
      state_ = State::StatusCode;
      index_ = 0;
      return Error::None;
    case State::StatusCode:
      if (index_ < 3) {
        ++index_;
        return isDigit(c) ? Error::None : Error::Malformed;
      }
      if (c == kSp) {
        state_ = State::Reason;
        return Error::None;
      }
      if (c == kCr) {
        state_ = State::StartLineCr;
        return Error::None;
      }
      if (c == kLf) {
        state_ = State::LineStart;
        return Error::None;
      }
      return Error::Malformed;
    case State::Reason:
      if (c == kCr) {
        state_ = State::StartLineCr;
        return Error::None;
      }
      if (c == kLf) {
        state_ = State::LineStart;
        return Error::None;
      }
      return isFieldByte(c) ? Error::None : Error::InvalidCharacters;
    case State::StartLineCr:
      if (c != kLf) {
        return Error::Malformed;
      }
      state_ = State::LineStart;
      return Error::None;
    default:
      return Error::Malformed;
  }
}

FramingValidator::Error FramingValidator::stepHeaderLine(uint8_t c) {
  switch (state_) {
    case State::LineStart:
      if (c == kCr) {
        state_ = State::EndCr;
        return Error::None;
      }
      if (c == kLf) {
        state_ = State::Complete;
        return Error::None;
      }
      if (c == kSp || c == kHtab) {
        // obs-fold (RFC 9112 5.2): a proxy must either refuse it or replace it; other hops may
        // read the continuation as a new header.
        return Error::ObsFold;
      }
      if (!isTchar(c)) {
        return Error::InvalidCharacters;
      }
      if (++header_count_ > max_header_count_) {
        return Error::TooManyHeaders;
      }
      state_ = State::Name;
      return Error::None;
    case State::Name:
      if (isTchar(c)) {
        return Error::None;
      }
      if (c == ':') {
        state_ = State::Value;
        return Error::None;
      }
      if (c == kCr || c == kLf) {
        return Error::Malformed;  // a header line without a colon
      }
      // Includes whitespace between the name and the colon (RFC 9112 5.1: MUST reject).
      return Error::InvalidCharacters;
    case State::Value:
      if (c == kCr) {
        state_ = State::ValueCr;
        return Error::None;
      }
      if (c == kLf) {
        state_ = State::LineStart;
        return Error::None;
      }
      return isFieldByte(c) ? Error::None : Error::InvalidCharacters;
    case State::ValueCr:
      if (c != kLf) {
        return Error::InvalidCharacters;  // a bare CR inside a value
      }
      state_ = State::LineStart;
      return Error::None;
    case State::EndCr:
      if (c != kLf) {
        return Error::Malformed;
      }
      state_ = State::Complete;
      return Error::None;
    default:
      return Error::Malformed;
  }
}

FramingValidator::Error FramingValidator::stepChunk(uint8_t c) {
  if (section_ == Section::ChunkSizeLine && ++line_bytes_ > kMaxChunkSizeLineBytes) {
    return Error::ChunkLineTooLong;
  }
  switch (state_) {
    case State::ChunkSizeStart:
      if (!isHex(c)) {
        return Error::Malformed;
      }
      index_ = 1;
      state_ = State::ChunkSize;
      return Error::None;
    case State::ChunkSize:
      if (isHex(c)) {
        return ++index_ > kMaxChunkSizeDigits ? Error::Malformed : Error::None;
      }
      if (c == ';') {
        state_ = State::ChunkExt;
        return Error::None;
      }
      if (c == kSp || c == kHtab) {
        state_ = State::ChunkBws;
        return Error::None;
      }
      if (c == kCr) {
        state_ = State::ChunkCr;
        return Error::None;
      }
      return Error::Malformed;
    case State::ChunkBws:
      // Only whitespace before an extension; "5 6" must not be read as chunk size 5.
      if (c == kSp || c == kHtab) {
        return Error::None;
      }
      if (c == ';') {
        state_ = State::ChunkExt;
        return Error::None;
      }
      if (c == kCr) {
        state_ = State::ChunkCr;
        return Error::None;
      }
      return Error::Malformed;
    case State::ChunkExt:
      if (c == kCr) {
        state_ = State::ChunkCr;
        return Error::None;
      }
      // A bare LF inside an extension is the classic desync: some parsers end the line there.
      return isFieldByte(c) ? Error::None : Error::InvalidCharacters;
    case State::ChunkCr:
      if (c != kLf) {
        return Error::Malformed;
      }
      state_ = State::Complete;
      return Error::None;
    case State::DataEndCr:
      if (c != kCr) {
        return Error::Malformed;
      }
      state_ = State::DataEndLf;
      return Error::None;
    case State::DataEndLf:
      if (c != kLf) {
        return Error::Malformed;
      }
      state_ = State::Complete;
      return Error::None;
    default:
      return Error::Malformed;
  }
}

}  // namespace waystone::http::http1
