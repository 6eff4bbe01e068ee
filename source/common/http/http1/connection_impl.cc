#include "source/common/http/http1/connection_impl.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http1/codec_details.h"
#include "source/common/http/http1/stream_encoder_impl.h"

namespace waystone::http::http1 {
namespace {

ConnectionImpl* self(http_parser* parser) { return static_cast<ConnectionImpl*>(parser->data); }

}  // namespace

ConnectionImpl::ConnectionImpl(CodecTransport& transport, http_parser_type type,
                               const Http1Settings& settings, const HeaderLimits& limits)
    : transport_(transport),
      settings_(settings),
      limits_(limits),
      validator_(uint64_t{limits.max_request_headers_kb} * 1024, limits.max_headers_count) {
  http_parser_init(&parser_, type);
  parser_.data = this;
  // Content-Length together with Transfer-Encoding is refused (or allowed) by our own check, with
  // Envoy's details; let the parser report the combination instead of failing on it.
  parser_.allow_chunked_length = 1;
  http_parser_settings_init(&parser_settings_);
  parser_settings_.on_message_begin = &ConnectionImpl::onMessageBeginCb;
  parser_settings_.on_url = &ConnectionImpl::onUrlCb;
  parser_settings_.on_status = &ConnectionImpl::onStatusCb;
  parser_settings_.on_header_field = &ConnectionImpl::onHeaderFieldCb;
  parser_settings_.on_header_value = &ConnectionImpl::onHeaderValueCb;
  parser_settings_.on_headers_complete = &ConnectionImpl::onHeadersCompleteCb;
  parser_settings_.on_body = &ConnectionImpl::onBodyCb;
  parser_settings_.on_message_complete = &ConnectionImpl::onMessageCompleteCb;
  parser_settings_.on_chunk_header = &ConnectionImpl::onChunkHeaderCb;
  parser_settings_.on_chunk_complete = &ConnectionImpl::onChunkCompleteCb;
  validator_.begin(headSection());
}

ConnectionImpl::~ConnectionImpl() = default;

FramingValidator::Section ConnectionImpl::headSection() const {
  return parser_.type == HTTP_REQUEST ? FramingValidator::Section::RequestHead
                                      : FramingValidator::Section::ResponseHead;
}

void ConnectionImpl::setMode(Mode mode) {
  mode_ = mode;
  switch (mode) {
    case Mode::Head:
      validator_.begin(headSection());
      break;
    case Mode::ChunkLine:
      validator_.begin(FramingValidator::Section::ChunkSizeLine);
      break;
    case Mode::ChunkDataEnd:
      validator_.begin(FramingValidator::Section::ChunkDataEnd);
      break;
    case Mode::Trailers:
      validator_.begin(FramingValidator::Section::Trailers);
      break;
    case Mode::Body:
    case Mode::ChunkData:
    case Mode::Raw:
      break;
  }
}

void ConnectionImpl::setCodecError(absl::Status status, uint32_t http_status) {
  if (codec_status_.ok()) {
    codec_status_ = std::move(status);
    error_http_status_ = http_status;
    // Nothing more can be parsed on this connection.
    close_connection_ = true;
  }
}

absl::Status ConnectionImpl::dispatch(buffer::Instance& data) {
  if (dispatching_) {
    // A decoder callback fed the codec again; the outer loop picks the bytes up.
    return absl::OkStatus();
  }
  onDispatchStart();
  if (!codec_status_.ok()) {
    return codec_status_;
  }
  dispatching_ = true;
  if (data.length() == 0) {
    if (mode_ == Mode::Raw) {
      buffer::OwnedImpl empty;
      onRawData(empty, true);
    } else {
      const absl::Status status = onEndOfStream();
      if (!status.ok()) {
        setCodecError(status, 400);
      }
    }
  }
  while (codec_status_.ok() && data.length() > 0) {
    if (dropInput()) {
      data.drain(data.length());
      break;
    }
    if (!canDeliver()) {
      break;
    }
    if (mode_ == Mode::Raw) {
      onRawData(data, false);
      break;
    }
    const absl::Status status = checkBeforeParse();
    if (!status.ok()) {
      setCodecError(status, 400);
      break;
    }
    parseStep(data);
  }
  dispatching_ = false;
  return codec_status_;
}

void ConnectionImpl::parseStep(buffer::Instance& data) {
  absl::string_view front;
  data.forEachSlice([&front](absl::string_view slice) {
    if (front.empty()) {
      front = slice;
    }
  });
  uint64_t window = 0;
  if (approved_ > 0) {
    // Validated bytes of the previous section the parser stopped short of (it paused).
    window = approved_;
  } else {
    switch (mode_) {
      case Mode::Head:
      case Mode::ChunkLine:
      case Mode::ChunkDataEnd:
      case Mode::Trailers: {
        const FramingValidator::Result result = validator_.scan(front);
        if (result.error != FramingValidator::Error::None) {
          failValidation(result.error);
          return;
        }
        // A complete section always moves the parser to the next one; if it did not, the two
        // disagree about the framing and nothing after this point can be trusted.
        if (result.accepted == 0) {
          setCodecError(codecProtocolError(kDetailsCodecError), 400);
          return;
        }
        approved_ = result.accepted;
        window = approved_;
        break;
      }
      case Mode::ChunkData:
        window = chunk_remaining_;
        break;
      case Mode::Body:
        window = front.size();
        break;
      case Mode::Raw:
        return;
    }
  }
  const size_t length = static_cast<size_t>(std::min<uint64_t>(front.size(), window));
  if (length == 0) {
    // A zero-length call means end of stream to the parser; never send one by accident.
    setCodecError(codecProtocolError(kDetailsCodecError), 400);
    return;
  }
  const size_t consumed = http_parser_execute(&parser_, &parser_settings_, front.data(), length);
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  data.drain(consumed);
  approved_ -= std::min<uint64_t>(approved_, consumed);
  if (!codec_status_.ok()) {
    return;
  }
  if (error == HPE_PAUSED) {
    // The loop decides whether to go on; the parser itself is always left runnable.
    http_parser_pause(&parser_, 0);
    return;
  }
  if (error != HPE_OK) {
    failParser(error);
    return;
  }
  if (consumed != length && mode_ != Mode::Raw) {
    setCodecError(codecProtocolError(kDetailsCodecError), 400);
  }
}

absl::Status ConnectionImpl::parseEndOfStream() {
  http_parser_execute(&parser_, &parser_settings_, nullptr, 0);
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (!codec_status_.ok()) {
    return codec_status_;
  }
  if (error == HPE_PAUSED) {
    http_parser_pause(&parser_, 0);
  } else if (error != HPE_OK) {
    failParser(error);
  }
  return codec_status_;
}

void ConnectionImpl::failValidation(FramingValidator::Error error) {
  switch (error) {
    case FramingValidator::Error::None:
      return;
    case FramingValidator::Error::HeadersTooLarge:
      setCodecError(codecProtocolError(kDetailsHeadersTooLarge), 431);
      return;
    case FramingValidator::Error::TooManyHeaders:
      setCodecError(codecProtocolError(kDetailsTooManyHeaders), 431);
      return;
    case FramingValidator::Error::InvalidCharacters:
      setCodecError(codecProtocolError(kDetailsInvalidCharacters), 400);
      return;
    case FramingValidator::Error::Http09:
      // Envoy: HTTP/0.9 is answered like HTTP/1.0 when HTTP/1.0 is not accepted. We never parse
      // HTTP/0.9 (no headers, no framing), so with HTTP/1.0 on it is a plain bad request.
      if (settings_.accept_http_10) {
        setCodecError(codecProtocolError(kDetailsCodecError), 400);
      } else {
        setCodecError(codecProtocolError(kDetailsLowVersion), 426);
      }
      return;
    case FramingValidator::Error::Malformed:
    case FramingValidator::Error::ObsFold:
    case FramingValidator::Error::ChunkLineTooLong:
      setCodecError(codecProtocolError(kDetailsCodecError), 400);
      return;
  }
}

void ConnectionImpl::failParser(http_errno error) {
  switch (error) {
    case HPE_HEADER_OVERFLOW:
      // The library's own limit (80 KiB, compiled in) is lower than a configured limit.
      setCodecError(codecProtocolError(kDetailsHeadersTooLarge), 431);
      return;
    case HPE_INVALID_TRANSFER_ENCODING:
      setCodecError(codecProtocolError(kDetailsInvalidTransferEncoding), 501);
      return;
    default:
      setCodecError(codecProtocolError(kDetailsCodecError), 400);
      return;
  }
}

absl::Status ConnectionImpl::checkBodyFraming(HeaderMap& headers, bool is_connect) {
  const std::vector<absl::string_view> encodings = headers.getAll("transfer-encoding");
  if (!encodings.empty()) {
    // Only "chunked" exactly: anything else (gzip, chunked; chunked twice; "chunked, chunked") is
    // read differently by different hops. Envoy answers 501.
    if (encodings.size() != 1 ||
        !absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(encodings[0]), "chunked") ||
        is_connect) {
      return fail(codecProtocolError(kDetailsInvalidTransferEncoding), 501);
    }
    if ((parser_.flags & F_CHUNKED) == 0) {
      // The parser did not see what we saw.
      return fail(codecProtocolError(kDetailsCodecError), 400);
    }
    if (headers.has("content-length")) {
      if (!settings_.allow_chunked_length) {
        return fail(codecProtocolError(kDetailsChunkedContentLength), 400);
      }
      // RFC 9112 6.3: chunked wins, and the content-length must not be forwarded.
      headers.remove("content-length");
    }
  }
  return absl::OkStatus();
}

