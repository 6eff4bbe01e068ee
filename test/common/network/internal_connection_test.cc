#include "source/common/network/internal/internal_connection.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/internal/internal_listener_registry.h"
#include "source/common/network/raw_transport.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "test/common/network/network_test_util.h"

namespace waystone::network {
namespace {

using stream_info::FilterState;
using test::CollectingReader;
using test::pattern;
using test::RecordingCallbacks;
using test::runFor;
using test::runUntil;

constexpr char kListener[] = "main_internal";

address::InstanceConstSharedPtr listenerAddress(absl::string_view endpoint = "10.0.0.1:80") {
  return address::envoyInternal(kListener, endpoint);
}

// An internal listener on the test thread; by default each socket becomes a connection at once.
class InternalConnectionTest : public testing::Test, public InternalListenerCallbacks {
 protected:
  InternalConnectionTest() { InternalListenerRegistry::get().registerListener(kListener, *this); }
  ~InternalConnectionTest() override {
    InternalListenerRegistry::get().unregisterListener(kListener, *this);
  }

  // InternalListenerCallbacks
  void onAccept(ConnectionSocketPtr socket) override {
    ++accepts_;
    if (on_socket_) {
      on_socket_(std::move(socket));
      return;
    }
    acceptSocket(*socket);
  }

  void acceptSocket(ConnectionSocket& socket) {
    ASSERT_EQ(server_, nullptr) << "one connection per test";
    EXPECT_TRUE(socket.isInternal());
    server_ = socket.createConnection(dispatcher_, nullptr);
    server_->addConnectionCallbacks(server_callbacks_);
    if (set_server_reader_) {
      server_->setReadCallback(&server_reader_);
    }
    if (on_accept_) {
      on_accept_(*server_);
    }
  }

  void createClient(InternalConnectionOptions options = {}) {
    client_ = createInternalClientConnection(dispatcher_, listenerAddress(), std::move(options));
    client_->addConnectionCallbacks(client_callbacks_);
    client_->setReadCallback(&client_reader_);
  }

  // Connects a client and waits until both ends exist.
  void connect() {
    if (client_ == nullptr) {
      createClient();
    }
    client_->connect();
    ASSERT_TRUE(runUntil(dispatcher_, [&] {
      return client_callbacks_.count(ConnectionEvent::Connected) == 1 && server_ != nullptr;
    }));
  }

  static void write(Connection& connection, absl::string_view data, bool end_stream) {
    buffer::OwnedImpl buffer(data);
    connection.write(buffer, end_stream);
    EXPECT_EQ(buffer.length(), 0u);
  }

  bool bothClosed() const { return client_callbacks_.closed() && server_callbacks_.closed(); }

  // Declared first: destroyed last, after every object that uses it.
  event::DispatcherImpl dispatcher_{"test"};
  RecordingCallbacks server_callbacks_;
  RecordingCallbacks client_callbacks_;
  CollectingReader server_reader_;
  CollectingReader client_reader_;
  bool set_server_reader_ = true;
  int accepts_ = 0;
  std::function<void(ConnectionSocketPtr)> on_socket_;
  std::function<void(Connection&)> on_accept_;
  ConnectionPtr server_;
  ClientConnectionPtr client_;
};

TEST_F(InternalConnectionTest, ConnectReportsAddressesIdsAndCounters) {
  connect();
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::Connected});
  EXPECT_TRUE(server_callbacks_.events.empty());  // accepted connections are simply open
  EXPECT_EQ(accepts_, 1);
  EXPECT_NE(client_->id(), server_->id());
  EXPECT_EQ(client_->remoteAddress()->asString(), "envoy://main_internal/10.0.0.1:80");
  EXPECT_EQ(client_->localAddress()->asString(), "envoy://internal_client_address/");
  EXPECT_EQ(*server_->localAddress(), *client_->remoteAddress());
  EXPECT_EQ(*server_->remoteAddress(), *client_->localAddress());
  EXPECT_EQ(server_->localAddress()->type(), address::Type::Internal);
  EXPECT_EQ(server_->streamInfo().downstream_local_address, server_->localAddress());
  EXPECT_EQ(server_->streamInfo().downstream_remote_address, server_->remoteAddress());
  EXPECT_EQ(server_->ssl(), nullptr);
  EXPECT_EQ(client_->state(), Connection::State::Open);
  EXPECT_TRUE(client_->transportFailureReason().empty());

  write(*client_, "hello", false);
  // Never delivered inside write(): from the loop.
  EXPECT_EQ(server_reader_.calls, 0);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "hello"; }));
  EXPECT_EQ(client_->bytesWritten(), 5u);
  EXPECT_EQ(server_->bytesRead(), 5u);
  write(*server_, "world!", false);
  EXPECT_EQ(client_reader_.calls, 0);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.received == "world!"; }));
  EXPECT_EQ(server_->bytesWritten(), 6u);
  EXPECT_EQ(client_->bytesRead(), 6u);
  EXPECT_EQ(server_reader_.end_streams + client_reader_.end_streams, 0);
}

