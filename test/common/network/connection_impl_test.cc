#include "source/common/network/connection_impl.h"

#include <unistd.h>

#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener_impl.h"
#include "source/common/network/raw_transport.h"
#include "test/common/network/network_test_util.h"

namespace waystone::network {
namespace {

using test::CollectingReader;
using test::pattern;
using test::RecordingCallbacks;
using test::runFor;
using test::runUntil;

constexpr uint64_t kOneRead = RawTransport::kMaxReadChunk;

int fdOf(Connection& connection) { return dynamic_cast<ConnectionImpl&>(connection).fd(); }

// Sets the kernel send buffer. A small one makes flow control, not the kernel, hold the data back;
// it is made large again afterwards, because with a buffer smaller than one loopback segment every
// send waits for a delayed ACK. (The receive buffer is left alone: shrinking it on an established
// connection makes loopback TCP drop segments. A receiver that does not read keeps a small window
// anyway.)
void setSendBuffer(Connection& connection, int size) {
  ASSERT_EQ(::setsockopt(fdOf(connection), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
}
void shrinkKernelBuffers(Connection& connection) { setSendBuffer(connection, 16 * 1024); }
void growKernelBuffers(Connection& connection) { setSendBuffer(connection, 4 * 1024 * 1024); }

class ConnectionImplTest : public testing::Test, public ListenerCallbacks {
 protected:
  void listen(const std::string& address_text) {
    absl::StatusOr<address::InstanceConstSharedPtr> address =
        address_text.front() == '/' || address_text.front() == '@'
            ? address::pipe(address_text)
            : address::parseIpAndPort(address_text);
    ASSERT_TRUE(address.ok()) << address.status();
    auto socket = ListenSocket::create(*address, ListenSocketOptions());
    ASSERT_TRUE(socket.ok()) << socket.status();
    socket_ = *std::move(socket);
    listener_ = std::make_unique<ListenerImpl>(dispatcher_, *socket_, *this);
  }

  // ListenerCallbacks
  void onAccept(ConnectionPtr&& connection) override {
    ASSERT_EQ(server_, nullptr) << "one connection per test";
    server_ = std::move(connection);
    server_->addConnectionCallbacks(server_callbacks_);
    if (server_limit_.has_value()) {
      server_->setBufferLimits(*server_limit_);
    }
    if (set_server_reader_) {
      server_->setReadCallback(&server_reader_);
    }
    if (on_accept_) {
      on_accept_(*server_);
    }
  }

  // Creates the client (not yet connected) with its callbacks.
  void createClient(address::InstanceConstSharedPtr source = nullptr) {
    client_ = createClientConnection(dispatcher_, socket_->localAddress(), std::move(source));
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

  void write(Connection& connection, absl::string_view data, bool end_stream) {
    buffer::OwnedImpl buffer(data);
    connection.write(buffer, end_stream);
    EXPECT_EQ(buffer.length(), 0u);
  }

  // Declared first: destroyed last, after every object that uses it.
  event::DispatcherImpl dispatcher_{"test"};
  std::unique_ptr<ListenSocket> socket_;
  std::unique_ptr<ListenerImpl> listener_;
  RecordingCallbacks server_callbacks_;
  RecordingCallbacks client_callbacks_;
  CollectingReader server_reader_;
  CollectingReader client_reader_;
  bool set_server_reader_ = true;
  std::optional<uint32_t> server_limit_;
  std::function<void(Connection&)> on_accept_;
  ConnectionPtr server_;
  ClientConnectionPtr client_;
};

TEST_F(ConnectionImplTest, ConnectReportsAddressesIdsAndCounters) {
  listen("127.0.0.1:0");
  connect();
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::Connected});
  EXPECT_TRUE(server_callbacks_.events.empty());  // accepted connections are simply open
  EXPECT_NE(client_->id(), server_->id());
  EXPECT_EQ(*client_->remoteAddress(), *socket_->localAddress());
  EXPECT_EQ(*client_->localAddress(), *server_->remoteAddress());
  EXPECT_EQ(*server_->localAddress(), *socket_->localAddress());
  EXPECT_EQ(client_->state(), Connection::State::Open);
  EXPECT_TRUE(client_->transportFailureReason().empty());

  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  ASSERT_EQ(::getsockopt(fdOf(*server_), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_EQ(nodelay, 1);

  write(*client_, "hello", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "hello"; }));
  EXPECT_EQ(client_->bytesWritten(), 5u);
  EXPECT_EQ(server_->bytesRead(), 5u);
  write(*server_, "world!", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.received == "world!"; }));
  EXPECT_EQ(server_->bytesWritten(), 6u);
  EXPECT_EQ(client_->bytesRead(), 6u);
}

TEST_F(ConnectionImplTest, DataWrittenBeforeConnectIsSentOnceConnected) {
  listen("127.0.0.1:0");
  createClient();
  write(*client_, "early", false);
  connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "early"; }));
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

