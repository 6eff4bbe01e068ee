// Draining a connection manager's connection (listener drain, max_connection_duration) with the
// real codecs on loopback: HTTP/1 "connection: close", HTTP/2's two GOAWAYs, drain_timeout, and
// when the connection finally closes. Also the gradual drain's timing (network::drainDelay).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/common/http/conn_manager_impl_test_base.h"

namespace waystone::http::test {
namespace {

using std::chrono::milliseconds;

constexpr uint32_t kMaxStreamId = 0x7fffffff;

// (last stream id, error code) of each GOAWAY a raw client received.
std::vector<std::pair<uint32_t, uint32_t>> goAways(const RawClient& client) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const http2::test::Frame& frame : http2::test::parseFrames(client.reader.received)) {
    if (frame.type == http2::test::kGoAway && frame.payload.size() >= 8) {
      const auto* p = reinterpret_cast<const unsigned char*>(frame.payload.data());
      out.emplace_back(((p[0] & 0x7fu) << 24) | (p[1] << 16) | (p[2] << 8) | p[3],
                       frame.errorCode());
    }
  }
  return out;
}

// The body of the response on `stream_id` once its DATA ended the stream; nullopt before.
std::optional<std::string> responseBody(const RawClient& client, uint32_t stream_id) {
  std::string body;
  for (const http2::test::Frame& frame : http2::test::parseFrames(client.reader.received)) {
    if (frame.type == http2::test::kData && frame.stream_id == stream_id) {
      body += frame.payload;
      if (frame.flags & http2::test::kEndStream) {
        return body;
      }
    }
  }
  return std::nullopt;
}

TEST_F(ConnectionManagerTest, Http1DrainAnswersWithConnectionCloseThenEnds) {
  config_->drain_timeout = std::chrono::seconds(30);  // not reached in this test
  listen();
  auto client = connectRaw();
  send(*client, get("/before"));
  auto before = readResponse(*client);
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(before->has("connection"));  // keep-alive

  server().hcm().onDrainStart(immediateDrain());
  EXPECT_EQ(counter("downstream_cx_drain_close"), 1u);
  // Nothing is cut: the next request is served, and told that it is the last.
  send(*client, get("/during"));
  auto during = readResponse(*client);
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->status, 200);
  EXPECT_EQ(during->header("connection"), "close");
  // The proxy ends its side after the response; the client's close finishes the connection.
  EXPECT_TRUE(runUntil([&] { return client->reader.end_streams == 1; }));
  client->connection->close(network::ConnectionCloseType::FlushWrite);
  EXPECT_TRUE(runUntil([&] { return server().closed(); }));
  EXPECT_EQ(script_.seen.size(), 2u);
}

TEST_F(ConnectionManagerTest, Http1DrainClosesAnIdleConnectionAfterDrainTimeout) {
  config_->drain_timeout = milliseconds(100);
  listen();
  auto client = connectRaw();
  send(*client, get("/"));
  ASSERT_TRUE(readResponse(*client).has_value());
  server().hcm().onDrainStart(immediateDrain());
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream() && server().closed(); }));
  EXPECT_EQ(client->reader.received.size(), client->consumed);  // nothing more was sent
}

TEST_F(ConnectionManagerTest, Http1DrainTimeoutLetsTheRequestInFlightFinish) {
  config_->drain_timeout = milliseconds(50);
  script_.hold = true;
  listen();
  auto client = connectRaw();
  send(*client, get("/slow"));
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 1; }));
  server().hcm().onDrainStart(immediateDrain());
  // Well past drain_timeout: the connection waits for the response in flight.
  network::test::runFor(dispatcher_, milliseconds(200));
  EXPECT_FALSE(client->sawEndOfStream());
  respond(*script_.held[0]);
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "released");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
}