void ConnectionImpl::goAway() { close_connection_ = true; }

void ConnectionImpl::onUnderlyingConnectionAboveWriteBufferHighWatermark() {
  above_high_watermark_ = true;
  if (StreamEncoderImpl* stream = activeStream(); stream != nullptr) {
    stream->runHighWatermarkCallbacks();
  }
}

void ConnectionImpl::onUnderlyingConnectionBelowWriteBufferLowWatermark() {
  above_high_watermark_ = false;
  if (StreamEncoderImpl* stream = activeStream(); stream != nullptr) {
    stream->runLowWatermarkCallbacks();
  }
}

int ConnectionImpl::callbackResult(absl::Status status) {
  if (status.ok()) {
    return 0;
  }
  setCodecError(std::move(status), 400);
  return 1;
}

// Trampolines.
int ConnectionImpl::onMessageBeginCb(http_parser* parser) { return self(parser)->onMessageBegin(); }
int ConnectionImpl::onUrlCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onUrl(absl::string_view(at, length));
}
int ConnectionImpl::onStatusCb(http_parser*, const char*, size_t) {
  // The reason phrase carries nothing a proxy may rely on.
  return 0;
}
int ConnectionImpl::onHeaderFieldCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onHeaderField(absl::string_view(at, length));
}
int ConnectionImpl::onHeaderValueCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onHeaderValue(absl::string_view(at, length));
}
int ConnectionImpl::onHeadersCompleteCb(http_parser* parser) {
  return self(parser)->onHeadersComplete();
}
int ConnectionImpl::onBodyCb(http_parser* parser, const char* at, size_t length) {
  return self(parser)->onBody(absl::string_view(at, length));
}
int ConnectionImpl::onMessageCompleteCb(http_parser* parser) {
  return self(parser)->onMessageComplete();
}
int ConnectionImpl::onChunkHeaderCb(http_parser* parser) { return self(parser)->onChunkHeader(); }
int ConnectionImpl::onChunkCompleteCb(http_parser* parser) {
  return self(parser)->onChunkComplete();
}

