// Graceful drain through the real binary: POST /drain_listeners?graceful and SIGTERM tell the open
// connections at once. A keep-alive HTTP/1.1 connection gets "Connection: close" on its next
// response and is then ended; an HTTP/2 connection gets a GOAWAY with last stream id 2^31-1
// without having to send anything, then after drain_timeout the final GOAWAY with its last
// stream, and is closed. HTTP/2 is spoken with hand-made frames (test/common/http/http2) so the
// GOAWAYs can be read exactly.

#include <poll.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <sys/socket.h>

#include "test/common/http/http2/http2_frame.h"
#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/raw_http_connection.h"
#include "test/integration/integration_util.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

namespace h2 = http::http2::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint32_t kMaxStreamId = 0x7fffffff;
constexpr auto kTimeout = seconds(10);

// An HTTP/2 prior-knowledge client made of raw frames on a raw connection.
class RawH2Connection {
 public:
  static std::unique_ptr<RawH2Connection> connect(uint16_t port) {
    auto raw = RawHttpConnection::connect(port);
    if (!raw.ok()) {
      ADD_FAILURE() << raw.status();
      return nullptr;
    }
    std::unique_ptr<RawH2Connection> connection(new RawH2Connection(std::move(*raw)));
    EXPECT_TRUE(connection->send(absl::StrCat(h2::kClientPreface, h2::settings())));
    // Acknowledge the server's SETTINGS, as a peer must.
    EXPECT_TRUE(connection->readUntil([](const std::vector<h2::Frame>& frames) {
      for (const h2::Frame& frame : frames) {
        if (frame.type == h2::kSettings && (frame.flags & h2::kAck) == 0) {
          return true;
        }
      }
      return false;
    }));
    EXPECT_TRUE(connection->send(h2::settingsAck()));
    return connection;
  }

  bool send(absl::string_view bytes) {
    const absl::Status status = raw_->send(bytes);
    EXPECT_TRUE(status.ok()) << status;
    return status.ok();
  }
  // A GET on `stream_id`, ended.
  bool get(uint32_t stream_id, absl::string_view path) {
    return send(h2::headers(stream_id, h2::getRequest(path), h2::kEndHeaders | h2::kEndStream));
  }

  // Reads until `done(frames so far)` holds, the peer closes, or the deadline. Returns done's
  // last answer.
  bool readUntil(const std::function<bool(const std::vector<h2::Frame>&)>& done,
                 std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(frames())) {
      if (closed_) {
        return false;
      }
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd pfd{raw_->fd(), POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char buffer[16384];
      const ssize_t n = ::recv(raw_->fd(), buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;  // end of stream or reset
      } else {
        received_.append(buffer, static_cast<size_t>(n));
      }
    }
    return true;
  }
  bool waitForClose(std::chrono::milliseconds timeout = kTimeout) {
    readUntil([this](const std::vector<h2::Frame>&) { return closed_; }, timeout);
    return closed_;
  }

  std::vector<h2::Frame> frames() const { return h2::parseFrames(received_); }
  // (last stream id, error code) of each GOAWAY so far.
  std::vector<std::pair<uint32_t, uint32_t>> goAways() const {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (const h2::Frame& frame : frames()) {
      if (frame.type == h2::kGoAway && frame.payload.size() >= 8) {
        const auto* p = reinterpret_cast<const unsigned char*>(frame.payload.data());
        out.emplace_back(((p[0] & 0x7fu) << 24) | (p[1] << 16) | (p[2] << 8) | p[3],
                         frame.errorCode());
      }
    }
    return out;
  }
  // True once a frame ended `stream_id` (a response without a reset).
  bool streamEnded(uint32_t stream_id) const {
    for (const h2::Frame& frame : frames()) {
      if (frame.stream_id == stream_id && frame.type == h2::kRstStream) {
        return false;
      }
      if (frame.stream_id == stream_id && (frame.type == h2::kHeaders || frame.type == h2::kData) &&
          (frame.flags & h2::kEndStream) != 0) {
        return true;
      }
    }
    return false;
  }

