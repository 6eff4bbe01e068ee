#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

#include "test/test_common/threaded_tcp_server.h"

namespace waystone::test {

// Echoes every byte back on each connection until the client closes its side, then closes too.
// Listens on 127.0.0.1 with an ephemeral port; the destructor stops and joins every thread.
class TestTcpEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestTcpEchoServer>> start();

  uint16_t port() const { return server_->port(); }
  std::string address() const;
  uint64_t connectionCount() const { return server_->connectionCount(); }
  uint64_t bytesEchoed() const { return bytes_echoed_.load(); }

 private:
  TestTcpEchoServer() = default;

  std::atomic<uint64_t> bytes_echoed_{0};
  // Last member: destroyed (threads joined) before the counter they update.
  std::unique_ptr<ThreadedTcpServer> server_;
};

}  // namespace waystone::test