TEST_F(ConnectionImplTest, EchoesLargePayloadWithSmallBufferLimitsThenHalfCloses) {
  constexpr uint32_t kLimit = 16 * 1024;
  const std::string payload = pattern(8 * 1024 * 1024, 42);
  listen("127.0.0.1:0");
  std::unique_ptr<FlowControlledEcho> echo;
  set_server_reader_ = false;
  server_limit_ = kLimit;
  on_accept_ = [&](Connection& connection) {
    echo = std::make_unique<FlowControlledEcho>(connection);
    connection.setReadCallback(echo.get());
    connection.addConnectionCallbacks(*echo);
    shrinkKernelBuffers(connection);
  };
  createClient();
  client_->setBufferLimits(kLimit);
  connect();
  shrinkKernelBuffers(*client_);
  write(*client_, payload, true);
  EXPECT_EQ(client_callbacks_.above_high, 1);
  // The client stops reading: the echo's write buffer fills, and the echo must stop reading.
  client_->readDisable(true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return echo->paused > 0; }));
  // With the client not reading, the server stops reading once the way back is full: what it
  // has read stays bounded by the buffers (the kernel's, shrunk, and the 16 KiB limits), far
  // below the payload. (No timed "settle" window: the reader toggles as kernel buffers drain.)
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return !server_->readEnabled(); }));
  EXPECT_LT(server_->bytesRead(), payload.size() / 2);
  growKernelBuffers(*server_);
  growKernelBuffers(*client_);
  client_->readDisable(false);
  ASSERT_TRUE(runUntil(dispatcher_,
                       [&] { return client_callbacks_.closed() && server_callbacks_.closed(); }))
      << client_reader_.received.size() << " srv read " << server_->bytesRead() << " srv wrote "
      << server_->bytesWritten() << " cli wrote " << client_->bytesWritten() << " srv readEnabled "
      << server_->readEnabled() << " srv above " << server_->aboveHighWatermark() << " cli above "
      << client_->aboveHighWatermark() << " paused " << echo->paused << " srv state "
      << static_cast<int>(server_->state()) << " cli readEnabled " << client_->readEnabled();
  EXPECT_EQ(client_reader_.received.size(), payload.size());
  EXPECT_TRUE(client_reader_.received == payload);
  EXPECT_EQ(client_reader_.end_streams, 1);
  EXPECT_EQ(client_reader_.calls_after_end_stream, 0);
  // Reads stop once the buffer is over its limit: it never holds more than one extra read.
  EXPECT_LE(echo->max_seen_length, kLimit + kOneRead);
  EXPECT_LE(client_reader_.max_seen_length, kLimit + kOneRead);
  EXPECT_EQ(client_callbacks_.above_high, 1);
  EXPECT_EQ(client_callbacks_.below_low, 1);
  // Both directions closed: each side raised exactly one RemoteClose.
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::RemoteClose}));
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_->bytesWritten(), payload.size());
  EXPECT_EQ(server_->bytesRead(), payload.size());
  EXPECT_EQ(server_->bytesWritten(), payload.size());
}

TEST_F(ConnectionImplTest, ReadingPausesWhenTheConsumerStopsDraining) {
  constexpr uint32_t kLimit = 64 * 1024;
  const std::string payload = pattern(4 * 1024 * 1024, 7);
  listen("127.0.0.1:0");
  server_limit_ = kLimit;
  server_reader_.drain = false;
  on_accept_ = [&](Connection& connection) { shrinkKernelBuffers(connection); };
  connect();
  shrinkKernelBuffers(*client_);
  write(*client_, payload, false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_->bytesRead() > kLimit; }));
  // Give the sender every chance to push more: the server must not read any further.
  runFor(dispatcher_, std::chrono::milliseconds(100));
  EXPECT_LE(server_->bytesRead(), kLimit + kOneRead);
  EXPECT_LE(server_reader_.max_seen_length, kLimit + kOneRead);
  EXPECT_TRUE(client_->aboveHighWatermark());
  EXPECT_LT(client_->bytesWritten(), payload.size());

  // The consumer drains again: the buffered bytes are delivered again (after a readDisable
  // round trip, without new data from the socket) and reading resumes.
  server_reader_.drain = true;
  growKernelBuffers(*client_);
  server_->readDisable(true);
  server_->readDisable(false);
  ASSERT_TRUE(
      runUntil(dispatcher_, [&] { return server_reader_.received.size() == payload.size(); }));
  EXPECT_TRUE(server_reader_.received == payload);
  EXPECT_FALSE(client_->aboveHighWatermark());
  EXPECT_EQ(client_callbacks_.below_low, 1);
}

