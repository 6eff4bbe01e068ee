// Interop: the server codec against python3-h2 (a different HTTP/2 implementation) over a
// loopback TCP connection. The peer script is h2_peer.py; it exits 0 when the codec behaved.

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/codec.h"
#include "source/common/http/http2/server_connection_impl.h"
#include "test/common/http/http2/codec_test_util.h"
#include "test/test_common/child_process.h"
#include "test/test_common/file_descriptor.h"
#include "test/test_common/runfiles.h"

namespace waystone::http::http2::test {
namespace {

using waystone::test::ChildProcess;
using waystone::test::FileDescriptor;

// Debian's interpreter: python3-h2 is installed for it (tools/setup), not for other pythons
// that may come first in $PATH.
constexpr char kPython[] = "/usr/bin/python3";
constexpr auto kDeadline = std::chrono::seconds(20);

class H2InteropTest : public testing::Test {
 protected:
  void SetUp() override {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener_.valid());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::listen(listener_.get(), 1), 0);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }

  // Starts the peer, accepts its connection and serves it with a server codec until the peer
  // closes. Returns the peer's exit status (or -1000 when it did not run to the end).
  int run(const std::string& scenario) {
    auto child = ChildProcess::start(
        {kPython, waystone::test::runfilesPath("test/common/http/http2/h2_peer.py"),
         std::to_string(port_), scenario});
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) {
      return -1000;
    }
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    pollfd accept_poll{listener_.get(), POLLIN, 0};
    if (::poll(&accept_poll, 1, 10000) != 1) {
      ADD_FAILURE() << "the peer did not connect; stderr: " << (*child)->stderrContents();
      return -1000;
    }
    FileDescriptor conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(conn.valid());
    serve(conn.get(), deadline);
    conn.reset();
    const std::optional<int> exit = (*child)->waitForExit(std::chrono::seconds(10));
    stderr_ = (*child)->stderrContents();
    return exit.value_or(-1000);
  }

  void serve(int fd, std::chrono::steady_clock::time_point deadline) {
    TestTransport transport;
    ServerConnectionImpl server(transport, callbacks_, {}, {});
    bool write_closed = false;
    auto flush = [&]() {
      const std::string out = transport.takeOutput();
      size_t sent = 0;
      while (sent < out.size()) {
        const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
          return;  // the peer went away
        }
        sent += static_cast<size_t>(n);
      }
    };
    flush();  // our SETTINGS
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, 200);
      if (ready < 0 && errno != EINTR) {
        break;
      }
      if (ready <= 0) {
        continue;
      }
      char buf[16384];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        break;  // the peer closed (or reset) the connection
      }
      if (write_closed) {
        continue;  // drain until the peer closes, so it reads our GOAWAY instead of a reset
      }
      buffer::OwnedImpl input(absl::string_view(buf, static_cast<size_t>(n)));
      const absl::Status status = server.dispatch(input);
      flush();
      if (!status.ok()) {
        status_ = status;
        ::shutdown(fd, SHUT_WR);
        write_closed = true;
      }
    }
  }

  FileDescriptor listener_;
  uint16_t port_ = 0;
  TestServerCallbacks callbacks_;
  absl::Status status_;
  std::string stderr_;
};

TEST_F(H2InteropTest, RequestWithBodyAndTrailers) {
  callbacks_.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) {
      r.encoder().encodeHeaders(responseHeaders("200"), false);
      buffer::OwnedImpl body(absl::StrCat("echo:", r.body));
      r.encoder().encodeData(body, false);
      HeaderMap trailers;
      trailers.addCopy("x-done", "1");
      r.encoder().encodeTrailers(trailers);
    };
  };
  EXPECT_EQ(run("request"), 0) << stderr_;
  EXPECT_TRUE(status_.ok()) << status_;
  ASSERT_EQ(callbacks_.streams.size(), 1u);
  EXPECT_EQ(callbacks_.streams[0]->headers->path(), "/echo");
  EXPECT_EQ(callbacks_.streams[0]->headers->getValue("x-test"), "1");
  EXPECT_EQ(callbacks_.streams[0]->body, "hello from h2");
  EXPECT_TRUE(callbacks_.streams[0]->end_stream);
}

TEST_F(H2InteropTest, ContinuationFloodEndsWithGoAway) {
  EXPECT_EQ(run("continuation_flood"), 0) << stderr_;
  EXPECT_TRUE(isBufferFloodError(status_)) << status_;
  EXPECT_TRUE(callbacks_.streams.empty());
}

}  // namespace
}  // namespace waystone::http::http2::test