int ConnectionImpl::onMessageBegin() {
  headers_ = std::make_unique<HeaderMap>();
  current_field_.clear();
  current_value_.clear();
  header_state_ = HeaderState::None;
  processing_trailers_ = false;
  headers_complete_ = false;
  handling_upgrade_ = false;
  return callbackResult(onMessageBeginImpl());
}

int ConnectionImpl::onUrl(absl::string_view data) { return callbackResult(onUrlImpl(data)); }

int ConnectionImpl::onHeaderField(absl::string_view data) {
  if (header_state_ == HeaderState::Value) {
    if (const absl::Status status = completeHeader(); !status.ok()) {
      return callbackResult(status);
    }
  }
  header_state_ = HeaderState::Field;
  current_field_.append(data.data(), data.size());
  return 0;
}

int ConnectionImpl::onHeaderValue(absl::string_view data) {
  header_state_ = HeaderState::Value;
  current_value_.append(data.data(), data.size());
  return 0;
}

absl::Status ConnectionImpl::completeHeader() {
  header_state_ = HeaderState::None;
  std::string name = absl::AsciiStrToLower(current_field_);
  current_field_.clear();
  // The parser skips leading whitespace; trailing OWS is not part of the value either (RFC 9110
  // 5.5). The validator already refused every other control byte.
  const absl::string_view value = absl::StripTrailingAsciiWhitespace(current_value_);
  const absl::StatusOr<bool> accept = acceptHeaderName(name);
  if (!accept.ok()) {
    current_value_.clear();
    return accept.status();
  }
  if (*accept && headers_ != nullptr) {
    headers_->addCopy(name, value);
  }
  current_value_.clear();
  return absl::OkStatus();
}

