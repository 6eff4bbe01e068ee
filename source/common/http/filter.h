#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::router {
class Route;  // source/common/router/
}  // namespace waystone::router

namespace waystone::http {

// The HTTP filter API, in Envoy's shape (envoy/http/filter.h), so filters read the same.
//
// Decoding runs the filters in configuration order on the request; encoding runs them in reverse
// on the response. Each callback returns what iteration should do next:

enum class FilterHeadersStatus {
  // Pass the headers to the next filter.
  Continue,
  // Stop passing the headers on; data and trailers still reach this filter (and stop here too,
  // unless it returns Continue for them). Resume with continueDecoding()/continueEncoding().
  StopIteration,
  // Stop, and buffer the body (up to the buffer limit, then 413 for requests / 500 for
  // responses) without showing it to this filter until it continues.
  StopAllIterationAndBuffer,
  // As above, but over the limit the stream is flow-controlled (reading paused) instead of
  // failed.
  StopAllIterationAndWatermark,
};

enum class FilterDataStatus {
  Continue,
  // Buffer this data (and what follows) until the filter continues; over the limit: 413/500.
  StopIterationAndBuffer,
  // Buffer with flow control instead of failing over the limit.
  StopIterationAndWatermark,
  // Drop from iteration without buffering (the filter took the data).
  StopIterationNoBuffer,
};

enum class FilterTrailersStatus { Continue, StopIteration };

// A filter's view of its stream, shared by decoder and encoder callbacks.
class StreamFilterCallbacks {
 public:
  virtual ~StreamFilterCallbacks() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual uint64_t streamId() const = 0;
  virtual stream_info::StreamInfo& streamInfo() = 0;
  // The route for the request, matched once and cached (nullptr: no route).
  virtual const router::Route* route() = 0;
  // Forget the cached route (after a filter changed headers that routing reads).
  virtual void clearRouteCache() = 0;
  // Abort the stream (both directions).
  virtual void resetStream() = 0;
};

// Told when the downstream connection can take no more response data, and when it can again.
// The router uses it to pause reading from the upstream.
class DownstreamWatermarkCallbacks {
 public:
  virtual ~DownstreamWatermarkCallbacks() = default;
  virtual void onAboveWriteBufferHighWatermark() = 0;
  virtual void onBelowWriteBufferLowWatermark() = 0;
};

// Modifies a local reply's headers before it is sent.
using LocalReplyHeadersCb = std::function<void(ResponseHeaderMap&)>;

class StreamDecoderFilterCallbacks : public virtual StreamFilterCallbacks {
 public:
  // Resume decoding after a Stop status, from the filter after the caller.
  virtual void continueDecoding() = 0;
  // Data buffered for this filter so far (nullptr if none).
  virtual const buffer::Instance* decodingBuffer() = 0;
  // Adds to the body being decoded: inline (streaming=false, while in a decode callback, the
  // data joins the buffer) or as a new data frame passed on from the next filter (streaming).
  virtual void addDecodedData(buffer::Instance& data, bool streaming) = 0;
  // Adds trailers during decodeData(end_stream=true) so the request ends with them.
  virtual RequestTrailerMap& addDecodedTrailers() = 0;
  // Answers the request from here (status, body, details for stats/logs); the encoder filters
  // before this one still run. gRPC requests get a trailers-only gRPC error instead.
  virtual void sendLocalReply(uint32_t status, absl::string_view body,
                              LocalReplyHeadersCb modify_headers,
                              std::optional<uint32_t> grpc_status, absl::string_view details) = 0;
  // For the terminal filter (router): the response, which then runs the encoder filters.
  virtual void encode1xxHeaders(ResponseHeaderMapPtr&& headers) = 0;
  virtual void encodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream,
                             absl::string_view details) = 0;
  virtual void encodeData(buffer::Instance& data, bool end_stream) = 0;
  virtual void encodeTrailers(ResponseTrailerMapPtr&& trailers) = 0;
  virtual const RequestHeaderMap* requestHeaders() = 0;
  virtual uint32_t decoderBufferLimit() = 0;
  // The terminal filter's upstream is backing up / has drained: pause / resume the downstream.
  virtual void onDecoderFilterAboveWriteBufferHighWatermark() = 0;
  virtual void onDecoderFilterBelowWriteBufferLowWatermark() = 0;
  virtual void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& callbacks) = 0;
  virtual void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& callbacks) = 0;
};

