#include "source/common/http/filter_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/http/local_reply.h"

namespace waystone::http {

// Per-filter iteration state, shared by both directions. A filter is "stopped" after it
// returned a Stop status; `sees_data` tells whether data that arrives while it is stopped is
// still shown to it (StopIteration, StopIterationAndBuffer) or only buffered
// (StopAllIteration*).
struct FilterState {
  bool stopped = false;
  bool sees_data = false;
  bool watermark = false;          // buffering with flow control instead of a hard limit
  bool headers_continued = false;  // the headers went past this filter
  bool trailers_seen = false;
};

// The stream-wide callbacks every filter gets, in either direction.
template <class Callbacks>
struct FilterManager::ActiveFilterBase : public Callbacks {
  explicit ActiveFilterBase(FilterManager& parent) : parent_(parent) {}

  // StreamFilterCallbacks
  event::Dispatcher& dispatcher() override { return parent_.callbacks_.dispatcher(); }
  uint64_t streamId() const override { return parent_.callbacks_.streamId(); }
  stream_info::StreamInfo& streamInfo() override { return parent_.stream_info_; }
  const router::Route* route() override { return parent_.callbacks_.route(); }
  void clearRouteCache() override { parent_.callbacks_.clearRouteCache(); }
  void resetStream() override { parent_.callbacks_.resetStream(); }

  FilterManager& parent_;
};

struct FilterManager::ActiveDecoderFilter : public ActiveFilterBase<StreamDecoderFilterCallbacks> {
  ActiveDecoderFilter(FilterManager& parent, StreamDecoderFilterSharedPtr filter, size_t index,
                      size_t position)
      : ActiveFilterBase(parent), filter_(std::move(filter)), index_(index), position_(position) {}

  // StreamDecoderFilterCallbacks
  void continueDecoding() override { parent_.continueDecoding(*this); }
  const buffer::Instance* decodingBuffer() override {
    return parent_.buffered_request_.length() > 0 ? &parent_.buffered_request_ : nullptr;
  }
  void addDecodedData(buffer::Instance& data, bool streaming) override {
    if (streaming) {
      parent_.decodeDataFrom(index_ + 1, data, false);
    } else {
      parent_.buffered_request_.move(data);
    }
  }
  RequestTrailerMap& addDecodedTrailers() override {
    if (parent_.request_trailers_ == nullptr) {
      parent_.request_trailers_ = std::make_unique<RequestTrailerMap>();
    }
    return *parent_.request_trailers_;
  }
  void sendLocalReply(uint32_t status, absl::string_view body, LocalReplyHeadersCb modify_headers,
                      std::optional<uint32_t> grpc_status, absl::string_view details) override {
    parent_.localReply(parent_.firstEncoderAfter(position_), status, body,
                       std::move(modify_headers), grpc_status, details);
  }
  void encode1xxHeaders(ResponseHeaderMapPtr&& headers) override {
    // 1xx responses skip the encoder filters (Envoy runs encode1xxHeaders; none of ours use it).
    parent_.callbacks_.encode1xxHeaders(*headers);
  }
  void encodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream,
                     absl::string_view details) override {
    parent_.stream_info_.response_code_details = std::string(details);
    parent_.startResponse(std::move(headers), end_stream, parent_.firstEncoderAfter(position_));
  }
  void encodeData(buffer::Instance& data, bool end_stream) override {
    parent_.response_end_stream_ = end_stream;
    parent_.encodeDataFrom(parent_.firstEncoderAfter(position_), data, end_stream);
  }
  void encodeTrailers(ResponseTrailerMapPtr&& trailers) override {
    parent_.response_trailers_ = std::move(trailers);
    parent_.response_end_stream_ = true;
    parent_.encodeTrailersFrom(parent_.firstEncoderAfter(position_));
  }
  const RequestHeaderMap* requestHeaders() override { return parent_.request_headers_.get(); }
  uint32_t decoderBufferLimit() override { return parent_.buffer_limit_; }
  void onDecoderFilterAboveWriteBufferHighWatermark() override {
    parent_.callbacks_.onDecoderFilterAboveWriteBufferHighWatermark();
  }
  void onDecoderFilterBelowWriteBufferLowWatermark() override {
    parent_.callbacks_.onDecoderFilterBelowWriteBufferLowWatermark();
  }
  void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& callbacks) override {
    parent_.watermark_callbacks_.push_back(&callbacks);
    // A filter that joins while the downstream is backed up must learn it now.
    for (uint32_t i = 0; i < parent_.downstream_above_watermark_; ++i) {
      callbacks.onAboveWriteBufferHighWatermark();
    }
  }
  void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& callbacks) override {
    auto& list = parent_.watermark_callbacks_;
    list.erase(std::remove(list.begin(), list.end(), &callbacks), list.end());
  }

  StreamDecoderFilterSharedPtr filter_;
  const size_t index_;     // in decoder_filters_
  const size_t position_;  // in the configured chain
  FilterState state_;
};