TEST_F(InternalConnectionTest, IdsAreUniqueAcrossKernelAndInternalConnections) {
  connect();
  auto kernel = createClientConnection(dispatcher_, *address::parseIp("127.0.0.1", 1));
  EXPECT_NE(kernel->id(), client_->id());
  EXPECT_NE(kernel->id(), server_->id());
  EXPECT_GT(kernel->id(), server_->id());
}

TEST_F(InternalConnectionTest, WriteMovesSlicesWithoutCopying) {
  connect();
  const std::string payload = pattern(64 * 1024, 11);
  buffer::OwnedImpl buffer(payload);
  std::vector<const char*> written;
  buffer.forEachSlice([&](absl::string_view slice) { written.push_back(slice.data()); });
  std::vector<const char*> received;
  server_reader_.drain = false;
  server_reader_.on_data = [&](buffer::Instance& data, bool) {
    data.forEachSlice([&](absl::string_view slice) { received.push_back(slice.data()); });
    server_reader_.received += data.toString();
    data.drain(data.length());
  };
  client_->write(buffer, false);
  EXPECT_EQ(buffer.length(), 0u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received.size() == 64 * 1024; }));
  EXPECT_TRUE(server_reader_.received == payload);
  // The reader sees the writer's own memory: slices were relinked, not copied.
  EXPECT_EQ(received, written);
}

TEST_F(InternalConnectionTest, DataWrittenBeforeConnectIsPeekedThenRead) {
  std::unique_ptr<ConnectionSocket> held;
  on_socket_ = [&](ConnectionSocketPtr socket) { held = std::move(socket); };
  createClient();
  write(*client_, "GET / HTTP/1.1\r\n", false);
  client_->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return held != nullptr; }));
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::Connected), 1);
  EXPECT_TRUE(held->isInternal());
  EXPECT_EQ(held->localAddress()->asString(), "envoy://main_internal/10.0.0.1:80");
  EXPECT_EQ(held->remoteAddress()->asString(), "envoy://internal_client_address/");
  ConnectionSocket::PeekResult peeked = held->peek(4);
  EXPECT_EQ(peeked.data, "GET ");
  EXPECT_FALSE(peeked.end_stream);
  peeked = held->peek(1024);
  EXPECT_EQ(peeked.data, "GET / HTTP/1.1\r\n");

  // waitForData fires for bytes written after it was asked, not for those already there.
  int woken = 0;
  held->waitForData([&] { ++woken; });
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(woken, 0);
  write(*client_, "host: a\r\n", false);
  EXPECT_EQ(woken, 0);  // from the loop
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return woken == 1; }));
  EXPECT_EQ(held->peek(1024).data, "GET / HTTP/1.1\r\nhost: a\r\n");
  // Once: a further write without a new wait wakes nobody.
  write(*client_, "\r\n", true);
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(woken, 1);
  EXPECT_TRUE(held->peek(1024).end_stream);
  // The client has finished: a wait is answered at once.
  held->waitForData([&] { ++woken; });
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return woken == 2; }));
  // cancelWait() drops a wait.
  held->waitForData([&] { ++woken; });
  held->cancelWait();
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(woken, 2);

  // Peeked bytes were not consumed: the connection reads them all.
  acceptSocket(*held);
  held.reset();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, "GET / HTTP/1.1\r\nhost: a\r\n\r\n");
  EXPECT_EQ(server_->bytesRead(), server_reader_.received.size());
}

TEST_F(InternalConnectionTest, ServerWritesInsideOnAcceptArriveAfterConnected) {
  std::vector<std::string> order;
  client_reader_.on_data = [&](buffer::Instance&, bool) { order.push_back("data"); };
  class OrderRecorder : public ConnectionCallbacks {
   public:
    explicit OrderRecorder(std::vector<std::string>& order) : order_(order) {}
    void onEvent(ConnectionEvent event) override {
      if (event == ConnectionEvent::Connected) {
        order_.push_back("connected");
      }
    }
    std::vector<std::string>& order_;
  } recorder(order);
  on_accept_ = [&](Connection& connection) { write(connection, "banner", false); };
  createClient();
  client_->addConnectionCallbacks(recorder);
  connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.received == "banner"; }));
  EXPECT_EQ(order, (std::vector<std::string>{"connected", "data"}));
}

TEST_F(InternalConnectionTest, NoListenerRaisesRemoteCloseFromTheLoop) {
  client_ = createInternalClientConnection(dispatcher_, address::envoyInternal("nobody", "x"), {});
  client_->addConnectionCallbacks(client_callbacks_);
  write(*client_, "lost", false);
  client_->connect();
  EXPECT_TRUE(client_callbacks_.events.empty());  // reported from the loop, not from connect()
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_->transportFailureReason(), "no internal listener named \"nobody\"");
  EXPECT_EQ(client_->state(), Connection::State::Closed);
  EXPECT_EQ(accepts_, 0);
  // A listener that goes away is not found any more.
  InternalListenerRegistry::get().unregisterListener(kListener, *this);
  RecordingCallbacks callbacks;
  auto late = createInternalClientConnection(dispatcher_, listenerAddress(), {});
  late->addConnectionCallbacks(callbacks);
  late->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return callbacks.closed(); }));
  EXPECT_EQ(late->transportFailureReason(), "no internal listener named \"main_internal\"");
  EXPECT_EQ(accepts_, 0);
}

