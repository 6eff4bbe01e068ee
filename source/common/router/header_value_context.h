#pragma once

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace waystone::router {

// What header value formatters (%DOWNSTREAM_REMOTE_ADDRESS% ...) read about the stream. The
// HTTP connection manager / router filter implements it over its stream state. Every value may be
// empty when not known yet (e.g. no upstream host before one is picked); an empty command
// result contributes nothing to the header value.
class HeaderValueContext {
 public:
  virtual ~HeaderValueContext() = default;

  // The client's address with port: "10.0.0.1:34567" or "[::1]:34567".
  virtual absl::string_view downstreamRemoteAddress() const = 0;
  // The client's address without port: "10.0.0.1" or "::1".
  virtual absl::string_view downstreamRemoteAddressWithoutPort() const = 0;
  // The chosen upstream host "ip:port".
  virtual absl::string_view upstreamHost() const = 0;
  // The downstream protocol: "HTTP/1.0", "HTTP/1.1", "HTTP/2" or "HTTP/3".
  virtual absl::string_view protocol() const = 0;
  // When the first byte of the request arrived.
  virtual absl::Time startTime() const = 0;
};

}  // namespace waystone::router