 private:
  explicit RawH2Connection(std::unique_ptr<RawHttpConnection> raw) : raw_(std::move(raw)) {}

  std::unique_ptr<RawHttpConnection> raw_;
  std::string received_;
  bool closed_ = false;
};

class DrainIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = TestHttpServer::start();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
  }

  void start(std::vector<std::string> extra_args = {},
             absl::string_view hcm_fields = "drain_timeout: 2s") {
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("backend", {backend_->port()});
    bootstrap.addConnectionManagerFields(hcm_fields);
    WaystoneOptions options;
    options.bootstrap_yaml = bootstrap.build();
    options.extra_args = std::move(extra_args);
    auto process = WaystoneProcess::start(std::move(options));
    ASSERT_TRUE(process.ok()) << process.status();
    waystone_ = std::move(*process);
    ASSERT_TRUE(waystone_->waitReady(seconds(30))) << waystone_->logs();
    auto port = listenerPort(*waystone_, "http");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  uint64_t stat(absl::string_view name) { return statValue(*waystone_, name).value_or(0); }

  static std::string get(absl::string_view path) {
    return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: drain.test\r\n\r\n");
  }

  std::unique_ptr<TestHttpServer> backend_;
  std::unique_ptr<WaystoneProcess> waystone_;
  uint16_t port_ = 0;
};

TEST_F(DrainIntegrationTest, GracefulDrainListenersEndsHttp1AndGoAwaysHttp2) {
  ASSERT_NO_FATAL_FAILURE(start());
  // A keep-alive HTTP/1.1 connection and an HTTP/2 one, each with a request done.
  auto h1 = RawHttpConnection::connect(port_);
  ASSERT_TRUE(h1.ok()) << h1.status();
  ASSERT_TRUE((*h1)->send(get("/h1-before")).ok());
  auto before = (*h1)->readResponse(kTimeout);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->status, 200);
  EXPECT_NE(before->header("connection"), "close");
  auto h2c = RawH2Connection::connect(port_);
  ASSERT_NE(h2c, nullptr);
  ASSERT_TRUE(h2c->get(1, "/h2-before"));
  ASSERT_TRUE(h2c->readUntil([&](const auto&) { return h2c->streamEnded(1); }));
  EXPECT_TRUE(h2c->goAways().empty());

  auto drained = waystone_->admin("POST", "/drain_listeners?graceful");
  ASSERT_TRUE(drained.ok()) << drained.status();
  EXPECT_EQ(drained->status, 200);

  // Both connections heard of it (they may live on different workers).
  ASSERT_TRUE(
      waitFor([&] { return stat("http.ingress.downstream_cx_drain_close") == 2; }, kTimeout));

  // HTTP/1.1: the next request is served and told it is the last; then the proxy ends it.
  ASSERT_TRUE((*h1)->send(get("/h1-during")).ok());
  auto during = (*h1)->readResponse(kTimeout);
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->status, 200);
  EXPECT_EQ(during->header("connection"), "close");
  EXPECT_TRUE((*h1)->waitForClose(kTimeout));

  // HTTP/2: told at once, without sending anything: GOAWAY(NO_ERROR, 2^31-1) ...
  ASSERT_TRUE(h2c->readUntil([&](const auto&) { return !h2c->goAways().empty(); }));
  EXPECT_EQ(h2c->goAways()[0], (std::pair<uint32_t, uint32_t>{kMaxStreamId, h2::kNoError}));
  // ... then, drain_timeout (2 s) later, the final GOAWAY naming stream 1, and the close.
  EXPECT_TRUE(h2c->waitForClose());
  ASSERT_EQ(h2c->goAways().size(), 2u);
  EXPECT_EQ(h2c->goAways()[1], (std::pair<uint32_t, uint32_t>{1, h2::kNoError}));

  EXPECT_EQ(stat("http.ingress.downstream_cx_drain_close"), 2u);
  EXPECT_EQ(backend_->requestCount(), 3u);
}