// Our HTTP/2 client codec (nghttp2) opens no stream after any GOAWAY, so this test speaks
// HTTP/2 with hand-made frames to show that streams opened after the first GOAWAY are served.
TEST_F(ConnectionManagerTest, Http2DrainSendsShutdownNoticeThenFinalGoAway) {
  namespace h2 = http2::test;
  config_->drain_timeout = milliseconds(200);
  script_.hold = true;
  listen();
  auto client = connectRaw();
  send(*client,
       absl::StrCat(h2::kClientPreface, h2::settings(),
                    h2::headers(1, h2::getRequest("/held"), h2::kEndHeaders | h2::kEndStream)));
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 1; }));
  ASSERT_TRUE(runUntil([&] {
    for (const h2::Frame& frame : h2::parseFrames(client->reader.received)) {
      if (frame.type == h2::kSettings && (frame.flags & h2::kAck) == 0) {
        return true;
      }
    }
    return false;
  }));
  send(*client, h2::settingsAck());

  server().hcm().onDrainStart(immediateDrain());
  EXPECT_EQ(counter("downstream_cx_drain_close"), 1u);
  // At once, without waiting for a request: GOAWAY(NO_ERROR) with the largest stream id.
  ASSERT_TRUE(runUntil([&] { return goAways(*client).size() == 1; }));
  EXPECT_EQ(goAways(*client)[0], (std::pair<uint32_t, uint32_t>{kMaxStreamId, h2::kNoError}));

  // New streams are still served until the final GOAWAY.
  script_.hold = false;
  send(*client, h2::headers(3, h2::getRequest("/during"), h2::kEndHeaders | h2::kEndStream));
  ASSERT_TRUE(runUntil([&] { return responseBody(*client, 3).has_value(); }));
  EXPECT_EQ(*responseBody(*client, 3), "ok");

  // After drain_timeout: the final GOAWAY names the last stream processed.
  ASSERT_TRUE(runUntil([&] { return goAways(*client).size() == 2; }));
  EXPECT_EQ(goAways(*client)[1], (std::pair<uint32_t, uint32_t>{3, h2::kNoError}));
  // Stream 1 is still open, and so is the connection.
  EXPECT_FALSE(client->sawEndOfStream());
  EXPECT_FALSE(responseBody(*client, 1).has_value());
  respond(*script_.held[0]);
  ASSERT_TRUE(runUntil([&] { return responseBody(*client, 1).has_value(); }));
  EXPECT_EQ(*responseBody(*client, 1), "released");
  // With its last stream done, the proxy closes; nothing was reset on the way.
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream() && server().closed(); }));
  for (const h2::Frame& frame : h2::parseFrames(client->reader.received)) {
    EXPECT_NE(frame.type, h2::kRstStream) << "stream " << frame.stream_id;
  }
}

TEST_F(ConnectionManagerTest, Http2DrainOfAnIdleConnectionClosesAfterDrainTimeout) {
  config_->drain_timeout = milliseconds(100);
  listen();
  auto client = connectH2();
  auto& response = client->request("GET", "/");
  ASSERT_TRUE(runUntil([&] { return response.end_stream; }));
  server().hcm().onDrainStart(immediateDrain());
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  EXPECT_EQ(client->goAwayLastStreamIds(), (std::vector<uint32_t>{kMaxStreamId, 1}));
}

