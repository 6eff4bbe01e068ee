#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/http/header_map.h"
#include "source/common/http/reason_phrase.h"

namespace waystone::http {

struct LocalReply {
  ResponseHeaderMapPtr headers;
  std::string body;  // empty for gRPC and HEAD
};

// Envoy's local reply: `status` with a text/plain `body`. For gRPC requests, a trailers-only
// response (:status 200, grpc-status, grpc-message) with the status mapped from HTTP unless
// `grpc_status` is given. HEAD requests get no body (content-length still says its size).
LocalReply makeLocalReply(uint32_t status, absl::string_view body, bool is_grpc,
                          std::optional<uint32_t> grpc_status, bool is_head);

// Envoy's HTTP -> gRPC status mapping (grpc/http_to_grpc mapping in the gRPC spec).
uint32_t httpToGrpcStatus(uint32_t http_status);

}  // namespace waystone::http
