#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "test/test_common/file_descriptor.h"
#include "test/test_common/http_response.h"

namespace waystone::test {

// A small blocking HTTP/1.1 client for the admin API and plain backends, over TCP or a unix
// socket. Responses are framed by Content-Length, chunked encoding, or connection close (parsed
// with http-parser).
//
// Each request sends `Host` and `Connection: close` unless the caller passes its own (any header
// given by the caller replaces the default of the same name). A request that carries
// `Connection: keep-alive` leaves the connection open when the server agrees, and the next
// request reuses it; there is no retry if the server closed it meanwhile.
//
// Not thread-safe: one client per thread.
class HttpClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  // `host` may be a name, an IPv4 literal or an IPv6 literal (without brackets).
  HttpClient(std::string host, uint16_t port);
  // Connects to the unix domain socket at `path`; the Host header defaults to "localhost".
  static HttpClient unixSocket(std::string path);

  // `timeout` bounds the whole exchange: connect, send and receiving the full response.
  absl::StatusOr<HttpResponse> request(absl::string_view method, absl::string_view path,
                                       const HttpHeaders& headers = {}, absl::string_view body = "",
                                       std::chrono::milliseconds timeout = kDefaultTimeout);

  absl::StatusOr<HttpResponse> get(absl::string_view path,
                                   std::chrono::milliseconds timeout = kDefaultTimeout) {
    return request("GET", path, {}, "", timeout);
  }
  absl::StatusOr<HttpResponse> post(absl::string_view path, absl::string_view body,
                                    std::chrono::milliseconds timeout = kDefaultTimeout) {
    return request("POST", path, {}, body, timeout);
  }

  // True while a kept-alive connection is open for the next request.
  bool connected() const { return connection_.valid(); }

 private:
  HttpClient() = default;

  absl::Status connect(std::chrono::milliseconds timeout);

  std::string host_;
  uint16_t port_ = 0;
  std::string unix_path_;
  FileDescriptor connection_;
};

}  // namespace waystone::test