struct FilterManager::ActiveEncoderFilter : public ActiveFilterBase<StreamEncoderFilterCallbacks> {
  ActiveEncoderFilter(FilterManager& parent, StreamEncoderFilterSharedPtr filter, size_t position)
      : ActiveFilterBase(parent), filter_(std::move(filter)), position_(position) {}

  // StreamEncoderFilterCallbacks
  void continueEncoding() override { parent_.continueEncoding(*this); }
  const buffer::Instance* encodingBuffer() override {
    return parent_.buffered_response_.length() > 0 ? &parent_.buffered_response_ : nullptr;
  }
  void addEncodedData(buffer::Instance& data, bool streaming) override {
    if (streaming) {
      parent_.encodeDataFrom(index_ + 1, data, false);
    } else {
      parent_.buffered_response_.move(data);
    }
  }
  ResponseTrailerMap& addEncodedTrailers() override {
    if (parent_.response_trailers_ == nullptr) {
      parent_.response_trailers_ = std::make_unique<ResponseTrailerMap>();
    }
    return *parent_.response_trailers_;
  }
  const ResponseHeaderMap* responseHeaders() override { return parent_.response_headers_.get(); }
  uint32_t encoderBufferLimit() override { return parent_.buffer_limit_; }

  StreamEncoderFilterSharedPtr filter_;
  size_t index_ = 0;  // in encoder_filters_ (encode order), set once the chain is built
  const size_t position_;
  FilterState state_;
};

FilterManager::FilterManager(FilterManagerCallbacks& callbacks,
                             stream_info::StreamInfo& stream_info, uint32_t buffer_limit)
    : callbacks_(callbacks), stream_info_(stream_info), buffer_limit_(buffer_limit) {}

FilterManager::~FilterManager() { destroyFilters(); }

void FilterManager::addStreamDecoderFilter(StreamDecoderFilterSharedPtr filter) {
  addDecoder(std::move(filter), next_position_++);
}

void FilterManager::addStreamEncoderFilter(StreamEncoderFilterSharedPtr filter) {
  addEncoder(std::move(filter), next_position_++);
}

// Both halves share one chain position: a response the filter makes itself passes only the
// encoders configured before it, as in Envoy.
void FilterManager::addStreamFilter(StreamFilterSharedPtr filter) {
  const size_t position = next_position_++;
  addDecoder(filter, position);
  addEncoder(filter, position);
}

void FilterManager::addDecoder(StreamDecoderFilterSharedPtr filter, size_t position) {
  auto active = std::make_unique<ActiveDecoderFilter>(*this, std::move(filter),
                                                      decoder_filters_.size(), position);
  active->filter_->setDecoderFilterCallbacks(*active);
  decoder_filters_.push_back(std::move(active));
}

void FilterManager::addEncoder(StreamEncoderFilterSharedPtr filter, size_t position) {
  auto active = std::make_unique<ActiveEncoderFilter>(*this, std::move(filter), position);
  active->filter_->setEncoderFilterCallbacks(*active);
  // Encode order is the reverse of configuration order: the newest goes first.
  encoder_filters_.insert(encoder_filters_.begin(), std::move(active));
  for (size_t i = 0; i < encoder_filters_.size(); ++i) {
    encoder_filters_[i]->index_ = i;
  }
}

