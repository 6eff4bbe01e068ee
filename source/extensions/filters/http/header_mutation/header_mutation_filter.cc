#include "source/extensions/filters/http/header_mutation/header_mutation_filter.h"

namespace waystone::extensions::http_filters::header_mutation {

void HeaderMutationFilter::apply(const std::vector<Mutation>& mutations, http::HeaderMap& headers,
                                 const formatter::Context& context,
                                 const stream_info::StreamInfo& info) {
  if (mutations.empty()) {
    return;
  }
  for (const Mutation& m : mutations) {
    if (m.action == Mutation::Action::Remove) {
      headers.remove(m.key);
      continue;
    }
    const std::string value = m.value->format(context, info);
    if (value.empty() && !m.keep_empty_value) {
      continue;  // Envoy skips empty values unless asked to keep them
    }
    switch (m.action) {
      case Mutation::Action::AppendIfExistsOrAdd:
        headers.addCopy(m.key, value);
        break;
      case Mutation::Action::AddIfAbsent:
        if (!headers.has(m.key)) {
          headers.addCopy(m.key, value);
        }
        break;
      case Mutation::Action::OverwriteIfExistsOrAdd:
        headers.setCopy(m.key, value);
        break;
      case Mutation::Action::OverwriteIfExists:
        if (headers.has(m.key)) {
          headers.setCopy(m.key, value);
        }
        break;
      case Mutation::Action::Remove:
        break;
    }
  }
}

http::FilterHeadersStatus HeaderMutationFilter::decodeHeaders(http::RequestHeaderMap& headers,
                                                              bool) {
  request_headers_ = &headers;
  apply(config_->requestMutations(), headers, formatter::Context{&headers},
        decoder_callbacks_->streamInfo());
  // Routing reads headers: a mutation may change the route.
  if (!config_->requestMutations().empty()) {
    decoder_callbacks_->clearRouteCache();
  }
  return http::FilterHeadersStatus::Continue;
}

http::FilterHeadersStatus HeaderMutationFilter::encodeHeaders(http::ResponseHeaderMap& headers,
                                                              bool) {
  apply(config_->responseMutations(), headers, formatter::Context{request_headers_, &headers},
        encoder_callbacks_->streamInfo());
  return http::FilterHeadersStatus::Continue;
}

}  // namespace waystone::extensions::http_filters::header_mutation
