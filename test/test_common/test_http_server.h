#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "test/test_common/http_response.h"
#include "test/test_common/threaded_tcp_server.h"

namespace waystone::test {

struct TestHttpRequest {
  std::string method;
  std::string path;  // request target as sent, including any query
  HttpHeaders headers;
  std::string body;  // de-chunked

  std::string header(absl::string_view name) const { return findHeader(headers, name); }
};

// A tiny threaded HTTP/1.1 backend for integration tests, listening on 127.0.0.1 with an ephemeral
// port (or on a unix socket). Every request gets the same configurable response; by default 200
// with the body "hello from backend: <METHOD> <path>". Keep-alive and pipelining work; requests
// are counted and the last one is recorded. The destructor stops and joins every thread.
class TestHttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> start();
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> startUnix(const std::string& path);

  uint16_t port() const { return server_->port(); }
  // "127.0.0.1:<port>"
  std::string address() const;

  // Answers following requests with `status`, `body` (nullopt keeps the default body naming the
  // request) and `headers` added after Content-Type and Content-Length.
  void setResponse(int status, std::optional<std::string> body = std::nullopt,
                   HttpHeaders headers = {});
  // Writes `raw` verbatim as the response to each following request (for hand-built framing such
  // as chunked encoding, or malformed responses), then closes the connection if `close_after`.
  void setRawResponse(std::string raw, bool close_after = true);

  uint64_t requestCount() const { return request_count_.load(); }
  uint64_t connectionCount() const { return server_->connectionCount(); }
  // The most recent complete request, if any.
  std::optional<TestHttpRequest> lastRequest() const;
  // Shortcut: the headers of lastRequest() (empty before the first request).
  HttpHeaders lastRequestHeaders() const;

 private:
  struct ResponseConfig {
    int status = 200;
    std::optional<std::string> body;
    HttpHeaders headers;
    std::optional<std::string> raw;
    bool close_after_raw = true;
  };

  TestHttpServer() = default;
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> finishStart(
      std::unique_ptr<TestHttpServer> server,
      absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> listener);

  // Runs on a connection thread until the peer closes, the exchange ends, or the server stops.
  void serve(ServerConnection& connection);
  // Serialises the response to `request`; sets `close` when the connection must end after it.
  std::string buildResponse(const TestHttpRequest& request, bool keep_alive, bool http10,
                            bool& close);

  std::atomic<uint64_t> request_count_{0};
  mutable absl::Mutex mutex_;
  ResponseConfig config_ ABSL_GUARDED_BY(mutex_);
  std::optional<TestHttpRequest> last_request_ ABSL_GUARDED_BY(mutex_);
  // Last member: destroyed (threads joined) before the state the threads use.
  std::unique_ptr<ThreadedTcpServer> server_;
};

}  // namespace waystone::test
