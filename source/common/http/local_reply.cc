#include "source/common/http/local_reply.h"

#include "absl/strings/str_cat.h"

namespace waystone::http {

uint32_t httpToGrpcStatus(uint32_t http_status) {
  switch (http_status) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

LocalReply makeLocalReply(uint32_t status, absl::string_view body, bool is_grpc,
                          std::optional<uint32_t> grpc_status, bool is_head) {
  LocalReply reply;
  reply.headers = std::make_unique<ResponseHeaderMap>();
  if (is_grpc) {
    reply.headers->addCopy(":status", "200");
    reply.headers->addCopy("content-type", "application/grpc");
    reply.headers->addCopy("grpc-status",
                           absl::StrCat(grpc_status.value_or(httpToGrpcStatus(status))));
    if (!body.empty()) {
      reply.headers->addCopy("grpc-message", body);
    }
    return reply;
  }
  reply.headers->addCopy(":status", absl::StrCat(status));
  if (!body.empty()) {
    reply.headers->addCopy("content-length", absl::StrCat(body.size()));
    reply.headers->addCopy("content-type", "text/plain");
    if (!is_head) {
      reply.body = std::string(body);
    }
  }
  return reply;
}

}  // namespace waystone::http
