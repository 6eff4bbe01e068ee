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

absl::string_view reasonPhrase(uint32_t status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
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