TEST_F(InternalConnectionTest, ListenerRejectingInOnAcceptClosesTheClient) {
  on_socket_ = [](ConnectionSocketPtr socket) { socket.reset(); };
  createClient();
  write(*client_, "dropped", false);
  client_->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  // Accepted first (as a kernel accepts before the application looks), then closed.
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::RemoteClose}));
  EXPECT_EQ(accepts_, 1);
  EXPECT_EQ(client_reader_.received, "");
}

TEST_F(InternalConnectionTest, ListenerFilterRejectingLaterClosesTheClient) {
  std::unique_ptr<ConnectionSocket> held;
  on_socket_ = [&](ConnectionSocketPtr socket) {
    held = std::move(socket);
    // An inspector that needs bytes, then gives up on what it sees.
    held->waitForData([&] {
      EXPECT_EQ(held->peek(16).data, "\x16\x03\x01");
      held.reset();
    });
  };
  createClient();
  client_->readDisable(true);  // even a paused reader learns of the close: nothing is left to read
  client_->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return held != nullptr; }));
  write(*client_, "\x16\x03\x01", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(held, nullptr);
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::RemoteClose}));
  EXPECT_TRUE(client_->transportFailureReason().empty());
}

TEST_F(InternalConnectionTest, ServerTransportSocketIsRefusedClearly) {
  on_socket_ = [&](ConnectionSocketPtr socket) {
    server_ = socket->createConnection(dispatcher_, std::make_unique<RawTransport>());
    ASSERT_NE(server_, nullptr);
    server_->addConnectionCallbacks(server_callbacks_);
    server_->setReadCallback(&server_reader_);
  };
  createClient();
  write(*client_, "never read", false);
  client_->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return bothClosed(); }));
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_NE(server_->transportFailureReason().find("runs no transport socket"),
            absl::string_view::npos)
      << server_->transportFailureReason();
  EXPECT_EQ(server_reader_.calls, 0);
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
}

TEST_F(InternalConnectionTest, ClientTransportSocketOrNonInternalAddressIsRefused) {
  client_ = createInternalClientConnection(dispatcher_, listenerAddress(), {},
                                           std::make_unique<RawTransport>());
  client_->addConnectionCallbacks(client_callbacks_);
  client_->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_NE(client_->transportFailureReason().find("runs no transport socket"),
            absl::string_view::npos);
  EXPECT_EQ(accepts_, 0);

  RecordingCallbacks callbacks;
  auto ip = createInternalClientConnection(dispatcher_, *address::parseIp("127.0.0.1", 80), {});
  ip->addConnectionCallbacks(callbacks);
  ip->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return callbacks.closed(); }));
  EXPECT_EQ(ip->transportFailureReason(), "not an internal address");
}

TEST_F(InternalConnectionTest, GenericCreateClientConnectionRoutesInternalAddresses) {
  client_ = createClientConnection(dispatcher_, listenerAddress("ep"));
  client_->addConnectionCallbacks(client_callbacks_);
  client_->setReadCallback(&client_reader_);
  connect();
  EXPECT_EQ(server_->localAddress()->asString(), "envoy://main_internal/ep");
  write(*client_, "ping", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, "ping");
}

