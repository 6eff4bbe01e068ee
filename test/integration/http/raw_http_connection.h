#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "test/test_common/file_descriptor.h"
#include "test/test_common/http_response.h"

namespace waystone::test {

// A raw TCP connection to 127.0.0.1 for byte-exact HTTP/1.1 tests: sends whatever it is given
// (malformed requests included) and parses responses with http-parser. Response bodies can be
// streamed to a callback instead of being kept, for transfers larger than memory should hold.
// Every wait has a deadline.
class RawHttpConnection {
 public:
  using BodyCallback = std::function<void(absl::string_view)>;

  static absl::StatusOr<std::unique_ptr<RawHttpConnection>> connect(
      uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Writes all of `data` (never raises SIGPIPE).
  absl::Status send(absl::string_view data,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Reads one complete response. With `on_body`, body bytes go to it and response.body stays
  // empty. `head_request`: the response to a HEAD request has no body whatever its headers say.
  absl::StatusOr<HttpResponse> readResponse(std::chrono::milliseconds timeout,
                                            const BodyCallback& on_body = nullptr,
                                            bool head_request = false);

  // Waits until the peer closes the connection (end of stream or reset): true if it did within
  // `timeout`. Bytes that arrive meanwhile are appended to `received` when given.
  bool waitForClose(std::chrono::milliseconds timeout, std::string* received = nullptr);

  // Caps the kernel's receive buffer (SO_RCVBUF), which also stops its autotuning: a client that
  // stops reading then holds back the sender after at most about this much.
  absl::Status setReceiveBuffer(int bytes);

  // Half-closes: the peer sees end of stream.
  void shutdownWrite();

  int fd() const { return fd_.get(); }

 private:
  explicit RawHttpConnection(FileDescriptor fd) : fd_(std::move(fd)) {}

  // Reads what is available within the deadline into `out`. Ok with an empty `out` means the
  // peer closed (or reset) the connection.
  absl::Status receive(std::chrono::steady_clock::time_point deadline, std::string& out);

  FileDescriptor fd_;
  // Bytes received but not yet consumed by a response.
  std::string pending_;
};

}  // namespace waystone::test