int ConnectionImpl::onHeadersComplete() {
  if (header_state_ == HeaderState::Value) {
    if (const absl::Status status = completeHeader(); !status.ok()) {
      callbackResult(status);
      return -1;
    }
  }
  headers_complete_ = true;
  const absl::StatusOr<int> result = onHeadersCompleteImpl();
  if (!result.ok()) {
    callbackResult(result.status());
    return -1;
  }
  if (*result == 0) {
    setMode((parser_.flags & F_CHUNKED) != 0 ? Mode::ChunkLine : Mode::Body);
  }
  if (!canDeliver()) {
    http_parser_pause(&parser_, 1);
  }
  return *result;
}

int ConnectionImpl::onBody(absl::string_view data) {
  if (mode_ == Mode::ChunkData) {
    chunk_remaining_ -= std::min<uint64_t>(chunk_remaining_, data.size());
    if (chunk_remaining_ == 0) {
      setMode(Mode::ChunkDataEnd);
    }
  }
  // True for the last bytes of a content-length body: end_stream rides with them.
  const bool final = http_body_is_final(&parser_) != 0;
  buffer::OwnedImpl body(data);
  onBodyImpl(body, final);
  if (!codec_status_.ok()) {
    return 1;
  }
  // Not after the final bytes: the parser's next step is message complete, which pauses anyway,
  // and pausing inside this callback would leave the last byte unconsumed.
  if (!final && !canDeliver()) {
    http_parser_pause(&parser_, 1);
  }
  return 0;
}

int ConnectionImpl::onChunkHeader() {
  if (parser_.content_length == 0) {
    // The last chunk: trailers (possibly none) follow.
    processing_trailers_ = true;
    headers_ = std::make_unique<HeaderMap>();
    header_state_ = HeaderState::None;
    setMode(Mode::Trailers);
  } else {
    chunk_remaining_ = parser_.content_length;
    setMode(Mode::ChunkData);
  }
  return 0;
}

int ConnectionImpl::onChunkComplete() {
  // Also called at the end of the trailers, where the mode must stay.
  if (mode_ == Mode::ChunkDataEnd) {
    setMode(Mode::ChunkLine);
  }
  return 0;
}

int ConnectionImpl::onMessageComplete() {
  HeaderMapPtr trailers;
  if (processing_trailers_) {
    if (header_state_ == HeaderState::Value) {
      if (const absl::Status status = completeHeader(); !status.ok()) {
        return callbackResult(status);
      }
    }
    if (headers_ != nullptr && !headers_->empty()) {
      trailers = std::move(headers_);
    }
    processing_trailers_ = false;
  }
  setMode(handling_upgrade_ ? Mode::Raw : Mode::Head);
  const absl::Status status = onMessageCompleteImpl(std::move(trailers));
  // One message at a time: the loop decides when (and whether) the next one is parsed.
  http_parser_pause(&parser_, 1);
  return callbackResult(status);
}

}  // namespace waystone::http::http1