TEST_F(InternalConnectionTest, SharedFilterStateAndMetadataArrive) {
  FilterState upstream_of_previous_hop;
  ASSERT_TRUE(upstream_of_previous_hop
                  .setData("transitive", std::make_shared<stream_info::StringAccessor>("t"),
                           FilterState::StateType::ReadOnly,
                           FilterState::StreamSharing::SharedWithUpstreamConnection)
                  .ok());
  ASSERT_TRUE(upstream_of_previous_hop
                  .setData("once", std::make_shared<stream_info::StringAccessor>("o"),
                           FilterState::StateType::Mutable,
                           FilterState::StreamSharing::SharedWithUpstreamConnectionOnce)
                  .ok());
  ASSERT_TRUE(upstream_of_previous_hop
                  .setData("local", std::make_shared<stream_info::StringAccessor>("l"),
                           FilterState::StateType::ReadOnly)
                  .ok());
  InternalConnectionOptions options;
  options.shared_filter_state = upstream_of_previous_hop.objectsSharedWithUpstreamConnection();
  (*options.metadata.mutable_filter_metadata())["tunnel"]
      .mutable_fields()
      ->
      operator[]("destination")
      .set_string_value("10.0.0.1:80");

  // Listener filters see them on the socket already.
  bool seen_on_socket = false;
  on_socket_ = [&](ConnectionSocketPtr socket) {
    seen_on_socket = socket->streamInfo().filter_state->hasData("transitive") &&
                     socket->streamInfo().dynamic_metadata.filter_metadata().contains("tunnel");
    acceptSocket(*socket);
  };
  createClient(std::move(options));
  connect();
  EXPECT_TRUE(seen_on_socket);

  const FilterState& state = *server_->streamInfo().filter_state;
  const auto* transitive = state.getDataReadOnly<stream_info::StringAccessor>("transitive");
  ASSERT_NE(transitive, nullptr);
  EXPECT_EQ(transitive->value(), "t");
  const auto* once = state.getDataReadOnly<stream_info::StringAccessor>("once");
  ASSERT_NE(once, nullptr);
  EXPECT_EQ(once->value(), "o");
  EXPECT_FALSE(state.hasData("local"));
  // Read-only stays read-only on this hop.
  EXPECT_FALSE(server_->streamInfo()
                   .filter_state
                   ->setData("transitive", std::make_shared<stream_info::StringAccessor>("x"),
                             FilterState::StateType::ReadOnly)
                   .ok());
  // TRANSITIVE goes on to the next hop, ONCE stops here.
  std::vector<FilterState::Entry> onwards = state.objectsSharedWithUpstreamConnection();
  ASSERT_EQ(onwards.size(), 1u);
  EXPECT_EQ(onwards[0].name, "transitive");
  EXPECT_EQ(onwards[0].sharing, FilterState::StreamSharing::SharedWithUpstreamConnection);

  const auto& metadata = server_->streamInfo().dynamic_metadata.filter_metadata();
  ASSERT_TRUE(metadata.contains("tunnel"));
  EXPECT_EQ(metadata.at("tunnel").fields().at("destination").string_value(), "10.0.0.1:80");
  // The client's own stream info is not the server's.
  EXPECT_FALSE(client_->streamInfo().filter_state->hasData("transitive"));
}

// An echo server that applies back-pressure: it stops reading while its write buffer is above the
// high watermark, as a proxy must.
class FlowControlledEcho : public ReadCallback, public ConnectionCallbacks {
 public:
  explicit FlowControlledEcho(Connection& connection) : connection_(connection) {}
  void onData(buffer::Instance& data, bool end_stream) override {
    max_seen_length = std::max<uint64_t>(max_seen_length, data.length());
    connection_.write(data, end_stream);
  }
  void onEvent(ConnectionEvent) override {}
  void onAboveWriteBufferHighWatermark() override {
    ++paused;
    connection_.readDisable(true);
  }
  void onBelowWriteBufferLowWatermark() override { connection_.readDisable(false); }

  Connection& connection_;
  uint64_t max_seen_length = 0;
  int paused = 0;
};

// Writes `payload` in `chunk`-sized writes, pausing at the high watermark and resuming at the low
// one, and records the most the connection ever had in flight.
class PacedWriter : public ConnectionCallbacks {
 public:
  PacedWriter(Connection& connection, std::string payload, size_t chunk,
              const uint64_t& peer_consumed)
      : connection_(connection),
        payload_(std::move(payload)),
        chunk_(chunk),
        peer_consumed_(peer_consumed) {}

  void pump() {
    while (offset_ < payload_.size() && !paused_) {
      const size_t n = std::min(chunk_, payload_.size() - offset_);
      buffer::OwnedImpl data(absl::string_view(payload_).substr(offset_, n));
      offset_ += n;
      connection_.write(data, offset_ == payload_.size());
      max_in_flight = std::max<uint64_t>(max_in_flight, offset_ - peer_consumed_);
    }
  }
  void onEvent(ConnectionEvent) override {}
  void onAboveWriteBufferHighWatermark() override {
    ++above;
    paused_ = true;
  }
  void onBelowWriteBufferLowWatermark() override {
    ++below;
    paused_ = false;
    pump();
  }
  bool done() const { return offset_ == payload_.size(); }

  uint64_t max_in_flight = 0;
  int above = 0;
  int below = 0;

 private:
  Connection& connection_;
  const std::string payload_;
  const size_t chunk_;
  const uint64_t& peer_consumed_;
  size_t offset_ = 0;
  bool paused_ = false;
};

TEST_F(InternalConnectionTest, SlowReaderBoundsTheWriter) {
  constexpr uint32_t kLimit = 16 * 1024;
  constexpr size_t kChunk = 3000;
  const std::string payload = pattern(4 * 1024 * 1024, 5);
  uint64_t consumed = 0;
  // The reader takes at most 1 KiB per delivery and pauses between deliveries, resumed from a
  // timer: a slow consumer.
  event::TimerPtr resume;
  server_reader_.drain = false;
  server_reader_.on_data = [&](buffer::Instance& data, bool end_stream) {
    // With the end of stream the reader must take everything: nothing more is delivered.
    const uint64_t n = end_stream ? data.length() : std::min<uint64_t>(data.length(), 1024);
    server_reader_.received += data.toString().substr(0, n);
    data.drain(n);
    consumed += n;
    server_->readDisable(true);
    resume->enableTimer(std::chrono::milliseconds(0));
  };
  connect();
  resume = dispatcher_.createTimer([&] { server_->readDisable(false); });
  client_->setBufferLimits(kLimit);
  PacedWriter writer(*client_, payload, kChunk, consumed);
  client_->addConnectionCallbacks(writer);
  writer.pump();
  EXPECT_TRUE(client_->aboveHighWatermark());
  EXPECT_EQ(writer.above, 1);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return server_reader_.received.size() == payload.size();
  })) << server_reader_.received.size();
  EXPECT_TRUE(server_reader_.received == payload);
  // Bounded: never more than the limit and one write in flight, and onData never saw more.
  EXPECT_LE(writer.max_in_flight, kLimit + kChunk);
  EXPECT_GT(writer.max_in_flight, kLimit);
  EXPECT_LE(server_reader_.max_seen_length, kLimit + kChunk);
  EXPECT_GT(writer.above, 10);
  EXPECT_EQ(writer.below, writer.above);
  EXPECT_FALSE(client_->aboveHighWatermark());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
}