TEST_F(ConnectionImplTest, WithoutReadCallbackDataWaitsUpToTheLimit) {
  constexpr uint32_t kLimit = 32 * 1024;
  const std::string payload = pattern(1024 * 1024, 3);
  listen("127.0.0.1:0");
  server_limit_ = kLimit;
  set_server_reader_ = false;
  on_accept_ = [&](Connection& connection) { shrinkKernelBuffers(connection); };
  connect();
  shrinkKernelBuffers(*client_);
  write(*client_, payload, true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_->bytesRead() > kLimit; }));
  runFor(dispatcher_, std::chrono::milliseconds(50));
  EXPECT_LE(server_->bytesRead(), kLimit + kOneRead);
  growKernelBuffers(*client_);
  server_->setReadCallback(&server_reader_);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_TRUE(server_reader_.received == payload);
}

TEST_F(ConnectionImplTest, ReadDisableNests) {
  listen("127.0.0.1:0");
  on_accept_ = [](Connection& connection) {
    connection.readDisable(true);
    connection.readDisable(true);
  };
  connect();
  EXPECT_FALSE(server_->readEnabled());
  write(*client_, "data", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_->bytesWritten() == 4; }));
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(server_reader_.calls, 0);
  server_->readDisable(false);
  EXPECT_FALSE(server_->readEnabled());
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(server_reader_.calls, 0);
  server_->readDisable(false);
  EXPECT_TRUE(server_->readEnabled());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "data"; }));
}

TEST_F(ConnectionImplTest, ReadDisableInsideOnDataHoldsTheRest) {
  listen("127.0.0.1:0");
  server_reader_.drain = false;
  server_reader_.on_data = [&](buffer::Instance& data, bool) {
    if (server_reader_.calls == 1) {
      // Take one byte and ask for a pause: the rest stays buffered.
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
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(server_reader_.calls, 1);
  EXPECT_EQ(server_reader_.received, "a");
  server_->readDisable(false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "abc"; }));
  EXPECT_EQ(server_reader_.calls, 2);
}

TEST_F(ConnectionImplTest, HalfCloseFromClient) {
  listen("127.0.0.1:0");
  connect();
  write(*client_, "ping", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, "ping");
  EXPECT_EQ(server_->state(), Connection::State::Open);  // our side may still write
  write(*server_, "pong", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.received == "pong"; }));
  EXPECT_FALSE(client_callbacks_.closed());
  write(*server_, "", true);
  ASSERT_TRUE(runUntil(dispatcher_,
                       [&] { return client_callbacks_.closed() && server_callbacks_.closed(); }));
  EXPECT_EQ(client_reader_.end_streams, 1);
  EXPECT_EQ(server_reader_.end_streams, 1);
  EXPECT_EQ(server_reader_.calls_after_end_stream, 0);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::LocalClose), 0);
}

TEST_F(ConnectionImplTest, HalfCloseFromServer) {
  listen("127.0.0.1:0");
  on_accept_ = [&](Connection& connection) { write(connection, "banner", true); };
  connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_reader_.end_streams == 1; }));
  EXPECT_EQ(client_reader_.received, "banner");
  write(*client_, "reply", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.received == "reply"; }));
  write(*client_, "", true);
  ASSERT_TRUE(runUntil(dispatcher_,
                       [&] { return client_callbacks_.closed() && server_callbacks_.closed(); }));
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  // Writes after end_stream are dropped, not sent.
  write(*client_, "late", false);
  EXPECT_EQ(client_->bytesWritten(), 5u);
}

TEST_F(ConnectionImplTest, ConnectToClosedPortRaisesRemoteClose) {
  ListenSocketOptions options;
  options.reuse_port = false;
  auto socket = ListenSocket::create(*address::parseIp("127.0.0.1", 0), options);
  ASSERT_TRUE(socket.ok());
  const address::InstanceConstSharedPtr closed_port = (*socket)->localAddress();
  socket->reset();
  client_ = createClientConnection(dispatcher_, closed_port);
  client_->addConnectionCallbacks(client_callbacks_);
  client_->connect();
  EXPECT_TRUE(client_callbacks_.events.empty());  // reported from the loop, not from connect()
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_->transportFailureReason(), "Connection refused");
  EXPECT_EQ(client_->state(), Connection::State::Closed);
}

