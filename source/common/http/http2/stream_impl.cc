#include "source/common/http/http2/stream_impl.h"

#include <algorithm>

#include "source/common/http/http2/connection_impl.h"

namespace waystone::http::http2 {

StreamImpl::StreamImpl(ConnectionImpl& parent, uint32_t buffer_limit)
    : parent_(parent),
      buffer_limit_(buffer_limit),
      pending_send_data_([this]() { parent_.scheduleLowWatermark(*this); },
                         [this]() { runHighWatermarkCallbacks(); }) {
  pending_send_data_.setWatermarks(buffer_limit);
}

void StreamImpl::addCallbacks(StreamCallbacks& callbacks) {
  if (callbacks_iterating_ == 0) {
    callbacks_.erase(std::remove(callbacks_.begin(), callbacks_.end(), nullptr), callbacks_.end());
  }
  callbacks_.push_back(&callbacks);
  // A late subscriber learns that the producer is already paused, once per outstanding reason.
  for (uint32_t i = 0; i < high_watermark_callbacks_; ++i) {
    callbacks.onAboveWriteBufferHighWatermark();
  }
}

void StreamImpl::removeCallbacks(StreamCallbacks& callbacks) {
  auto it = std::find(callbacks_.begin(), callbacks_.end(), &callbacks);
  if (it == callbacks_.end()) {
    return;
  }
  if (callbacks_iterating_ > 0) {
    *it = nullptr;  // erased after the iteration, which must not skip an entry
  } else {
    callbacks_.erase(it);
  }
}

void StreamImpl::runResetCallbacks(StreamResetReason reason, absl::string_view details) {
  if (reset_notified_) {
    return;
  }
  reset_notified_ = true;
  // Nothing more reaches the decoder.
  pending_recv_data_.drain(pending_recv_data_.length());
  pending_trailers_.reset();
  decoding_headers_.reset();
  ++callbacks_iterating_;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (callbacks_[i] != nullptr) {
      callbacks_[i]->onResetStream(reason, details);
    }
  }
  --callbacks_iterating_;
}

void StreamImpl::runHighWatermarkCallbacks() {
  ++high_watermark_callbacks_;
  ++callbacks_iterating_;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (callbacks_[i] != nullptr) {
      callbacks_[i]->onAboveWriteBufferHighWatermark();
    }
  }
  --callbacks_iterating_;
}

void StreamImpl::runLowWatermarkCallbacks() {
  if (high_watermark_callbacks_ == 0) {
    return;
  }
  --high_watermark_callbacks_;
  ++callbacks_iterating_;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (callbacks_[i] != nullptr) {
      callbacks_[i]->onBelowWriteBufferLowWatermark();
    }
  }
  --callbacks_iterating_;
}

void StreamImpl::resetStream(StreamResetReason reason) {
  if (finalized_ || reset_notified_) {
    return;
  }
  runResetCallbacks(reason, "http2.local_reset");
  parent_.submitReset(*this, reason);
}

void StreamImpl::readDisable(bool disable) {
  if (disable) {
    ++read_disable_count_;
    return;
  }
  if (read_disable_count_ == 0) {
    return;
  }
  if (--read_disable_count_ == 0) {
    parent_.scheduleResume(*this);
  }
}

void StreamImpl::encodeData(buffer::Instance& data, bool end_stream) {
  if (finalized_ || reset_notified_ || local_end_requested_) {
    // Nothing can be sent any more; drop the data as an HTTP/1 codec drops a closed body.
    data.drain(data.length());
    return;
  }
  // May run the above-high-watermark callbacks, which may reset the stream.
  pending_send_data_.move(data);
  if (finalized_ || reset_notified_) {
    return;
  }
  if (end_stream) {
    local_end_requested_ = true;
  }
  parent_.resumeData(*this);
  parent_.sendPending();
}

void StreamImpl::encodeTrailersBase(const HeaderMap& trailers) {
  if (finalized_ || reset_notified_ || local_end_requested_) {
    return;
  }
  if (trailers.empty()) {
    buffer::OwnedImpl empty;
    encodeData(empty, true);
    return;
  }
  pending_send_trailers_ = std::make_unique<HeaderMap>(trailers);
  local_end_requested_ = true;
  parent_.resumeData(*this);
  parent_.sendPending();
}

void StreamImpl::onDataChunk(const uint8_t* data, size_t length) {
  if (reset_notified_) {
    return;
  }
  pending_recv_data_.add(data, length);
}

void StreamImpl::onDataFrameComplete(bool end_stream) {
  if (end_stream) {
    remote_end_ = true;
  }
  deliverPending();
}

void StreamImpl::onTrailers(HeaderMapPtr&& trailers) {
  remote_end_ = true;
  pending_trailers_ = std::move(trailers);
  deliverPending();
}

void StreamImpl::deliverPending() {
  if (finalized_ || reset_notified_ || read_disable_count_ > 0 || end_delivered_) {
    return;
  }
  const uint64_t length = pending_recv_data_.length();
  const bool end_with_data = remote_end_ && pending_trailers_ == nullptr;
  if (length > 0 || end_with_data) {
    if (end_with_data) {
      end_delivered_ = true;
    }
    // The decoder gets its own buffer: what it leaves undrained is not ours to keep.
    buffer::OwnedImpl chunk;
    chunk.move(pending_recv_data_);
    deliverData(chunk, end_with_data);
    // Only now may the peer send more on this stream.
    parent_.consumeStreamWindow(*this, length);
  }
  if (pending_trailers_ != nullptr && !finalized_ && !reset_notified_ && read_disable_count_ == 0 &&
      pending_recv_data_.length() == 0) {
    end_delivered_ = true;
    deliverTrailers(std::move(pending_trailers_));
  }
  if (end_delivered_ && nghttp2_closed_ && !finalized_) {
    // nghttp2 finished with the stream earlier; we kept it only for this delivery.
    parent_.finalizeStream(*this);
  }
}

}  // namespace waystone::http::http2
