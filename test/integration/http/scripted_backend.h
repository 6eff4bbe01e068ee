#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "test/test_common/http_response.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/threaded_tcp_server.h"

namespace waystone::test {

// What a ScriptedBackend does with one request.
struct BackendResponse {
  enum class Action {
    kRespond,  // answer at once
    kHang,     // never answer; keep reading until the peer closes or the backend stops
    kHold,     // answer once releaseHeld() is called
    kClose,    // close the connection without answering
  };

  static BackendResponse respond(int status, std::optional<std::string> body = std::nullopt,
                                 HttpHeaders headers = {});
  static BackendResponse hang();
  static BackendResponse hold(int status = 200, std::optional<std::string> body = std::nullopt);
  static BackendResponse close();
  // 200 with a body of `bytes` PatternBody bytes, streamed as it is generated.
  static BackendResponse pattern(uint64_t bytes);

  Action action = Action::kRespond;
  int status = 200;
  // nullopt: "<backend name>: <METHOD> <path>".
  std::optional<std::string> body;
  HttpHeaders headers;
  uint64_t pattern_bytes = 0;
};

// A request as the backend saw it. The body is kept up to kMaxKeptBody bytes; all of it is
// counted and checked against PatternBody.
struct BackendRequest {
  static constexpr size_t kMaxKeptBody = 1 << 20;

  TestHttpRequest request;
  uint64_t body_bytes = 0;
  bool body_matches_pattern = true;
  uint64_t body_digest = 0;
};

// An HTTP/1.1 backend on 127.0.0.1:<ephemeral> that answers requests from a script: each request
// takes the next queued BackendResponse, or the default one when the queue is empty. Bodies of any
// size stream through without being stored. Thread per connection; keep-alive works. The
// destructor stops every thread, including hanging and held ones.
class ScriptedBackend {
 public:
  static absl::StatusOr<std::unique_ptr<ScriptedBackend>> start(std::string name = "backend");
  ~ScriptedBackend();

  uint16_t port() const { return server_->port(); }
  const std::string& name() const { return name_; }

  void enqueue(BackendResponse response);
  void setDefault(BackendResponse response);
  // Lets every held request (current and future ones) answer.
  void releaseHeld();

  uint64_t requestCount() const { return request_count_.load(); }
  uint64_t connectionCount() const { return server_->connectionCount(); }
  // Requests whose response is being held right now.
  uint64_t heldCount() const { return held_.load(); }
  // Body bytes of pattern responses written so far (all requests together): how far a large
  // download got, e.g. while its client is not reading.
  uint64_t patternBytesWritten() const { return pattern_bytes_written_.load(); }
  std::vector<BackendRequest> requests() const;
  std::optional<BackendRequest> lastRequest() const;

 private:
  explicit ScriptedBackend(std::string name) : name_(std::move(name)) {}

  void serve(ServerConnection& connection);
  BackendResponse nextResponse();
  // False when the connection must end.
  bool answer(ServerConnection& connection, const BackendRequest& request,
              const BackendResponse& response, bool keep_alive);
  bool waitForRelease();

  const std::string name_;
  std::atomic<uint64_t> request_count_{0};
  std::atomic<uint64_t> held_{0};
  std::atomic<uint64_t> pattern_bytes_written_{0};
  mutable absl::Mutex mutex_;
  std::deque<BackendResponse> script_ ABSL_GUARDED_BY(mutex_);
  BackendResponse default_ ABSL_GUARDED_BY(mutex_);
  std::vector<BackendRequest> requests_ ABSL_GUARDED_BY(mutex_);
  bool released_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  // Last member: destroyed (threads joined) before the state the threads use.
  std::unique_ptr<ThreadedTcpServer> server_;
};

}  // namespace waystone::test