TEST_F(ConnectionImplTest, SourceAddressIsUsed) {
  listen("127.0.0.1:0");
  createClient(*address::parseIp("127.0.0.2", 0));
  connect();
  EXPECT_EQ(server_->remoteAddress()->ipString(), "127.0.0.2");
  EXPECT_EQ(client_->localAddress()->ipString(), "127.0.0.2");
  EXPECT_EQ(*client_->localAddress(), *server_->remoteAddress());
}

TEST_F(ConnectionImplTest, UnusableSourceAddressRaisesRemoteClose) {
  listen("127.0.0.1:0");
  createClient(*address::parseIp("192.0.2.1", 0));
  client_->connect();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_NE(client_->transportFailureReason().find("bind to 192.0.2.1:0"), absl::string_view::npos)
      << client_->transportFailureReason();
}

TEST_F(ConnectionImplTest, CloseFlushWriteDeliversPendingData) {
  const std::string payload = pattern(4 * 1024 * 1024, 9);
  listen("127.0.0.1:0");
  connect();
  write(*client_, payload, false);
  client_->close(ConnectionCloseType::FlushWrite);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_TRUE(server_reader_.received == payload);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::LocalClose}));
  EXPECT_EQ(client_->bytesWritten(), payload.size());
  // The server saw EOF only; it is half-open until it closes too.
  EXPECT_TRUE(server_callbacks_.events.empty());
  server_->close(ConnectionCloseType::NoFlush);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::LocalClose});
}

TEST_F(ConnectionImplTest, DelayedCloseTimesOutWhenThePeerDoesNotRead) {
  listen("127.0.0.1:0");
  on_accept_ = [&](Connection& connection) {
    shrinkKernelBuffers(connection);
    connection.readDisable(true);
  };
  connect();
  shrinkKernelBuffers(*client_);
  dynamic_cast<ConnectionImpl&>(*client_).setDelayedCloseTimeout(std::chrono::milliseconds(50));
  const std::string payload = pattern(4 * 1024 * 1024, 1);
  write(*client_, payload, false);
  client_->close(ConnectionCloseType::FlushWrite);
  EXPECT_EQ(client_->state(), Connection::State::Closing);
  client_->close(ConnectionCloseType::FlushWrite);  // no second event
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_->state(), Connection::State::Closed);
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::LocalClose), 1);
  EXPECT_EQ(client_callbacks_.events.size(), 2u);
  EXPECT_LT(client_->bytesWritten(), payload.size());
}

TEST_F(ConnectionImplTest, CloseNoFlushRaisesOneLocalClose) {
  listen("127.0.0.1:0");
  connect();
  write(*client_, "dropped?", false);
  client_->close(ConnectionCloseType::NoFlush);
  EXPECT_EQ(client_->state(), Connection::State::Closed);
  client_->close(ConnectionCloseType::NoFlush);
  client_->close(ConnectionCloseType::FlushWrite);
  client_->readDisable(true);
  write(*client_, "after close", false);
  EXPECT_EQ(client_callbacks_.events, (std::vector<ConnectionEvent>{ConnectionEvent::Connected,
                                                                    ConnectionEvent::LocalClose}));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  runFor(dispatcher_, std::chrono::milliseconds(10));
  EXPECT_EQ(client_callbacks_.events.size(), 2u);
}

void resetOnClose(Connection& connection) {
  // SO_LINGER with a zero timeout turns close() into a TCP reset.
  linger option{1, 0};
  ASSERT_EQ(::setsockopt(fdOf(connection), SOL_SOCKET, SO_LINGER, &option, sizeof(option)), 0);
}

TEST_F(ConnectionImplTest, PeerResetWhileReadingRaisesRemoteClose) {
  listen("127.0.0.1:0");
  connect();
  resetOnClose(*server_);
  server_->close(ConnectionCloseType::NoFlush);
  EXPECT_EQ(server_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::LocalClose});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_EQ(client_->transportFailureReason(), "Connection reset by peer");
  EXPECT_EQ(client_reader_.end_streams, 0);
}

TEST_F(ConnectionImplTest, WriteToResetPeerRaisesRemoteCloseFromTheLoop) {
  listen("127.0.0.1:0");
  connect();
  client_->readDisable(true);  // only the write can notice the reset
  resetOnClose(*server_);
  server_->close(ConnectionCloseType::NoFlush);
  // The reset crosses loopback synchronously; the write fails with ECONNRESET or EPIPE.
  write(*client_, "into the void", false);
  EXPECT_EQ(client_callbacks_.closed(), false);  // never re-entrantly from write()
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
  const std::string reason(client_->transportFailureReason());
  EXPECT_TRUE(reason == "Connection reset by peer" || reason == "Broken pipe") << reason;
}