TEST_F(ConnectionManagerTest, DrainBeforeTheFirstByte) {
  config_->drain_timeout = std::chrono::seconds(30);
  listen();
  // HTTP/2: the notice follows the server's SETTINGS as soon as the codec exists.
  auto h2 = connectH2();
  server(0).hcm().onDrainStart(immediateDrain());
  auto& response = h2->request("GET", "/");
  ASSERT_TRUE(runUntil([&] { return response.end_stream; }));
  EXPECT_EQ(response.headers->status(), 200u);
  EXPECT_EQ(h2->goAwayLastStreamIds(), std::vector<uint32_t>{kMaxStreamId});

  // HTTP/1: the first response is the last.
  auto h1 = connectRaw();
  server(1).hcm().onDrainStart(immediateDrain());
  send(*h1, get("/"));
  auto r = readResponse(*h1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(counter("downstream_cx_drain_close"), 2u);
}

TEST_F(ConnectionManagerTest, DrainStartsOnceAndDrainTimeoutOfZeroIsImmediate) {
  config_->drain_timeout = milliseconds(0);
  listen();
  auto client = connectH2();
  auto& response = client->request("GET", "/");
  ASSERT_TRUE(runUntil([&] { return response.end_stream; }));
  server().hcm().onDrainStart(immediateDrain());
  server().hcm().onDrainStart(immediateDrain());
  server().hcm().startDrain();
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  EXPECT_EQ(client->goAwayLastStreamIds(), (std::vector<uint32_t>{kMaxStreamId, 1}));
  EXPECT_EQ(counter("downstream_cx_drain_close"), 1u);
}

TEST_F(ConnectionManagerTest, GradualDrainStartsWithinTheDrainTime) {
  config_->drain_timeout = milliseconds(50);
  listen();
  auto client = connectH2();
  auto& response = client->request("GET", "/");
  ASSERT_TRUE(runUntil([&] { return response.end_stream; }));
  // A gradual drain of 300 ms: this connection's turn comes at a random point within it.
  network::DrainEvent event;
  event.start_time = std::chrono::steady_clock::now();
  event.drain_time = milliseconds(300);
  event.strategy = network::DrainEvent::Strategy::Gradual;
  const auto start = std::chrono::steady_clock::now();
  server().hcm().onDrainStart(event);
  ASSERT_TRUE(runUntil([&] { return client->goaways >= 1; }, std::chrono::seconds(5)));
  // Within the drain time (plus slack for a loaded machine), not after it.
  EXPECT_LE(std::chrono::steady_clock::now() - start, milliseconds(300 + 1500));
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  EXPECT_EQ(counter("downstream_cx_drain_close"), 1u);
}

TEST(DrainDelayTest, ImmediateAndGradualSchedules) {
  const auto t0 = std::chrono::steady_clock::now();
  network::DrainEvent event;
  event.start_time = t0;
  event.drain_time = milliseconds(1000);
  event.strategy = network::DrainEvent::Strategy::Immediate;
  EXPECT_EQ(network::drainDelay(event, t0, 123456), milliseconds(0));

  event.strategy = network::DrainEvent::Strategy::Gradual;
  // At the start: a uniform point of the drain time.
  EXPECT_EQ(network::drainDelay(event, t0, 0), milliseconds(0));
  EXPECT_EQ(network::drainDelay(event, t0, 999), milliseconds(999));
  EXPECT_EQ(network::drainDelay(event, t0, 1000 + 250), milliseconds(250));
  // Half way: the draws that fell in the first half mean "now", the others keep their point.
  const auto half = t0 + milliseconds(500);
  EXPECT_EQ(network::drainDelay(event, half, 100), milliseconds(0));
  EXPECT_EQ(network::drainDelay(event, half, 499), milliseconds(0));
  EXPECT_EQ(network::drainDelay(event, half, 700), milliseconds(200));
  // Past the end, or no drain time at all: now.
  EXPECT_EQ(network::drainDelay(event, t0 + milliseconds(1500), 999), milliseconds(0));
  event.drain_time = milliseconds(0);
  EXPECT_EQ(network::drainDelay(event, t0, 999), milliseconds(0));

  // Over many connections the share drained by time t is t / drain_time.
  event.drain_time = milliseconds(1000);
  int by_quarter = 0;
  for (uint64_t r = 0; r < 1000; ++r) {
    by_quarter += network::drainDelay(event, t0, r * 7919) < milliseconds(250) ? 1 : 0;
  }
  EXPECT_NEAR(by_quarter, 250, 30);
}

TEST_F(ConnectionManagerTest, MaxConnectionDurationDrainsTheConnection) {
  config_->max_connection_duration = milliseconds(100);
  config_->drain_timeout = milliseconds(100);
  listen();
  auto h2 = connectH2();
  auto& response = h2->request("GET", "/");
  ASSERT_TRUE(runUntil([&] { return response.end_stream; }));
  ASSERT_TRUE(runUntil([&] { return h2->sawEndOfStream(); }));
  EXPECT_EQ(h2->goAwayLastStreamIds(), (std::vector<uint32_t>{kMaxStreamId, 1}));
  EXPECT_EQ(counter("downstream_cx_max_duration_reached"), 1u);
  EXPECT_EQ(counter("downstream_cx_drain_close"), 0u);  // not a listener drain

  // A connection that never sent a byte has nothing to drain: closed at once.
  auto silent = connectRaw();
  EXPECT_TRUE(runUntil([&] { return silent->sawEndOfStream(); }));
  EXPECT_TRUE(silent->reader.received.empty());
  EXPECT_EQ(counter("downstream_cx_max_duration_reached"), 2u);

  // HTTP/1 in the middle of a request: that response is the last.
  script_.hold = true;
  auto h1 = connectRaw();
  send(*h1, get("/long"));
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 1; }));
  ASSERT_TRUE(runUntil([&] { return counter("downstream_cx_max_duration_reached") == 3; }));
  respond(*script_.held[0]);
  auto last = readResponse(*h1);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->header("connection"), "close");
  EXPECT_TRUE(runUntil([&] { return h1->sawEndOfStream(); }));
}

}  // namespace
}  // namespace waystone::http::test
