#pragma once

#include <string>

#include "source/common/router/header_value_context.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::extensions::http_filters {

// Header value formatters (%DOWNSTREAM_REMOTE_ADDRESS%, ...) read from a stream's StreamInfo.
// Built per use: cheap, and the values are read at the moment the header is formatted.
class StreamInfoHeaderValueContext final : public ::waystone::router::HeaderValueContext {
 public:
  explicit StreamInfoHeaderValueContext(const stream_info::StreamInfo& info)
      : remote_(info.downstream_remote_address != nullptr
                    ? info.downstream_remote_address->asString()
                    : std::string()),
        remote_ip_(info.downstream_remote_address != nullptr &&
                           info.downstream_remote_address->type() == network::address::Type::Ip
                       ? info.downstream_remote_address->ipString()
                       : remote_),
        upstream_(info.upstream_host_address != nullptr ? info.upstream_host_address->asString()
                                                        : std::string()),
        protocol_(info.protocol.value_or("")),
        start_(absl::FromChrono(info.start_time)) {}

  absl::string_view downstreamRemoteAddress() const override { return remote_; }
  absl::string_view downstreamRemoteAddressWithoutPort() const override { return remote_ip_; }
  absl::string_view upstreamHost() const override { return upstream_; }
  absl::string_view protocol() const override { return protocol_; }
  absl::Time startTime() const override { return start_; }

 private:
  const std::string remote_;
  const std::string remote_ip_;
  const std::string upstream_;
  const std::string protocol_;
  const absl::Time start_;
};

}  // namespace waystone::extensions::http_filters