TEST_F(ConnectionImplTest, CallbacksMayDeferDeleteTheConnection) {
  listen("127.0.0.1:0");
  connect();
  class Deleter : public ConnectionCallbacks {
   public:
    Deleter(event::Dispatcher& dispatcher, ClientConnectionPtr& connection, bool& deleted)
        : dispatcher_(dispatcher), connection_(connection), deleted_(deleted) {}
    void onEvent(ConnectionEvent event) override {
      if (event == ConnectionEvent::RemoteClose) {
        dispatcher_.deferredDelete(std::move(connection_));
        deleted_ = true;
      }
    }
    event::Dispatcher& dispatcher_;
    ClientConnectionPtr& connection_;
    bool& deleted_;
  };
  bool deleted = false;
  Deleter deleter(dispatcher_, client_, deleted);
  client_->addConnectionCallbacks(deleter);
  resetOnClose(*server_);
  server_->close(ConnectionCloseType::NoFlush);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return deleted; }));
  EXPECT_EQ(client_, nullptr);
  // The first callback (registered before) was told too.
  EXPECT_EQ(client_callbacks_.count(ConnectionEvent::RemoteClose), 1);
}

TEST_F(ConnectionImplTest, DestroyingAnOpenConnectionClosesTheSocketSilently) {
  listen("127.0.0.1:0");
  connect();
  client_.reset();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::Connected});
}

TEST_F(ConnectionImplTest, Ipv6Loopback) {
  listen("[::1]:0");
  connect();
  EXPECT_EQ(server_->remoteAddress()->version(), address::IpVersion::V6);
  write(*client_, "v6", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, "v6");
}

TEST_F(ConnectionImplTest, AbstractUnixSocket) {
  // The abstract namespace is shared by every process in the network namespace, and sandboxed
  // test runs can share a pid: add randomness so parallel runs never collide.
  const std::string name =
      absl::StrCat("@waystone-conn-test-", ::getpid(), "-", std::random_device{}());
  listen(name);
  connect();
  EXPECT_EQ(client_->remoteAddress()->asString(), name);
  EXPECT_EQ(server_->localAddress()->asString(), name);
  EXPECT_EQ(server_->remoteAddress()->type(), address::Type::Pipe);
  write(*client_, "over abstract", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_reader_.end_streams == 1; }));
  EXPECT_EQ(server_reader_.received, "over abstract");
  write(*server_, "back", true);
  ASSERT_TRUE(runUntil(dispatcher_,
                       [&] { return client_callbacks_.closed() && server_callbacks_.closed(); }));
  EXPECT_EQ(client_reader_.received, "back");
}

TEST_F(ConnectionImplTest, FilesystemUnixSocket) {
  char dir_template[] = "/tmp/wsXXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = absl::StrCat(dir_template, "/c.sock");
  listen(path);
  connect();
  EXPECT_EQ(client_->remoteAddress()->asString(), path);
  const std::string payload = pattern(2 * 1024 * 1024, 5);
  write(*client_, payload, false);
  write(*server_, payload, false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return server_reader_.received.size() == payload.size() &&
           client_reader_.received.size() == payload.size();
  }));
  EXPECT_TRUE(server_reader_.received == payload);
  EXPECT_TRUE(client_reader_.received == payload);
  server_.reset();
  client_.reset();
  listener_.reset();
  socket_.reset();
  EXPECT_EQ(::unlink(path.c_str()), 0);
  EXPECT_EQ(::rmdir(dir_template), 0);
}

TEST_F(ConnectionImplTest, UnixConnectFailureRaisesRemoteClose) {
  auto missing = address::pipe(absl::StrCat("@waystone-nobody-listens-", ::getpid()));
  ASSERT_TRUE(missing.ok());
  client_ = createClientConnection(dispatcher_, *missing);
  client_->addConnectionCallbacks(client_callbacks_);
  client_->connect();
  EXPECT_TRUE(client_callbacks_.events.empty());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client_callbacks_.closed(); }));
  EXPECT_EQ(client_callbacks_.events, std::vector<ConnectionEvent>{ConnectionEvent::RemoteClose});
  EXPECT_EQ(client_->transportFailureReason(), "Connection refused");
}

}  // namespace
}  // namespace waystone::network
