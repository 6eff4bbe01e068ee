#pragma once

#include "source/common/http/filter.h"
#include "source/extensions/filters/http/header_mutation/config.h"

namespace waystone::extensions::http_filters::header_mutation {

// Adds, overwrites or removes request and response headers as configured. The reference HTTP
// filter: docs/adding_a_filter.md walks through it.
class HeaderMutationFilter final : public http::PassThroughFilter {
 public:
  explicit HeaderMutationFilter(HeaderMutationConfigConstSharedPtr config)
      : config_(std::move(config)) {}

  // http::StreamDecoderFilter
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaderMap& headers,
                                          bool end_stream) override;
  // http::StreamEncoderFilter
  http::FilterHeadersStatus encodeHeaders(http::ResponseHeaderMap& headers,
                                          bool end_stream) override;

  // Applies `mutations` to `headers` in order. `context` feeds %REQ()% / %RESP()%: {&headers} on
  // the request path, {request headers (may be null), &headers} on the response path. `info` is
  // the stream's (its filter state falls back to the connection's).
  static void apply(const std::vector<Mutation>& mutations, http::HeaderMap& headers,
                    const formatter::Context& context, const stream_info::StreamInfo& info);

 private:
  const HeaderMutationConfigConstSharedPtr config_;
  const http::RequestHeaderMap* request_headers_ = nullptr;
};

}  // namespace waystone::extensions::http_filters::header_mutation
