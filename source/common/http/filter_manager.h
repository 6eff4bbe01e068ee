#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/filter.h"

namespace waystone::http {

// What the owner of a stream (the HTTP connection manager's ActiveStream) provides to the
// filter manager: the way out to the codec and the stream-wide facilities.
class FilterManagerCallbacks {
 public:
  virtual ~FilterManagerCallbacks() = default;
  // The response after every encoder filter, to the codec.
  virtual void encode1xxHeaders(ResponseHeaderMap& headers) = 0;
  virtual void encodeHeaders(ResponseHeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(buffer::Instance& data, bool end_stream) = 0;
  virtual void encodeTrailers(ResponseTrailerMap& trailers) = 0;
  // Pause / resume reading the request (a filter is buffering with watermarks, or the upstream
  // is backing up).
  virtual void onDecoderFilterAboveWriteBufferHighWatermark() = 0;
  virtual void onDecoderFilterBelowWriteBufferLowWatermark() = 0;
  virtual void resetStream() = 0;
  virtual const router::Route* route() = 0;
  virtual void clearRouteCache() = 0;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual uint64_t streamId() const = 0;
  // Whether the request is gRPC (local replies then use grpc-status).
  virtual bool isGrpcRequest() const = 0;
};

// Runs one stream's HTTP filters with Envoy's iteration rules: decoder filters in order on the
// request, encoder filters in reverse on the response; any filter may stop, buffer (bounded by
// the buffer limit: 413 for requests, 500 for responses over it unless it chose watermarks),
// resume, or answer locally. Lives on one worker; owned by the stream.
class FilterManager : public FilterChainFactoryCallbacks {
 public:
  FilterManager(FilterManagerCallbacks& callbacks, stream_info::StreamInfo& stream_info,
                uint32_t buffer_limit);
  ~FilterManager() override;

  // FilterChainFactoryCallbacks: called by filter factories while the chain is built.
  void addStreamDecoderFilter(StreamDecoderFilterSharedPtr filter) override;
  void addStreamEncoderFilter(StreamEncoderFilterSharedPtr filter) override;
  void addStreamFilter(StreamFilterSharedPtr filter) override;

  // The request, from the codec.
  void decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream);
  void decodeData(buffer::Instance& data, bool end_stream);
  void decodeTrailers(RequestTrailerMapPtr&& trailers);

  // A local reply from outside the filters (the HCM: timeouts, no route, protocol errors).
  void sendLocalReply(uint32_t status, absl::string_view body, LocalReplyHeadersCb modify_headers,
                      std::optional<uint32_t> grpc_status, absl::string_view details);

  // The downstream connection is backing up / has drained: tell the filters that asked.
  void onDownstreamAboveWriteBufferHighWatermark();
  void onDownstreamBelowWriteBufferLowWatermark();

  // Calls onDestroy() on every filter once; no filter callback runs afterwards.
  void destroyFilters();

  const RequestHeaderMap* requestHeaders() const { return request_headers_.get(); }
  const ResponseHeaderMap* responseHeaders() const { return response_headers_.get(); }
  bool responseStarted() const { return response_headers_ != nullptr; }
  bool responseComplete() const { return encode_complete_; }
  bool requestComplete() const { return decode_complete_; }

 private:
  template <class Callbacks>
  struct ActiveFilterBase;
  struct ActiveDecoderFilter;
  struct ActiveEncoderFilter;
  friend struct ActiveDecoderFilter;
  friend struct ActiveEncoderFilter;

  enum class Stop { None, Single, All, AllWatermark };

  void addDecoder(StreamDecoderFilterSharedPtr filter, size_t position);
  void addEncoder(StreamEncoderFilterSharedPtr filter, size_t position);

  // Decoding: iterate from `from` (an index into decoder_filters_).
  void decodeHeadersFrom(size_t from, bool end_stream);
  void decodeDataFrom(size_t from, buffer::Instance& data, bool end_stream);
  void decodeTrailersFrom(size_t from);
  void continueDecoding(ActiveDecoderFilter& filter);
  bool bufferRequestData(buffer::Instance& data, Stop mode);

  // Encoding: iterate encoder filters from `from` (an index into encoder_filters_, which are
  // kept in encode order: the last configured runs first).
  void encodeHeadersFrom(size_t from, bool end_stream);
  void encodeDataFrom(size_t from, buffer::Instance& data, bool end_stream);
  void encodeTrailersFrom(size_t from);
  void continueEncoding(ActiveEncoderFilter& filter);
  bool bufferResponseData(buffer::Instance& data, Stop mode);
  // The first encoder filter a response produced at chain position `position` passes through.
  size_t firstEncoderAfter(size_t position) const;

  void startResponse(ResponseHeaderMapPtr&& headers, bool end_stream, size_t from);
  void localReply(size_t from, uint32_t status, absl::string_view body,
                  LocalReplyHeadersCb modify_headers, std::optional<uint32_t> grpc_status,
                  absl::string_view details);

  FilterManagerCallbacks& callbacks_;
  stream_info::StreamInfo& stream_info_;
  const uint32_t buffer_limit_;
  std::vector<std::unique_ptr<ActiveDecoderFilter>> decoder_filters_;
  std::vector<std::unique_ptr<ActiveEncoderFilter>> encoder_filters_;
  size_t next_position_ = 0;
  std::vector<DownstreamWatermarkCallbacks*> watermark_callbacks_;
  uint32_t downstream_above_watermark_ = 0;

  RequestHeaderMapPtr request_headers_;
  RequestTrailerMapPtr request_trailers_;
  ResponseHeaderMapPtr response_headers_;
  ResponseTrailerMapPtr response_trailers_;
  buffer::OwnedImpl buffered_request_;
  buffer::OwnedImpl buffered_response_;
  bool request_end_stream_ = false;   // the request's last byte has arrived
  bool response_end_stream_ = false;  // the response's last byte has been produced
  bool decode_complete_ = false;      // the request has passed every decoder filter
  bool encode_complete_ = false;      // the response has gone to the codec in full
  bool local_reply_sent_ = false;
  bool response_headers_sent_ = false;  // the response headers reached the codec
  bool request_watermark_ = false;
  bool destroyed_ = false;
};

}  // namespace waystone::http