size_t FilterManager::firstEncoderAfter(size_t position) const {
  for (size_t i = 0; i < encoder_filters_.size(); ++i) {
    if (encoder_filters_[i]->position_ < position) {
      return i;
    }
  }
  return encoder_filters_.size();
}

void FilterManager::destroyFilters() {
  if (destroyed_) {
    return;
  }
  destroyed_ = true;
  // A StreamFilter sits in both lists; StreamFilterBase is a virtual base, so both halves give
  // the same pointer and onDestroy() runs once.
  std::vector<StreamFilterBase*> done;
  auto destroy = [&done](StreamFilterBase* filter) {
    if (std::find(done.begin(), done.end(), filter) == done.end()) {
      done.push_back(filter);
      filter->onDestroy();
    }
  };
  for (auto& filter : decoder_filters_) {
    destroy(filter->filter_.get());
  }
  for (auto& filter : encoder_filters_) {
    destroy(filter->filter_.get());
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

void FilterManager::decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) {
  request_headers_ = std::move(headers);
  request_end_stream_ = end_stream;
  decodeHeadersFrom(0, end_stream);
}

void FilterManager::decodeHeadersFrom(size_t from, bool end_stream) {
  for (size_t i = from; i < decoder_filters_.size(); ++i) {
    ActiveDecoderFilter& f = *decoder_filters_[i];
    const FilterHeadersStatus status = f.filter_->decodeHeaders(*request_headers_, end_stream);
    if (destroyed_ || local_reply_sent_) {
      return;
    }
    switch (status) {
      case FilterHeadersStatus::Continue:
        f.state_.headers_continued = true;
        continue;
      case FilterHeadersStatus::StopIteration:
        f.state_ = FilterState{true, true, false, false, false};
        return;
      case FilterHeadersStatus::StopAllIterationAndBuffer:
        f.state_ = FilterState{true, false, false, false, false};
        return;
      case FilterHeadersStatus::StopAllIterationAndWatermark:
        f.state_ = FilterState{true, false, true, false, false};
        return;
    }
  }
  if (end_stream) {
    decode_complete_ = true;
  }
}

void FilterManager::decodeData(buffer::Instance& data, bool end_stream) {
  stream_info_.bytes_received += data.length();
  if (local_reply_sent_ || destroyed_ || request_headers_ == nullptr) {
    // The request was answered already: the rest of its body is not needed.
    data.drain(data.length());
    return;
  }
  request_end_stream_ = end_stream;
  decodeDataFrom(0, data, end_stream);
}

void FilterManager::decodeDataFrom(size_t from, buffer::Instance& data, bool end_stream) {
  for (size_t i = from; i < decoder_filters_.size(); ++i) {
    ActiveDecoderFilter& f = *decoder_filters_[i];
    if (f.state_.stopped && !f.state_.sees_data) {
      bufferRequestData(data, f.state_.watermark ? Stop::AllWatermark : Stop::All);
      return;
    }
    const bool was_stopped = f.state_.stopped;
    const FilterDataStatus status = f.filter_->decodeData(data, end_stream);
    if (destroyed_ || local_reply_sent_) {
      return;
    }
    switch (status) {
      case FilterDataStatus::Continue:
        if (was_stopped) {
          // Continue from a stopped filter means "resume with what I have seen".
          bufferRequestData(data, Stop::All);
          continueDecoding(f);
          return;
        }
        continue;
      case FilterDataStatus::StopIterationAndBuffer:
      case FilterDataStatus::StopIterationAndWatermark:
        f.state_.stopped = true;
        f.state_.sees_data = true;
        f.state_.watermark = status == FilterDataStatus::StopIterationAndWatermark;
        bufferRequestData(data, f.state_.watermark ? Stop::AllWatermark : Stop::All);
        return;
      case FilterDataStatus::StopIterationNoBuffer:
        f.state_.stopped = true;
        f.state_.sees_data = true;
        data.drain(data.length());
        return;
    }
  }
  if (end_stream) {
    decode_complete_ = true;
  }
}

// Returns false (after answering 413) when the buffer limit is exceeded without watermarks.
bool FilterManager::bufferRequestData(buffer::Instance& data, Stop mode) {
  buffered_request_.move(data);
  if (buffered_request_.length() <= buffer_limit_) {
    return true;
  }
  if (mode == Stop::AllWatermark) {
    if (!request_watermark_) {
      request_watermark_ = true;
      callbacks_.onDecoderFilterAboveWriteBufferHighWatermark();
    }
    return true;
  }
  // Envoy's answer to a request body over the buffer limit.
  buffered_request_.drain(buffered_request_.length());
  localReply(0, 413, "Payload Too Large", nullptr, std::nullopt, "request_payload_too_large");
  return false;
}

void FilterManager::decodeTrailers(RequestTrailerMapPtr&& trailers) {
  if (local_reply_sent_ || destroyed_ || request_headers_ == nullptr) {
    return;
  }
  request_trailers_ = std::move(trailers);
  request_end_stream_ = true;
  decodeTrailersFrom(0);
}

void FilterManager::decodeTrailersFrom(size_t from) {
  for (size_t i = from; i < decoder_filters_.size(); ++i) {
    ActiveDecoderFilter& f = *decoder_filters_[i];
    // A filter stopped with StopAll* gets them when it continues; one stopped with
    // StopIteration still sees the rest of the stream (Envoy's rule), e.g. the router.
    if (f.state_.stopped && !f.state_.sees_data) {
      return;
    }
    const bool was_stopped = f.state_.stopped;
    f.state_.trailers_seen = true;
    const FilterTrailersStatus status = f.filter_->decodeTrailers(*request_trailers_);
    if (destroyed_ || local_reply_sent_) {
      return;
    }
    if (status == FilterTrailersStatus::StopIteration) {
      f.state_.stopped = true;
      f.state_.sees_data = true;
      return;
    }
    if (was_stopped) {
      continueDecoding(f);  // Continue from a stopped filter resumes it
      return;
    }
  }
  decode_complete_ = true;
}

void FilterManager::continueDecoding(ActiveDecoderFilter& f) {
  if (!f.state_.stopped || destroyed_ || local_reply_sent_) {
    return;
  }
  f.state_.stopped = false;
  const size_t next = f.index_ + 1;
  const bool has_trailers = request_trailers_ != nullptr;
  if (!f.state_.headers_continued) {
    f.state_.headers_continued = true;
    const bool headers_end =
        request_end_stream_ && buffered_request_.length() == 0 && !has_trailers;
    decodeHeadersFrom(next, headers_end);
    if (destroyed_ || local_reply_sent_) {
      return;
    }
  }
  if (buffered_request_.length() > 0 ||
      (request_end_stream_ && !has_trailers && !decode_complete_ && !f.state_.headers_continued)) {
    buffer::OwnedImpl data;
    data.move(buffered_request_);
    if (request_watermark_) {
      request_watermark_ = false;
      callbacks_.onDecoderFilterBelowWriteBufferLowWatermark();
    }
    decodeDataFrom(next, data, request_end_stream_ && !has_trailers);
    if (destroyed_ || local_reply_sent_ || buffered_request_.length() > 0) {
      return;  // stopped again further down
    }
  }
  if (has_trailers && !decode_complete_) {
    // Trailers go to this filter first if it was stopped before they reached it.
    decodeTrailersFrom(f.state_.trailers_seen ? next : f.index_);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

void FilterManager::startResponse(ResponseHeaderMapPtr&& headers, bool end_stream, size_t from) {
  response_headers_ = std::move(headers);
  response_end_stream_ = end_stream;
  stream_info_.response_code = static_cast<uint32_t>(response_headers_->status());
  encodeHeadersFrom(from, end_stream);
}

void FilterManager::encodeHeadersFrom(size_t from, bool end_stream) {
  for (size_t i = from; i < encoder_filters_.size(); ++i) {
    ActiveEncoderFilter& f = *encoder_filters_[i];
    const FilterHeadersStatus status = f.filter_->encodeHeaders(*response_headers_, end_stream);
    if (destroyed_) {
      return;
    }
    switch (status) {
      case FilterHeadersStatus::Continue:
        f.state_.headers_continued = true;
        continue;
      case FilterHeadersStatus::StopIteration:
        f.state_ = FilterState{true, true, false, false, false};
        return;
      case FilterHeadersStatus::StopAllIterationAndBuffer:
      case FilterHeadersStatus::StopAllIterationAndWatermark:
        // Response watermarks are treated as buffering: the limit still applies (500).
        f.state_ = FilterState{true, false, false, false, false};
        return;
    }
  }
  stream_info_.response_code = static_cast<uint32_t>(response_headers_->status());
  response_headers_sent_ = true;
  callbacks_.encodeHeaders(*response_headers_, end_stream);
  if (end_stream) {
    encode_complete_ = true;
  }
}

void FilterManager::encodeDataFrom(size_t from, buffer::Instance& data, bool end_stream) {
  if (encode_complete_) {
    data.drain(data.length());  // e.g. the rest of a response replaced by a 500
    return;
  }
  for (size_t i = from; i < encoder_filters_.size(); ++i) {
    ActiveEncoderFilter& f = *encoder_filters_[i];
    if (f.state_.stopped && !f.state_.sees_data) {
      bufferResponseData(data, Stop::All);
      return;
    }
    const bool was_stopped = f.state_.stopped;
    const FilterDataStatus status = f.filter_->encodeData(data, end_stream);
    if (destroyed_) {
      return;
    }
    switch (status) {
      case FilterDataStatus::Continue:
        if (was_stopped) {
          bufferResponseData(data, Stop::All);
          continueEncoding(f);
          return;
        }
        continue;
      case FilterDataStatus::StopIterationAndBuffer:
      case FilterDataStatus::StopIterationAndWatermark:
        f.state_.stopped = true;
        f.state_.sees_data = true;
        bufferResponseData(data, Stop::All);
        return;
      case FilterDataStatus::StopIterationNoBuffer:
        f.state_.stopped = true;
        f.state_.sees_data = true;
        data.drain(data.length());
        return;
    }
  }
  stream_info_.bytes_sent += data.length();
  callbacks_.encodeData(data, end_stream);
  if (end_stream) {
    encode_complete_ = true;
  }
}

bool FilterManager::bufferResponseData(buffer::Instance& data, Stop) {
  buffered_response_.move(data);
  if (buffered_response_.length() <= buffer_limit_) {
    return true;
  }
  buffered_response_.drain(buffered_response_.length());
  if (response_headers_sent_) {
    callbacks_.resetStream();
    return false;
  }
  // Envoy's answer when a filter buffers more response than the limit: a 500 in place of the
  // response, straight to the codec (the encoder filters are mid-way through the original).
  stream_info_.response_code_details = "response_payload_too_large";
  const bool is_head = request_headers_ != nullptr && request_headers_->method() == "HEAD";
  LocalReply reply = makeLocalReply(500, "Internal Server Error", callbacks_.isGrpcRequest(),
                                    std::nullopt, is_head);
  response_headers_ = std::move(reply.headers);
  response_headers_sent_ = true;
  stream_info_.response_code = 500;
  const bool headers_only = reply.body.empty();
  callbacks_.encodeHeaders(*response_headers_, headers_only);
  if (!headers_only) {
    buffer::OwnedImpl body(reply.body);
    callbacks_.encodeData(body, true);
  }
  encode_complete_ = true;
  return false;
}

void FilterManager::encodeTrailersFrom(size_t from) {
  for (size_t i = from; i < encoder_filters_.size(); ++i) {
    ActiveEncoderFilter& f = *encoder_filters_[i];
    if (f.state_.stopped && !f.state_.sees_data) {
      return;  // StopAll*: delivered when the filter continues
    }
    const bool was_stopped = f.state_.stopped;
    f.state_.trailers_seen = true;
    const FilterTrailersStatus status = f.filter_->encodeTrailers(*response_trailers_);
    if (destroyed_) {
      return;
    }
    if (status == FilterTrailersStatus::StopIteration) {
      f.state_.stopped = true;
      f.state_.sees_data = true;
      return;
    }
    if (was_stopped) {
      continueEncoding(f);
      return;
    }
  }
  callbacks_.encodeTrailers(*response_trailers_);
  encode_complete_ = true;
}

void FilterManager::continueEncoding(ActiveEncoderFilter& f) {
  if (!f.state_.stopped || destroyed_) {
    return;
  }
  f.state_.stopped = false;
  const size_t next = f.index_ + 1;
  const bool has_trailers = response_trailers_ != nullptr;
  if (!f.state_.headers_continued) {
    f.state_.headers_continued = true;
    const bool headers_end =
        response_end_stream_ && buffered_response_.length() == 0 && !has_trailers;
    encodeHeadersFrom(next, headers_end);
    if (destroyed_) {
      return;
    }
  }
  if (buffered_response_.length() > 0) {
    buffer::OwnedImpl data;
    data.move(buffered_response_);
    encodeDataFrom(next, data, response_end_stream_ && !has_trailers);
    if (destroyed_ || buffered_response_.length() > 0) {
      return;
    }
  } else if (response_end_stream_ && !has_trailers && !encode_complete_ &&
             f.state_.headers_continued && response_headers_ != nullptr) {
    // The body ended while this filter held it: pass the end of stream on.
    buffer::OwnedImpl empty;
    encodeDataFrom(next, empty, true);
  }
  if (has_trailers && !encode_complete_) {
    encodeTrailersFrom(f.state_.trailers_seen ? next : f.index_);
  }
}

void FilterManager::onDownstreamAboveWriteBufferHighWatermark() {
  ++downstream_above_watermark_;
  for (DownstreamWatermarkCallbacks* callbacks : watermark_callbacks_) {
    callbacks->onAboveWriteBufferHighWatermark();
  }
}

void FilterManager::onDownstreamBelowWriteBufferLowWatermark() {
  if (downstream_above_watermark_ == 0) {
    return;
  }
  --downstream_above_watermark_;
  for (DownstreamWatermarkCallbacks* callbacks : watermark_callbacks_) {
    callbacks->onBelowWriteBufferLowWatermark();
  }
}

// ---------------------------------------------------------------------------------------------
// Local replies

void FilterManager::sendLocalReply(uint32_t status, absl::string_view body,
                                   LocalReplyHeadersCb modify_headers,
                                   std::optional<uint32_t> grpc_status, absl::string_view details) {
  localReply(0, status, body, std::move(modify_headers), grpc_status, details);
}

void FilterManager::localReply(size_t from, uint32_t status, absl::string_view body,
                               LocalReplyHeadersCb modify_headers,
                               std::optional<uint32_t> grpc_status, absl::string_view details) {
  if (destroyed_) {
    return;
  }
  stream_info_.response_code_details = std::string(details);
  if (response_headers_ != nullptr) {
    // Headers are on their way already: the only honest signal left is a reset.
    WAYSTONE_LOG(debug, http, "[stream %d] local reply %d after the response started: reset",
                 callbacks_.streamId(), status);
    callbacks_.resetStream();
    return;
  }
  local_reply_sent_ = true;
  const bool is_head = request_headers_ != nullptr && request_headers_->method() == "HEAD";
  LocalReply reply = makeLocalReply(status, body, callbacks_.isGrpcRequest(), grpc_status, is_head);
  if (modify_headers) {
    modify_headers(*reply.headers);
  }
  const bool headers_only = reply.body.empty();
  startResponse(std::move(reply.headers), headers_only, from);
  if (!headers_only && !destroyed_) {
    response_end_stream_ = true;
    buffer::OwnedImpl body(reply.body);
    encodeDataFrom(from, body, true);
  }
}

}  // namespace waystone::http