TEST_F(InternalConnectionTest, EchoesLargePayloadWithSmallBufferLimitsThenHalfCloses) {
  constexpr uint32_t kLimit = 16 * 1024;
  constexpr size_t kChunk = 4096;
  const std::string payload = pattern(8 * 1024 * 1024, 42);
  std::unique_ptr<FlowControlledEcho> echo;
  set_server_reader_ = false;
  on_accept_ = [&](Connection& connection) {
    connection.setBufferLimits(kLimit);
    echo = std::make_unique<FlowControlledEcho>(connection);
    connection.setReadCallback(echo.get());
    connection.addConnectionCallbacks(*echo);
  };
  createClient();
  client_->setBufferLimits(kLimit);
  connect();
  uint64_t unused = 0;
  PacedWriter writer(*client_, payload, kChunk, unused);
  client_->addConnectionCallbacks(writer);
  // The client does not read: the echo's writes pile up and the echo must stop reading, and
  // then the client's writes pile up and the client must stop writing.
  client_->readDisable(true);
  writer.pump();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return echo->paused > 0; }));
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_FALSE(server_->readEnabled());
  EXPECT_TRUE(server_->aboveHighWatermark());
  EXPECT_TRUE(client_->aboveHighWatermark());
  // What is in flight is bounded by the two limits (plus a write each), far below the payload.
  EXPECT_LE(server_->bytesRead(), 2 * (kLimit + kChunk));
  EXPECT_LE(client_->bytesWritten(), 3 * (kLimit + kChunk));
  client_->readDisable(false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return bothClosed(); }))
      << client_reader_.received.size();
  EXPECT_TRUE(writer.done());
  EXPECT_EQ(client_reader_.received.size(), payload.size());
  EXPECT_TRUE(client_reader_.received == payload);
  EXPECT_EQ(client_reader_.end_streams, 1);
  EXPECT_EQ(client_reader_.calls_after_end_stream, 0);
  EXPECT_LE(echo->max_seen_length, kLimit + kChunk);
  // The echo writes what it read in one go: the way back may hold its limit plus that.
  EXPECT_LE(client_reader_.max_seen_length, 2 * kLimit + kChunk);
  EXPECT_GT(client_callbacks_.above_high, 1);
  EXPECT_GE(server_callbacks_.above_high, 1);
  // Both directions closed: each side raised exactly one RemoteClose.
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::RemoteClose}));
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_->bytesWritten(), payload.size());
  EXPECT_EQ(server_->bytesRead(), payload.size());
  EXPECT_EQ(server_->bytesWritten(), payload.size());
  EXPECT_EQ(client_->bytesRead(), payload.size());
}

TEST_F(InternalConnectionTest, OneHugeWriteIsAboveTheMarkAtOnce) {
  // A producer that ignores the watermark can overrun, as with ConnectionImpl's write buffer;
  // it is told at once, inside write().
  connect();
  client_->setBufferLimits(1024);
  write(*client_, pattern(1024 * 1024), false);
  EXPECT_TRUE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.above_high, 1);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.below_low == 1; }));
  EXPECT_EQ(server_reader_.received.size(), 1024u * 1024);
}

TEST_F(InternalConnectionTest, WithoutReadCallbackDataWaitsAndCountsAgainstTheWriter) {
  set_server_reader_ = false;
  connect();
  client_->setBufferLimits(1000);
  write(*client_, pattern(600), false);
  EXPECT_FALSE(client_->aboveHighWatermark());
  write(*client_, pattern(600, 2), true);
  EXPECT_TRUE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.above_high, 1);
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_TRUE(client_->aboveHighWatermark());
  server_->setReadCallback(&server_reader_);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, pattern(600) + pattern(600, 2));
  EXPECT_EQ(server_reader_.calls, 1);
  EXPECT_FALSE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.below_low, 1);
}

