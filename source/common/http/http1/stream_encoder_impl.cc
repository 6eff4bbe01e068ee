#include "source/common/http/http1/stream_encoder_impl.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http1/connection_impl.h"

namespace waystone::http::http1 {
namespace {

bool isTchar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
    return true;
  }
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

}  // namespace

bool StreamEncoderImpl::validHeaderName(absl::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), isTchar);
}

bool StreamEncoderImpl::validHeaderValue(absl::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

void StreamEncoderImpl::writeHeaderLine(buffer::Instance& out, absl::string_view key,
                                        absl::string_view value) {
  if (!validHeaderName(key) || !validHeaderValue(value)) {
    return;
  }
  out.add(absl::StrCat(key, ": ", value, "\r\n"));
}

void StreamEncoderImpl::writeHeaderBlock(buffer::Instance& out, const HeaderMap& headers,
                                         std::initializer_list<absl::string_view> skip) {
  for (const HeaderEntry& entry : headers.entries()) {
    if (!entry.key.empty() && entry.key[0] == ':') {
      continue;
    }
    if (std::find(skip.begin(), skip.end(), entry.key) != skip.end()) {
      continue;
    }
    writeHeaderLine(out, entry.key, entry.value);
  }
}

void StreamEncoderImpl::encodeData(buffer::Instance& data, bool end_stream) {
  if (local_complete_ || reset_called_) {
    data.drain(data.length());
    return;
  }
  buffer::OwnedImpl out;
  if (data.length() > 0) {
    switch (framing_) {
      case BodyFraming::None:
        // HEAD, 1xx, 204, 304: the message has no body whatever the caller sends.
        data.drain(data.length());
        break;
      case BodyFraming::Chunked:
        out.add(absl::StrCat(absl::Hex(data.length()), "\r\n"));
        out.move(data);
        out.add("\r\n");
        break;
      case BodyFraming::ContentLength:
      case BodyFraming::CloseDelimited:
      case BodyFraming::Raw:
        out.move(data);
        break;
    }
  }
  if (end_stream && framing_ == BodyFraming::Chunked) {
    out.add("0\r\n\r\n");
  }
  if (out.length() > 0) {
    connection_.write(out);
  }
  if (end_stream) {
    endEncode();
  }
}

void StreamEncoderImpl::encodeTrailersBase(const HeaderMap& trailers) {
  if (local_complete_ || reset_called_) {
    return;
  }
  buffer::OwnedImpl out;
  // Trailers exist only in chunked bodies (RFC 9112 7.1.2); otherwise they end the body.
  if (framing_ == BodyFraming::Chunked) {
    out.add("0\r\n");
    if (connection_.settings().enable_trailers) {
      writeHeaderBlock(out, trailers, {"transfer-encoding", "content-length"});
    }
    out.add("\r\n");
    connection_.write(out);
  }
  endEncode();
}

void StreamEncoderImpl::endEncode() {
  local_complete_ = true;
  connection_.onEncodeComplete(*this);
}

void StreamEncoderImpl::addCallbacks(StreamCallbacks& callbacks) {
  callbacks_.push_back(&callbacks);
  if (connection_.aboveHighWatermark()) {
    callbacks.onAboveWriteBufferHighWatermark();
  }
}

void StreamEncoderImpl::removeCallbacks(StreamCallbacks& callbacks) {
  for (StreamCallbacks*& entry : callbacks_) {
    if (entry == &callbacks) {
      entry = nullptr;
    }
  }
}

void StreamEncoderImpl::resetStream(StreamResetReason reason) {
  if (reset_called_) {
    return;
  }
  reset_called_ = true;
  connection_.onStreamReset(*this, reason);
}

void StreamEncoderImpl::readDisable(bool disable) {
  if (detached_) {
    return;
  }
  if (disable) {
    ++read_disable_count_;
    connection_.onStreamReadDisable(true);
  } else if (read_disable_count_ > 0) {
    --read_disable_count_;
    connection_.onStreamReadDisable(false);
  }
}

uint32_t StreamEncoderImpl::bufferLimit() const { return connection_.transportBufferLimit(); }

void StreamEncoderImpl::detach() {
  if (detached_) {
    return;
  }
  detached_ = true;
  while (read_disable_count_ > 0) {
    --read_disable_count_;
    connection_.onStreamReadDisable(false);
  }
}

void StreamEncoderImpl::runResetCallbacks(StreamResetReason reason) {
  // Index loop: a callback may add or remove callbacks while we walk.
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (StreamCallbacks* callbacks = callbacks_[i]; callbacks != nullptr) {
      callbacks->onResetStream(reason, "");
    }
  }
}

void StreamEncoderImpl::runHighWatermarkCallbacks() {
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (StreamCallbacks* callbacks = callbacks_[i]; callbacks != nullptr) {
      callbacks->onAboveWriteBufferHighWatermark();
    }
  }
}

void StreamEncoderImpl::runLowWatermarkCallbacks() {
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (StreamCallbacks* callbacks = callbacks_[i]; callbacks != nullptr) {
      callbacks->onBelowWriteBufferLowWatermark();
    }
  }
}

}  // namespace waystone::http::http1
