#include "test/test_common/test_tcp_echo_server.h"

#include "absl/strings/str_cat.h"

namespace waystone::test {

absl::StatusOr<std::unique_ptr<TestTcpEchoServer>> TestTcpEchoServer::start() {
  std::unique_ptr<TestTcpEchoServer> server(new TestTcpEchoServer());
  std::atomic<uint64_t>* bytes = &server->bytes_echoed_;
  absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> listener =
      ThreadedTcpServer::listenTcp([bytes](ServerConnection& connection) {
        std::string data;
        while (connection.read(data)) {
          // Counted before the write, so a client that has received the echo sees the count.
          *bytes += data.size();
          if (!connection.write(data)) {
            return;
          }
          data.clear();
        }
        // The client half-closed (or the server stops): mirror it so the client sees the end.
        connection.shutdownWrite();
      });
  if (!listener.ok()) {
    return listener.status();
  }
  server->server_ = std::move(*listener);
  return server;
}

std::string TestTcpEchoServer::address() const { return absl::StrCat("127.0.0.1:", port()); }

}  // namespace waystone::test