TEST_F(InternalConnectionTest, UndrainedDataCountsUntilTheReaderDrainsIt) {
  connect();
  client_->setBufferLimits(100);
  server_reader_.drain = false;  // keeps everything in its read buffer
  write(*client_, pattern(80), false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.calls == 1; }));
  write(*client_, pattern(30), false);
  // 110 bytes unconsumed: 80 in the reader's buffer, 30 in flight.
  EXPECT_TRUE(client_->aboveHighWatermark());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.calls == 2; }));
  EXPECT_TRUE(client_->aboveHighWatermark());
  EXPECT_EQ(server_reader_.max_seen_length, 110u);
  // The reader drains on its next delivery: the writer falls to the low watermark.
  server_reader_.drain = true;
  write(*client_, "x", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return !client_->aboveHighWatermark(); }));
  EXPECT_EQ(client_callbacks_.below_low, 1);
  EXPECT_EQ(server_reader_.received.size(), 111u);
}

TEST_F(InternalConnectionTest, RemovingTheLimitReleasesAPausedWriter) {
  set_server_reader_ = false;
  connect();
  client_->setBufferLimits(10);
  write(*client_, "more than ten bytes", false);
  EXPECT_TRUE(client_->aboveHighWatermark());
  client_->setBufferLimits(0);
  EXPECT_FALSE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.below_low, 1);
  // A larger limit is checked at once too.
  client_->setBufferLimits(5);
  EXPECT_TRUE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.above_high, 2);
  client_->setBufferLimits(100);
  EXPECT_FALSE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.below_low, 2);
}

TEST_F(InternalConnectionTest, ReadDisableNests) {
  on_accept_ = [](Connection& connection) {
    connection.readDisable(true);
    connection.readDisable(true);
  };
  connect();
  EXPECT_FALSE(server_->readEnabled());
  write(*client_, "data", false);
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(server_reader_.calls, 0);
  server_->readDisable(false);
  EXPECT_FALSE(server_->readEnabled());
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(server_reader_.calls, 0);
  server_->readDisable(false);
  EXPECT_TRUE(server_->readEnabled());
  EXPECT_EQ(server_reader_.calls, 0);  // from the loop
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "data"; }));
}

TEST_F(InternalConnectionTest, ReadDisableInsideOnDataHoldsTheRest) {
  server_reader_.drain = false;
  server_reader_.on_data = [&](buffer::Instance& data, bool) {
    if (server_reader_.calls == 1) {
      server_reader_.received += data.toString().substr(0, 1);
      data.drain(1);
      server_->readDisable(true);
    } else {
      server_reader_.received += data.toString();
      data.drain(data.length());
    }
  };
  connect();
  write(*client_, "abc", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.calls == 1; }));
  write(*client_, "d", false);
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(server_reader_.calls, 1);
  EXPECT_EQ(server_reader_.received, "a");
  server_->readDisable(false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "abcd"; }));
  EXPECT_EQ(server_reader_.calls, 2);
}

TEST_F(InternalConnectionTest, HalfCloseFromClient) {
  connect();
  write(*client_, "ping", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, "ping");
  EXPECT_EQ(server_->state(), Connection::State::Open);  // our side may still write
  write(*server_, "pong", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.received == "pong"; }));
  EXPECT_FALSE(client_callbacks_.closed());
  EXPECT_FALSE(server_callbacks_.closed());
  write(*server_, "", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return bothClosed(); }));
  EXPECT_EQ(client_reader_.end_streams, 1);
  EXPECT_EQ(server_reader_.end_streams, 1);
  EXPECT_EQ(server_reader_.calls_after_end_stream, 0);
  EXPECT_EQ(client_reader_.calls_after_end_stream, 0);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::RemoteClose}));
}

TEST_F(InternalConnectionTest, HalfCloseFromServer) {
  on_accept_ = [&](Connection& connection) { write(connection, "banner", true); };
  connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.end_streams == 1; }));
  EXPECT_EQ(client_reader_.received, "banner");
  write(*client_, "reply", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "reply"; }));
  EXPECT_FALSE(bothClosed());
  write(*client_, "", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return bothClosed(); }));
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  // Writes after end_stream are dropped, not sent.
  write(*client_, "late", false);
  EXPECT_EQ(client_->bytesWritten(), 5u);
}

TEST_F(InternalConnectionTest, SimultaneousHalfCloses) {
  connect();
  write(*client_, "c", true);
  write(*server_, "s", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return bothClosed(); }));
  EXPECT_EQ(server_reader_.received, "c");
  EXPECT_EQ(client_reader_.received, "s");
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
}

class CloseTypeTest : public InternalConnectionTest,
                      public testing::WithParamInterface<ConnectionCloseType> {};

TEST_P(CloseTypeTest, ClientCloseDeliversWrittenDataThenRemoteClose) {
  connect();
  const std::string payload = pattern(1024 * 1024, 9);
  write(*client_, payload, false);
  client_->close(GetParam());
  // The closer is closed at once.
  EXPECT_EQ(client_->state(), Connection::State::Closed);
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::LocalClose}));
  client_->close(ConnectionCloseType::NoFlush);  // no second event
  write(*client_, "after close", false);
  client_->readDisable(true);
  EXPECT_EQ(client_callbacks_.events.size(), 2u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_callbacks_.closed(); }));
  // The peer got what was written, then end of stream, then RemoteClose.
  EXPECT_TRUE(server_reader_.received == payload);
  EXPECT_EQ(server_reader_.end_streams, 1);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_TRUE(server_->transportFailureReason().empty());
  EXPECT_EQ(client_->bytesWritten(), payload.size());
  EXPECT_EQ(client_callbacks_.events.size(), 2u);
}

