#pragma once

#include "source/common/http/filter.h"
#include "source/extensions/filters/common/set_filter_state/set_filter_state_config.h"

namespace waystone::extensions::http_filters::set_filter_state {

// envoy.filters.http.set_filter_state: on the request headers, formats each configured value
// against the headers and the stream's stream info and sets it on the stream's filter state
// (whose parent is the connection's, so connection-level keys are visible to the formatter and
// a read-only connection key cannot be replaced per request).
class SetFilterStateFilter final : public http::PassThroughDecoderFilter {
 public:
  explicit SetFilterStateFilter(
      common_filters::set_filter_state::SetFilterStateConfigConstSharedPtr config)
      : config_(std::move(config)) {}

  // http::StreamDecoderFilter
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaderMap& headers,
                                          bool end_stream) override;

 private:
  const common_filters::set_filter_state::SetFilterStateConfigConstSharedPtr config_;
};

}  // namespace waystone::extensions::http_filters::set_filter_state