class StreamEncoderFilterCallbacks : public virtual StreamFilterCallbacks {
 public:
  virtual void continueEncoding() = 0;
  virtual const buffer::Instance* encodingBuffer() = 0;
  virtual void addEncodedData(buffer::Instance& data, bool streaming) = 0;
  virtual ResponseTrailerMap& addEncodedTrailers() = 0;
  virtual const ResponseHeaderMap* responseHeaders() = 0;
  virtual uint32_t encoderBufferLimit() = 0;
};

class StreamFilterBase {
 public:
  virtual ~StreamFilterBase() = default;
  // The stream is going away (complete or reset): release timers, cancel async work. No more
  // callbacks after this.
  virtual void onDestroy() {}
};

class StreamDecoderFilter : public virtual StreamFilterBase {
 public:
  virtual FilterHeadersStatus decodeHeaders(RequestHeaderMap& headers, bool end_stream) = 0;
  virtual FilterDataStatus decodeData(buffer::Instance& data, bool end_stream) = 0;
  virtual FilterTrailersStatus decodeTrailers(RequestTrailerMap& trailers) = 0;
  virtual void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& callbacks) = 0;
};

class StreamEncoderFilter : public virtual StreamFilterBase {
 public:
  virtual FilterHeadersStatus encode1xxHeaders(ResponseHeaderMap&) {
    return FilterHeadersStatus::Continue;
  }
  virtual FilterHeadersStatus encodeHeaders(ResponseHeaderMap& headers, bool end_stream) = 0;
  virtual FilterDataStatus encodeData(buffer::Instance& data, bool end_stream) = 0;
  virtual FilterTrailersStatus encodeTrailers(ResponseTrailerMap& trailers) = 0;
  virtual void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& callbacks) = 0;
};

class StreamFilter : public virtual StreamDecoderFilter, public virtual StreamEncoderFilter {};

using StreamDecoderFilterSharedPtr = std::shared_ptr<StreamDecoderFilter>;
using StreamEncoderFilterSharedPtr = std::shared_ptr<StreamEncoderFilter>;
using StreamFilterSharedPtr = std::shared_ptr<StreamFilter>;

// Pass-through bases, so a filter overrides only what it needs.
class PassThroughDecoderFilter : public virtual StreamDecoderFilter {
 public:
  FilterHeadersStatus decodeHeaders(RequestHeaderMap&, bool) override {
    return FilterHeadersStatus::Continue;
  }
  FilterDataStatus decodeData(buffer::Instance&, bool) override {
    return FilterDataStatus::Continue;
  }
  FilterTrailersStatus decodeTrailers(RequestTrailerMap&) override {
    return FilterTrailersStatus::Continue;
  }
  void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& callbacks) override {
    decoder_callbacks_ = &callbacks;
  }

 protected:
  StreamDecoderFilterCallbacks* decoder_callbacks_ = nullptr;
};

class PassThroughEncoderFilter : public virtual StreamEncoderFilter {
 public:
  FilterHeadersStatus encodeHeaders(ResponseHeaderMap&, bool) override {
    return FilterHeadersStatus::Continue;
  }
  FilterDataStatus encodeData(buffer::Instance&, bool) override {
    return FilterDataStatus::Continue;
  }
  FilterTrailersStatus encodeTrailers(ResponseTrailerMap&) override {
    return FilterTrailersStatus::Continue;
  }
  void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& callbacks) override {
    encoder_callbacks_ = &callbacks;
  }

 protected:
  StreamEncoderFilterCallbacks* encoder_callbacks_ = nullptr;
};

class PassThroughFilter : public StreamFilter,
                          public PassThroughDecoderFilter,
                          public PassThroughEncoderFilter {};

// Where a filter factory adds its filters for one new stream.
class FilterChainFactoryCallbacks {
 public:
  virtual ~FilterChainFactoryCallbacks() = default;
  virtual void addStreamDecoderFilter(StreamDecoderFilterSharedPtr filter) = 0;
  virtual void addStreamEncoderFilter(StreamEncoderFilterSharedPtr filter) = 0;
  virtual void addStreamFilter(StreamFilterSharedPtr filter) = 0;
};

// Built once per configured filter from immutable config; called for every new stream.
using FilterFactoryCb = std::function<void(FilterChainFactoryCallbacks&)>;

}  // namespace waystone::http