TEST_P(CloseTypeTest, ServerCloseAfterLocalReplyReachesThePausedClientLater) {
  on_accept_ = [&](Connection& connection) {
    write(connection, "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n", false);
    connection.close(GetParam());
  };
  createClient();
  client_->readDisable(true);
  connect();
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::LocalClose});
  runFor(dispatcher_, std::chrono::milliseconds(20));
  // A paused reader with data waiting is not closed under it.
  EXPECT_FALSE(client_callbacks_.closed());
  client_->readDisable(false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_reader_.received, "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
  EXPECT_EQ(client_reader_.end_streams, 1);
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::RemoteClose}));
}

INSTANTIATE_TEST_SUITE_P(BothTypes, CloseTypeTest,
                         testing::Values(ConnectionCloseType::FlushWrite,
                                         ConnectionCloseType::NoFlush));

TEST_F(InternalConnectionTest, DataSentToTheClosingSideIsDropped) {
  connect();
  server_->readDisable(true);
  write(*client_, "unread by the server", false);
  server_->close(ConnectionCloseType::NoFlush);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(server_reader_.calls, 0);
  EXPECT_EQ(client_reader_.end_streams, 1);
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
}

TEST_F(InternalConnectionTest, WriteToAGonePeerClosesFromTheLoop) {
  connect();
  server_->readDisable(true);  // the server cannot read what the client left for it
  write(*client_, "left behind", false);
  client_->close(ConnectionCloseType::NoFlush);
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_FALSE(server_callbacks_.closed());  // data still waits for it
  write(*server_, "into the void", false);
  EXPECT_FALSE(server_callbacks_.closed());  // never re-entrantly from write()
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_callbacks_.closed(); }));
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(server_->transportFailureReason(), "internal peer closed");
  EXPECT_EQ(server_->bytesWritten(), 0u);
}

TEST_F(InternalConnectionTest, CloseBeforeConnectCompletesNeverReachesTheListener) {
  createClient();
  client_->connect();
  client_->close(ConnectionCloseType::NoFlush);
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::LocalClose});
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(accepts_, 0);
  EXPECT_EQ(client_callbacks_.events.size(), 1u);
}

TEST_F(InternalConnectionTest, DestroyingAnOpenConnectionRaisesNothingAndClosesThePeer) {
  connect();
  write(*client_, "bye", false);
  client_.reset();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::Connected});
  EXPECT_EQ(server_reader_.received, "bye");
  EXPECT_EQ(server_reader_.end_streams, 1);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});

  // And the other way: the server half destroyed.
  server_.reset();
  server_callbacks_.events.clear();
  client_callbacks_.events.clear();
  client_reader_.end_streams = 0;
  createClient();
  connect();
  server_.reset();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_EQ(client_reader_.end_streams, 1);
}

TEST_F(InternalConnectionTest, DestroyingAnUnconnectedClientIsQuiet) {
  createClient();
  write(*client_, "never sent", false);
  client_->connect();
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(accepts_, 0);
  EXPECT_TRUE(client_callbacks_.events.empty());
}

// Deletes its connection (deferred) on close, as owners do.
class Deleter : public ConnectionCallbacks {
 public:
  template <class Ptr>
  Deleter(event::Dispatcher& dispatcher, Ptr& connection, bool& deleted)
      : dispatcher_(dispatcher), deleted_(deleted) {
    take_ = [&connection]() -> event::DeferredDeletablePtr { return std::move(connection); };
  }
  void onEvent(ConnectionEvent event) override {
    if (event != ConnectionEvent::Connected) {
      dispatcher_.deferredDelete(take_());
      deleted_ = true;
    }
  }
  event::Dispatcher& dispatcher_;
  bool& deleted_;
  std::function<event::DeferredDeletablePtr()> take_;
};

TEST_F(InternalConnectionTest, CallbacksMayDeferDeleteBothHalves) {
  connect();
  bool client_deleted = false;
  bool server_deleted = false;
  Deleter client_deleter(dispatcher_, client_, client_deleted);
  Deleter server_deleter(dispatcher_, server_, server_deleted);
  client_->addConnectionCallbacks(client_deleter);
  server_->addConnectionCallbacks(server_deleter);
  // The server closes from inside its own onData; the client deletes itself on RemoteClose.
  server_reader_.on_data = [&](buffer::Instance&, bool) {
    write(*server_, "last words", false);
    server_->close(ConnectionCloseType::FlushWrite);
  };
  write(*client_, "hi", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_deleted && server_deleted; }));
  runFor(dispatcher_, std::chrono::milliseconds(10));  // the deferred deletes run
  EXPECT_EQ(client_, nullptr);
  EXPECT_EQ(server_, nullptr);
  EXPECT_EQ(client_reader_.received, "last words");
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_EQ(server_callbacks_.count(ConnectionEvent::LocalClose), 1);
}

