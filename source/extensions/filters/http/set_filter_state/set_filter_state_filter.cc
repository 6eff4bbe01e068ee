#include "source/extensions/filters/http/set_filter_state/set_filter_state_filter.h"

namespace waystone::extensions::http_filters::set_filter_state {

http::FilterHeadersStatus SetFilterStateFilter::decodeHeaders(http::RequestHeaderMap& headers,
                                                              bool) {
  formatter::Context context;
  context.request_headers = &headers;
  config_->updateFilterState(context, decoder_callbacks_->streamInfo(), "set_filter_state");
  return http::FilterHeadersStatus::Continue;
}

}  // namespace waystone::extensions::http_filters::set_filter_state