TEST_F(DrainIntegrationTest, ConnectionsAcceptedDuringTheDrainAreToldAtOnce) {
  // Graceful with a long drain time and skip_exit: the listener keeps accepting.
  ASSERT_NO_FATAL_FAILURE(start({"--drain-time-s", "60", "--drain-strategy", "immediate"}));
  auto drained = waystone_->admin("POST", "/drain_listeners?graceful&skip_exit");
  ASSERT_TRUE(drained.ok()) << drained.status();
  ASSERT_TRUE(waitFor(
      [&] {
        auto ready = waystone_->admin("GET", "/ready");
        return ready.ok() && ready->status == 503;
      },
      kTimeout));

  auto h1 = RawHttpConnection::connect(port_);
  ASSERT_TRUE(h1.ok()) << h1.status();
  ASSERT_TRUE((*h1)->send(get("/late")).ok());
  auto response = (*h1)->readResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("connection"), "close");

  auto h2c = RawH2Connection::connect(port_);
  ASSERT_NE(h2c, nullptr);
  ASSERT_TRUE(h2c->readUntil([&](const auto&) { return !h2c->goAways().empty(); }));
  EXPECT_EQ(h2c->goAways()[0].first, kMaxStreamId);
  // Still served until the final GOAWAY.
  ASSERT_TRUE(h2c->get(1, "/late-h2"));
  EXPECT_TRUE(h2c->readUntil([&](const auto&) { return h2c->streamEnded(1); }));
}

TEST_F(DrainIntegrationTest, SigtermDrainsHttp2AndExitsWhenTheLastConnectionCloses) {
  // As pilot-agent runs it: immediate strategy, a drain time far longer than the test.
  ASSERT_NO_FATAL_FAILURE(start({"--drain-time-s", "60", "--drain-strategy", "immediate"}));
  auto h2c = RawH2Connection::connect(port_);
  ASSERT_NE(h2c, nullptr);
  ASSERT_TRUE(h2c->get(1, "/before"));
  ASSERT_TRUE(h2c->readUntil([&](const auto&) { return h2c->streamEnded(1); }));

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(waystone_->process().signal(SIGTERM).ok());
  ASSERT_TRUE(h2c->readUntil([&](const auto&) { return !h2c->goAways().empty(); }));
  EXPECT_EQ(h2c->goAways()[0].first, kMaxStreamId);
  EXPECT_TRUE(h2c->waitForClose());
  ASSERT_EQ(h2c->goAways().size(), 2u);
  EXPECT_EQ(h2c->goAways()[1].first, 1u);
  // The open connection was the only thing keeping the process: it exits now, not at 60 s.
  auto status = waystone_->process().waitForExit(kTimeout);
  ASSERT_TRUE(status.has_value()) << waystone_->logs();
  EXPECT_EQ(*status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(30));
}

TEST_F(DrainIntegrationTest, MaxConnectionDurationDrainsLikeAListenerDrain) {
  ASSERT_NO_FATAL_FAILURE(start({}, R"(
    drain_timeout: 0.2s
    common_http_protocol_options:
      max_connection_duration: 0.5s
  )"));
  auto h2c = RawH2Connection::connect(port_);
  ASSERT_NE(h2c, nullptr);
  ASSERT_TRUE(h2c->get(1, "/"));
  ASSERT_TRUE(h2c->readUntil([&](const auto&) { return h2c->streamEnded(1); }));
  EXPECT_TRUE(h2c->waitForClose());
  EXPECT_EQ(h2c->goAways(), (std::vector<std::pair<uint32_t, uint32_t>>{
                                {kMaxStreamId, h2::kNoError}, {1, h2::kNoError}}));
  EXPECT_TRUE(waitFor([&] { return stat("http.ingress.downstream_cx_max_duration_reached") == 1; },
                      kTimeout));
  EXPECT_EQ(stat("http.ingress.downstream_cx_drain_close"), 0u);
}

}  // namespace
}  // namespace waystone::test