TEST_F(InternalConnectionTest, ReaderMayDeleteThePeerInsideOnData) {
  connect();
  // The client, on the server's data, closes the server and defers its deletion: the delivery
  // that is running must not touch the server afterwards.
  client_reader_.on_data = [&](buffer::Instance&, bool) {
    if (server_ != nullptr) {
      server_->close(ConnectionCloseType::NoFlush);
      dispatcher_.deferredDelete(std::move(server_));
    }
  };
  client_->setBufferLimits(1);
  write(*client_, "above the mark", false);
  EXPECT_TRUE(client_->aboveHighWatermark());
  write(*server_, "x", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(server_, nullptr);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::LocalClose});
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
}

// Echoes every connection on the listener until the client half-closes.
class EchoListener : public InternalListenerCallbacks {
 public:
  explicit EchoListener(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  struct Session : public ReadCallback, public ConnectionCallbacks {
    void onData(buffer::Instance& data, bool end_stream) override {
      connection->write(data, end_stream);
    }
    void onEvent(ConnectionEvent event) override {
      if (event != ConnectionEvent::Connected) {
        ++*closed;
      }
    }
    ConnectionPtr connection;
    int* closed = nullptr;
  };

  void onAccept(ConnectionSocketPtr socket) override {
    auto session = std::make_unique<Session>();
    session->connection = socket->createConnection(dispatcher_, nullptr);
    session->connection->setReadCallback(session.get());
    session->connection->addConnectionCallbacks(*session);
    session->closed = &closed;
    sessions.push_back(std::move(session));
  }

  event::Dispatcher& dispatcher_;
  std::vector<std::unique_ptr<Session>> sessions;
  int closed = 0;
};

TEST_F(InternalConnectionTest, ManyConnectionsAtOnce) {
  constexpr int kConnections = 300;
  EchoListener echo(dispatcher_);
  InternalListenerRegistry::get().registerListener("echo", echo);
  std::vector<ClientConnectionPtr> clients;
  std::vector<std::unique_ptr<CollectingReader>> readers;
  std::vector<std::unique_ptr<RecordingCallbacks>> callbacks;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(createInternalClientConnection(
        dispatcher_, address::envoyInternal("echo", absl::StrCat(i)), {}));
    readers.push_back(std::make_unique<CollectingReader>());
    callbacks.push_back(std::make_unique<RecordingCallbacks>());
    clients.back()->setReadCallback(readers.back().get());
    clients.back()->addConnectionCallbacks(*callbacks.back());
    clients.back()->connect();
    write(*clients.back(), pattern(1000 + i, i), true);
  }
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    for (const auto& cb : callbacks) {
      if (!cb->closed()) {
        return false;
      }
    }
    return echo.closed == kConnections;
  }));
  std::set<uint64_t> ids;
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_TRUE(readers[i]->received == pattern(1000 + i, i)) << i;
    EXPECT_EQ(callbacks[i]->events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                  ConnectionEvent::RemoteClose}));
    ids.insert(clients[i]->id());
    ids.insert(echo.sessions[i]->connection->id());
  }
  EXPECT_EQ(ids.size(), 2u * kConnections);
  EXPECT_EQ(echo.sessions.size(), static_cast<size_t>(kConnections));
  EXPECT_TRUE(InternalListenerRegistry::get().unregisterListener("echo", echo));
}

TEST(InternalListenerRegistryTest, RegisterReplaceUnregister) {
  struct Listener : public InternalListenerCallbacks {
    void onAccept(ConnectionSocketPtr) override {}
  } a, b;
  InternalListenerRegistry& registry = InternalListenerRegistry::get();
  const size_t before = registry.size();
  EXPECT_EQ(registry.find("l"), nullptr);
  EXPECT_FALSE(registry.registerListener("l", a));
  EXPECT_EQ(registry.find("l"), &a);
  // An update in place: the new listener takes new connections...
  EXPECT_TRUE(registry.registerListener("l", b));
  EXPECT_EQ(registry.find("l"), &b);
  // ...and the old one going away does not unregister it.
  EXPECT_FALSE(registry.unregisterListener("l", a));
  EXPECT_EQ(registry.find("l"), &b);
  EXPECT_TRUE(registry.unregisterListener("l", b));
  EXPECT_EQ(registry.find("l"), nullptr);
  EXPECT_EQ(registry.size(), before);
}

TEST(InternalListenerRegistryTest, EachThreadHasItsOwn) {
  struct Listener : public InternalListenerCallbacks {
    void onAccept(ConnectionSocketPtr) override {}
  } a;
  InternalListenerRegistry::get().registerListener("mine", a);
  InternalListenerCallbacks* seen_elsewhere = &a;
  std::thread other([&] { seen_elsewhere = InternalListenerRegistry::get().find("mine"); });
  other.join();
  EXPECT_EQ(seen_elsewhere, nullptr);
  EXPECT_EQ(InternalListenerRegistry::get().find("mine"), &a);
  InternalListenerRegistry::get().unregisterListener("mine", a);
}

}  // namespace
}  // namespace waystone::network
