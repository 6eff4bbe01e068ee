// CONNECT termination by the router (routes whose CONNECT upgrade has connect_config), in
// process: a real HTTP connection manager built from YAML by the http_connection_manager
// factory (set_filter_state + router), on the server end of a real loopback connection, driven
// by our nghttp2 client codec sending HTTP/2 CONNECT streams. Upstreams are a threaded TCP echo
// server, raw loopback sockets (refusals, resets, connect timeouts), and internal listeners
// registered by the test on the test thread (which runs the worker's dispatcher).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gtest/gtest.h"
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/codec_factory.h"
#include "source/common/http/conn_manager_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/filter.h"
#include "source/common/network/internal/internal_listener_registry.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener_impl.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "source/extensions/filters/network/http_connection_manager/config.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/common/http/http2/codec_test_util.h"
#include "test/common/network/network_test_util.h"
#include "test/test_common/file_descriptor.h"
#include "test/test_common/test_tcp_echo_server.h"

namespace waystone::extensions::http_filters::router {
namespace {

using std::chrono::milliseconds;
using stream_info::FilterState;

// ---------------------------------------------------------------------------------------------
// Downstream side: the connection manager on an accepted connection, as server::ActiveConnection
// hosts it.

class HcmConnection : public network::ReadFilterCallbacks,
                      public network::ReadCallback,
                      public network::ConnectionCallbacks {
 public:
  HcmConnection(event::Dispatcher& dispatcher, network::ConnectionPtr connection,
                http::ConnectionManagerConfigConstSharedPtr config)
      : dispatcher_(dispatcher),
        connection_(std::move(connection)),
        hcm_(std::make_unique<http::ConnectionManagerImpl>(std::move(config))) {
    connection_->addConnectionCallbacks(*this);
    connection_->setReadCallback(this);
    hcm_->initializeReadFilterCallbacks(*this);
    hcm_->onNewConnection();
  }
  ~HcmConnection() override {
    connection_->close(network::ConnectionCloseType::NoFlush);
    hcm_.reset();
  }

  network::Connection& connection() override { return *connection_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  void continueReading() override {}
  void onData(buffer::Instance& data, bool end_stream) override { hcm_->onData(data, end_stream); }
  void onEvent(network::ConnectionEvent) override {}

 private:
  event::Dispatcher& dispatcher_;
  network::ConnectionPtr connection_;
  std::unique_ptr<http::ConnectionManagerImpl> hcm_;
};

// What a stream's info said when its filters went away (first filter of every chain).
struct EndedStream {
  uint64_t response_flags = 0;
  std::string details;
  std::string upstream_host;
  std::string upstream_cluster;
};

class InfoRecorder : public http::PassThroughDecoderFilter {
 public:
  explicit InfoRecorder(std::vector<EndedStream>& ended) : ended_(ended) {}
  void onDestroy() override {
    const stream_info::StreamInfo& info = decoder_callbacks_->streamInfo();
    ended_.push_back(
        {info.response_flags, info.response_code_details,
         info.upstream_host_address == nullptr ? "" : info.upstream_host_address->asString(),
         info.upstream_cluster});
  }

 private:
  std::vector<EndedStream>& ended_;
};

// ---------------------------------------------------------------------------------------------
// The client: our HTTP/2 codec (nghttp2) on a real connection.

struct Tunnel {
  http::http2::test::TestResponseDecoder response;
  http::RequestEncoder* encoder = nullptr;

  bool established() const { return response.headers != nullptr; }
  uint64_t status() const { return response.headers == nullptr ? 0 : response.headers->status(); }
  void send(absl::string_view bytes, bool end_stream = false) {
    buffer::OwnedImpl data(bytes);
    encoder->encodeData(data, end_stream);
  }
};

class H2Client : public network::ReadCallback,
                 public http::CodecTransport,
                 public http::ConnectionCallbacks {
 public:
  H2Client(event::Dispatcher& dispatcher, network::ClientConnectionPtr conn)
      : connection(std::move(conn)) {
    connection->addConnectionCallbacks(callbacks);
    connection->setReadCallback(this);
    http::Http2Settings settings;
    settings.initial_stream_window_size = 65535;
    settings.initial_connection_window_size = 65535;
    codec = http::createClientCodec(http::Protocol::Http2, *this, *this, settings,
                                    http::HeaderLimits(), dispatcher);
  }

  // A CONNECT stream to `authority` (RFC 9113 §8.5: :method and :authority only).
  Tunnel& connect(absl::string_view authority) {
    tunnels.push_back(std::make_unique<Tunnel>());
    Tunnel& tunnel = *tunnels.back();
    tunnel.encoder = &codec->newStream(tunnel.response);
    tunnel.encoder->getStream().addCallbacks(tunnel.response);
    http::RequestHeaderMap headers;
    headers.addCopy(":method", "CONNECT");
    headers.addCopy(":authority", authority);
    const absl::Status sent = tunnel.encoder->encodeHeaders(headers, false);
    EXPECT_TRUE(sent.ok()) << sent;
    return tunnel;
  }

  // An ordinary request stream (POST with allow_post).
  Tunnel& request(absl::string_view method, absl::string_view path) {
    tunnels.push_back(std::make_unique<Tunnel>());
    Tunnel& tunnel = *tunnels.back();
    tunnel.encoder = &codec->newStream(tunnel.response);
    tunnel.encoder->getStream().addCallbacks(tunnel.response);
    http::RequestHeaderMap headers;
    headers.addCopy(":method", method);
    headers.addCopy(":scheme", "http");
    headers.addCopy(":authority", "example.com");
    headers.addCopy(":path", path);
    const absl::Status sent = tunnel.encoder->encodeHeaders(headers, false);
    EXPECT_TRUE(sent.ok()) << sent;
    return tunnel;
  }

  void onData(buffer::Instance& data, bool end_stream) override {
    peer_end_stream |= end_stream;
    if (status.ok()) {
      status = codec->dispatch(data);
    }
    data.drain(data.length());
  }
  void write(buffer::Instance& data, bool end_stream) override {
    connection->write(data, end_stream);
  }
  void readDisable(bool disable) override { connection->readDisable(disable); }
  uint32_t bufferLimit() const override { return 1024 * 1024; }

  network::ClientConnectionPtr connection;
  network::test::RecordingCallbacks callbacks;
  http::ClientConnectionPtr codec;
  absl::Status status;
  bool peer_end_stream = false;
  std::vector<std::unique_ptr<Tunnel>> tunnels;
};

// ---------------------------------------------------------------------------------------------
// Upstream side.

// An internal listener registered under `name` on this thread: records what each accepted
// connection carried across (filter state entries, dynamic metadata) and serves it per `mode`.
class TestInternalListener : public network::InternalListenerCallbacks {
 public:
  enum class Mode {
    Echo,         // echoes bytes and the half-close
    ByeFirst,     // sends "bye" and half-closes at once, then collects what the client sends
    CloseOnData,  // closes the whole connection at the first bytes
    Hold,         // accepts and does nothing
  };

  struct Peer : public network::ReadCallback, public network::ConnectionCallbacks {
    Mode mode = Mode::Echo;
    network::ConnectionPtr connection;
    std::map<std::string, std::pair<std::string, FilterState::StreamSharing>> filter_state;
    envoy::config::core::v3::Metadata metadata;
    std::string received;
    bool end_stream = false;
    bool closed = false;

    void onData(buffer::Instance& data, bool end) override {
      received += data.toString();
      end_stream |= end;
      switch (mode) {
        case Mode::Echo:
          connection->write(data, end);
          break;
        case Mode::CloseOnData:
          data.drain(data.length());
          connection->close(network::ConnectionCloseType::NoFlush);
          break;
        default:
          data.drain(data.length());
          break;
      }
    }
    void onEvent(network::ConnectionEvent event) override {
      closed |= event != network::ConnectionEvent::Connected;
    }
  };

  TestInternalListener(event::Dispatcher& dispatcher, std::string name, Mode mode)
      : dispatcher_(dispatcher), name_(std::move(name)), mode_(mode) {
    network::InternalListenerRegistry::get().registerListener(name_, *this);
  }
  ~TestInternalListener() override {
    network::InternalListenerRegistry::get().unregisterListener(name_, *this);
    for (auto& peer : peers) {
      if (peer->connection != nullptr) {
        peer->connection->close(network::ConnectionCloseType::NoFlush);
        dispatcher_.deferredDelete(std::move(peer->connection));
      }
    }
  }

  void onAccept(network::ConnectionSocketPtr socket) override {
    auto peer = std::make_unique<Peer>();
    peer->mode = mode_;
    for (const auto& [name, entry] : socket->streamInfo().filter_state->entries()) {
      const auto text = entry.object->serializeAsString();
      peer->filter_state[name] = {text.value_or("<no text>"), entry.sharing};
    }
    peer->metadata = socket->streamInfo().dynamic_metadata;
    peer->connection = socket->createConnection(dispatcher_, nullptr);
    peer->connection->addConnectionCallbacks(*peer);
    peer->connection->setReadCallback(peer.get());
    if (mode_ == Mode::ByeFirst) {
      buffer::OwnedImpl bye("bye");
      peer->connection->write(bye, true);
    }
    peers.push_back(std::move(peer));
  }

  std::vector<std::unique_ptr<Peer>> peers;

 private:
  event::Dispatcher& dispatcher_;
  const std::string name_;
  const Mode mode_;
};

// A loopback TCP socket the test drives by hand: accepts one connection when asked, and can
// reset it. With `backlog_full`, it never completes a handshake: its backlog (0) is taken by a
// connection of its own, so later SYNs are dropped and connects time out.
class RawBackend {
 public:
  explicit RawBackend(bool backlog_full = false)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    // Small receive buffers (inherited by the accepted socket): a backend that does not read
    // backs the proxy up quickly.
    const int size = 16384;
    EXPECT_EQ(::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_.get(), backlog_full ? 0 : 16), 0);
    if (backlog_full) {
      filler_ = test::FileDescriptor(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      EXPECT_EQ(::connect(filler_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    }
  }
  uint16_t port() const { return port_; }

  // Accepts the connection the proxy made (it is in the backlog already).
  bool accept() {
    accepted_ = test::FileDescriptor(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return accepted_.valid();
  }
  // The accepted connection, from now on non-blocking: read() returns what is there.
  void setNonBlocking() {
    const int flags = ::fcntl(accepted_.get(), F_GETFL);
    EXPECT_EQ(::fcntl(accepted_.get(), F_SETFL, flags | O_NONBLOCK), 0);
  }
  // Up to `max` bytes that have arrived, appended to `out`; true once the peer's FIN was read.
  bool read(std::string& out, size_t max) {
    char buffer[16384];
    while (max > 0) {
      const ssize_t n = ::read(accepted_.get(), buffer, std::min(sizeof(buffer), max));
      if (n == 0) {
        return true;
      }
      if (n < 0) {
        return false;
      }
      out.append(buffer, static_cast<size_t>(n));
      max -= static_cast<size_t>(n);
    }
    return false;
  }
  void write(absl::string_view data) {
    EXPECT_EQ(::write(accepted_.get(), data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
  }
  void shutdownWrite() { EXPECT_EQ(::shutdown(accepted_.get(), SHUT_WR), 0); }
  // Closes the accepted connection with a TCP reset.
  void reset() {
    linger option{1, 0};
    EXPECT_EQ(::setsockopt(accepted_.get(), SOL_SOCKET, SO_LINGER, &option, sizeof(option)), 0);
    accepted_ = test::FileDescriptor();
  }

 private:
  test::FileDescriptor fd_;
  test::FileDescriptor filler_;
  test::FileDescriptor accepted_;
  uint16_t port_ = 0;
};

// A loopback port nobody listens on: connects are refused.
uint16_t refusedPort() {
  test::FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  return ntohs(addr.sin_port);  // bound, never listening: the port stays refused
}

// ---------------------------------------------------------------------------------------------

// One STATIC cluster of 127.0.0.1 ports, with `extra` fields (block YAML, four spaces).
std::string tcpCluster(absl::string_view name, uint16_t port, absl::string_view extra = "") {
  return absl::StrCat("  - name: ", name, "\n    type: STATIC\n    connect_timeout: 2s\n", extra,
                      "    load_assignment:\n      cluster_name: ", name,
                      "\n      endpoints:\n      - lb_endpoints:\n",
                      "        - endpoint: {address: {socket_address: {address: 127.0.0.1, "
                      "port_value: ",
                      port, "}}}\n");
}

// The HTTP connection manager of the tests: HTTP/2 with CONNECT, small windows (`window`) so
// that flow control bites early, set_filter_state recording the authority (shared ONCE) and the
// router. Every CONNECT goes to `cluster` with connect_config (`connect_extra`: more fields of
// the upgrade config, e.g. "enabled: false").
std::string hcmYaml(absl::string_view cluster,
                    absl::string_view connect_extra = "connect_config: {}",
                    uint32_t window = 65535) {
  return absl::StrCat(R"(
stat_prefix: connect
codec_type: HTTP2
stream_idle_timeout: 0s
upgrade_configs: [{upgrade_type: CONNECT}]
http2_protocol_options:
  allow_connect: true
  initial_stream_window_size: )",
                      window, R"(
  initial_connection_window_size: )",
                      window, R"(
route_config:
  name: default
  virtual_hosts:
  - name: default
    domains: ["*"]
    routes:
    - match: {connect_matcher: {}}
      route:
        cluster: )",
                      cluster, R"(
        upgrade_configs: [{upgrade_type: CONNECT, )",
                      connect_extra, R"(}]
http_filters:
- name: connect_authority
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
    on_request_headers:
    - object_key: io.istio.connect_authority
      factory_key: envoy.string
      format_string: {text_format_source: {inline_string: "%REQ(:AUTHORITY)%"}}
      shared_with_upstream: ONCE
    - object_key: test.not_shared
      factory_key: envoy.string
      format_string: {text_format_source: {inline_string: "private"}}
- name: envoy.filters.http.router
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
)");
}

class ConnectTerminationTest : public testing::Test, public network::ListenerCallbacks {
 protected:
  ~ConnectTerminationTest() override {
    clients_.clear();
    servers_.clear();
    listener_.reset();
    internal_listeners_.clear();
    if (workers_ != nullptr) {
      workers_->releaseWorker(dispatcher_);
    }
    dispatcher_.clearDeferredDeleteList();
  }

  void initialize(const std::string& clusters, const std::string& hcm_yaml) {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    ASSERT_TRUE(protobuf::loadFromYaml(absl::StrCat("static_resources:\n  clusters:\n", clusters),
                                       bootstrap)
                    .ok());
    auto cluster_manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(cluster_manager.ok()) << cluster_manager.status();
    cluster_manager_ = std::move(*cluster_manager);
    auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, dispatcher_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    workers_ = std::move(*workers);
    workers_->addWorker(dispatcher_, 1);

    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager proto;
    const absl::Status loaded = protobuf::loadFromYaml(hcm_yaml, proto);
    ASSERT_TRUE(loaded.ok()) << loaded;
    server::HttpFilterFactoryContext context{*workers_, store_, protobuf::LoadOptions{}, "connect"};
    auto config = network_filters::http_connection_manager::createConfig(proto, context, "hcm");
    ASSERT_TRUE(config.ok()) << config.status();
    // The recorder first, so that it sees every stream end.
    auto with_recorder = std::make_shared<http::ConnectionManagerConfig>(**config);
    with_recorder->filter_factories.insert(
        with_recorder->filter_factories.begin(), [this](http::FilterChainFactoryCallbacks& chain) {
          chain.addStreamDecoderFilter(std::make_shared<InfoRecorder>(ended_));
        });
    config_ = std::move(with_recorder);

    auto address = network::address::parseIpAndPort("127.0.0.1:0");
    ASSERT_TRUE(address.ok()) << address.status();
    auto socket = network::ListenSocket::create(*address, network::ListenSocketOptions());
    ASSERT_TRUE(socket.ok()) << socket.status();
    socket_ = *std::move(socket);
    listener_ = std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this);
  }

  void onAccept(network::ConnectionPtr&& connection) override {
    // A connection-level entry (as a network filter or an internal hop would set): every
    // request's filter state has it as parent, and TRANSITIVE sharing carries it on.
    EXPECT_TRUE(connection->streamInfo()
                    .filter_state
                    ->setData("test.connection_level",
                              std::make_shared<stream_info::StringAccessor>("from-connection"),
                              FilterState::StateType::ReadOnly,
                              FilterState::StreamSharing::SharedWithUpstreamConnection)
                    .ok());
    servers_.push_back(
        std::make_unique<HcmConnection>(dispatcher_, std::move(connection), config_));
  }

  H2Client& connectClient() {
    clients_.push_back(std::make_unique<H2Client>(
        dispatcher_, network::createClientConnection(dispatcher_, socket_->localAddress())));
    H2Client& client = *clients_.back();
    client.connection->connect();
    EXPECT_TRUE(
        runUntil([&] { return client.callbacks.count(network::ConnectionEvent::Connected) == 1; }));
    return client;
  }

  TestInternalListener& internalListener(const std::string& name, TestInternalListener::Mode mode) {
    internal_listeners_.push_back(std::make_unique<TestInternalListener>(dispatcher_, name, mode));
    return *internal_listeners_.back();
  }

  bool runUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(20000)) {
    return network::test::runUntil(dispatcher_, done, timeout);
  }

  uint64_t counter(absl::string_view name) { return store_.counterFromString(name).value(); }
  uint64_t gauge(absl::string_view name) { return store_.gaugeFromString(name).value(); }

  event::DispatcherImpl dispatcher_{"worker"};
  stats::Store store_;
  std::unique_ptr<upstream::ClusterManager> cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> workers_;
  http::ConnectionManagerConfigConstSharedPtr config_;
  std::unique_ptr<network::ListenSocket> socket_;
  std::unique_ptr<network::ListenerImpl> listener_;
  std::vector<std::unique_ptr<TestInternalListener>> internal_listeners_;
  std::vector<std::unique_ptr<HcmConnection>> servers_;
  std::vector<std::unique_ptr<H2Client>> clients_;
  std::vector<EndedStream> ended_;
};

// (a) A TCP echo backend: 200 without END_STREAM, bytes both ways, the client's half-close
// reaches the backend (which then closes), whose FIN ends the response; stats as for requests.
TEST_F(ConnectTerminationTest, EchoRoundTripAndHalfClose) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  initialize(tcpCluster("echo", (*echo)->port()), hcmYaml("echo"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  EXPECT_EQ(tunnel.status(), 200u);
  EXPECT_FALSE(tunnel.response.end_stream);
  EXPECT_FALSE(tunnel.response.headers->getValue("x-envoy-upstream-service-time").empty());

  tunnel.send("hello ");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.body == "hello "; }));
  EXPECT_FALSE(tunnel.response.end_stream);
  tunnel.send("world", true);
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.response.body, "hello world");
  EXPECT_FALSE(tunnel.response.reset);
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_EQ(ended_[0].response_flags, 0u);
  EXPECT_EQ(ended_[0].details, "via_upstream");
  EXPECT_EQ(ended_[0].upstream_host, absl::StrCat("127.0.0.1:", (*echo)->port()));
  EXPECT_EQ(ended_[0].upstream_cluster, "echo");

  EXPECT_EQ(counter("cluster.echo.upstream_cx_total"), 1u);
  EXPECT_EQ(counter("cluster.echo.upstream_rq_total"), 1u);
  EXPECT_EQ(counter("cluster.echo.upstream_rq_2xx"), 1u);
  EXPECT_EQ(counter("cluster.echo.upstream_rq_completed"), 1u);
  EXPECT_EQ(counter("cluster.echo.upstream_cx_tx_bytes_total"), 11u);
  EXPECT_EQ(counter("cluster.echo.upstream_cx_rx_bytes_total"), 11u);
  ASSERT_TRUE(runUntil([&] { return gauge("cluster.echo.upstream_cx_active") == 0; }));
  EXPECT_EQ(gauge("cluster.echo.upstream_rq_active"), 0u);
  EXPECT_EQ(counter("cluster.echo.upstream_cx_destroy"), 1u);
  // No HTTP pool was used.
  EXPECT_EQ(counter("cluster.echo.upstream_cx_http1_total"), 0u);
  EXPECT_EQ(counter("cluster.echo.upstream_cx_http2_total"), 0u);
}

// Several tunnels on one connection are independent: each gets its own upstream connection.
TEST_F(ConnectTerminationTest, ConcurrentTunnelsOnOneConnection) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  initialize(tcpCluster("echo", (*echo)->port()), hcmYaml("echo"));
  H2Client& client = connectClient();
  std::vector<Tunnel*> tunnels;
  for (int i = 0; i < 5; ++i) {
    tunnels.push_back(&client.connect(absl::StrCat("10.0.0.", i, ":80")));
  }
  ASSERT_TRUE(runUntil([&] {
    for (Tunnel* t : tunnels) {
      if (!t->established()) {
        return false;
      }
    }
    return true;
  }));
  for (int i = 0; i < 5; ++i) {
    tunnels[i]->send(absl::StrCat("tunnel ", i), true);
  }
  ASSERT_TRUE(runUntil([&] {
    for (Tunnel* t : tunnels) {
      if (!t->response.end_stream) {
        return false;
      }
    }
    return true;
  }));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(tunnels[i]->response.body, absl::StrCat("tunnel ", i));
  }
  EXPECT_EQ((*echo)->connectionCount(), 5u);
  EXPECT_EQ(counter("cluster.echo.upstream_cx_total"), 5u);
}

// Both directions are flow controlled: a client that stops reading stops the backend's bytes
// (the backend, an echo, then stops reading) and so the client's own uploads; nothing piles up
// in the proxy beyond its buffer limits. Once the client reads again, every byte arrives in
// order.
TEST_F(ConnectTerminationTest, FlowControlBothWays) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  // Small per-connection buffers upstream; the downstream connection keeps the default 1 MiB.
  initialize(tcpCluster("echo", (*echo)->port(), "    per_connection_buffer_limit_bytes: 65536\n"),
             hcmYaml("echo"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));

  constexpr size_t kSize = 32 * 1024 * 1024;
  const std::string payload = network::test::pattern(kSize);
  client.connection->readDisable(true);  // a client that reads nothing for now
  tunnel.send(payload, true);
  // Let everything that can move, move; then check that it stopped well short of the total.
  network::test::runFor(dispatcher_, milliseconds(500));
  const uint64_t echoed = (*echo)->bytesEchoed();
  const uint64_t proxied_up = counter("cluster.echo.upstream_cx_tx_bytes_total");
  const uint64_t proxied_down = counter("cluster.echo.upstream_cx_rx_bytes_total");
  EXPECT_LT(echoed, kSize / 2) << "the backend kept echoing into a client that does not read";
  EXPECT_LT(proxied_up, kSize / 2) << "the upload was not slowed by the stalled download";
  // What the proxy read from the backend and could not hand to the client stays bounded (the
  // client's stream window plus the downstream connection's buffer and socket buffers).
  EXPECT_LT(proxied_down, 16u * 1024 * 1024);

  client.connection->readDisable(false);
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream || tunnel.response.reset; },
                       milliseconds(60000)));
  ASSERT_FALSE(tunnel.response.reset);
  ASSERT_EQ(tunnel.response.body.size(), kSize);
  EXPECT_TRUE(tunnel.response.body == payload);
}

// (b) An internal listener as the cluster's host: the request's shared filter state (ONCE
// entries arriving no longer shared, TRANSITIVE ones from the connection still shared, unshared
// ones absent) and the internal_upstream passthrough metadata (host and cluster kinds) arrive on
// the listener's downstream connection; then bytes echo through.
TEST_F(ConnectTerminationTest, InternalListenerGetsFilterStateAndMetadata) {
  initialize(R"(  - name: main_internal
    type: STATIC
    connect_timeout: 2s
    metadata:
      filter_metadata:
        istio: {services: "echo"}
    transport_socket:
      name: internal_upstream
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
        passthrough_metadata:
        - kind: {host: {}}
          name: envoy.filters.listener.original_dst
        - kind: {cluster: {}}
          name: istio
        - kind: {host: {}}
          name: absent.namespace
        transport_socket:
          name: raw_buffer
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
    load_assignment:
      cluster_name: main_internal
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: {envoy_internal_address: {server_listener_name: test_internal, endpoint_id: "10.1.2.3:8080"}}
          metadata:
            filter_metadata:
              envoy.filters.listener.original_dst: {local: "10.1.2.3:8080"}
              not.passed: {x: "y"}
)",
             hcmYaml("main_internal"));
  TestInternalListener& listener =
      internalListener("test_internal", TestInternalListener::Mode::Echo);
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.96.0.10:8080");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  ASSERT_EQ(listener.peers.size(), 1u);
  const TestInternalListener::Peer& peer = *listener.peers[0];

  ASSERT_EQ(peer.filter_state.count("io.istio.connect_authority"), 1u);
  EXPECT_EQ(peer.filter_state.at("io.istio.connect_authority").first, "10.96.0.10:8080");
  EXPECT_EQ(peer.filter_state.at("io.istio.connect_authority").second,
            FilterState::StreamSharing::None);  // ONCE: this hop only
  ASSERT_EQ(peer.filter_state.count("test.connection_level"), 1u);
  EXPECT_EQ(peer.filter_state.at("test.connection_level").first, "from-connection");
  EXPECT_EQ(peer.filter_state.at("test.connection_level").second,
            FilterState::StreamSharing::SharedWithUpstreamConnection);  // TRANSITIVE
  EXPECT_EQ(peer.filter_state.count("test.not_shared"), 0u);

  const auto& metadata = peer.metadata.filter_metadata();
  ASSERT_EQ(metadata.count("envoy.filters.listener.original_dst"), 1u);
  EXPECT_EQ(metadata.at("envoy.filters.listener.original_dst").fields().at("local").string_value(),
            "10.1.2.3:8080");
  ASSERT_EQ(metadata.count("istio"), 1u);
  EXPECT_EQ(metadata.at("istio").fields().at("services").string_value(), "echo");
  EXPECT_EQ(metadata.count("not.passed"), 0u);
  EXPECT_EQ(metadata.count("absent.namespace"), 0u);

  tunnel.send("ping", true);
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.response.body, "ping");
  EXPECT_EQ(peer.received, "ping");
  EXPECT_TRUE(peer.end_stream);
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_EQ(ended_[0].upstream_host, "envoy://test_internal/10.1.2.3:8080");
}

// A cluster reaching an internal listener over raw_buffer (no internal_upstream) passes nothing,
// as in Envoy.
TEST_F(ConnectTerminationTest, InternalListenerWithoutInternalUpstreamGetsNothing) {
  initialize(R"(  - name: plain_internal
    type: STATIC
    load_assignment:
      cluster_name: plain_internal
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: {envoy_internal_address: {server_listener_name: test_internal}}
          metadata:
            filter_metadata:
              envoy.filters.listener.original_dst: {local: "10.1.2.3:8080"}
)",
             hcmYaml("plain_internal"));
  TestInternalListener& listener =
      internalListener("test_internal", TestInternalListener::Mode::Echo);
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.96.0.10:8080");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  ASSERT_EQ(listener.peers.size(), 1u);
  EXPECT_TRUE(listener.peers[0]->filter_state.empty());
  EXPECT_TRUE(listener.peers[0]->metadata.filter_metadata().empty());
  tunnel.send("x", true);
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.response.body, "x");
}

// The backend half-closes first (sends FIN while the client is still sending): the response
// ends (END_STREAM) and the client's direction keeps flowing until the client ends it too; no
// reset on either side.
TEST_F(ConnectTerminationTest, BackendHalfClosesFirst) {
  initialize(R"(  - name: bye
    type: STATIC
    transport_socket:
      name: internal_upstream
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
        transport_socket:
          name: raw_buffer
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
    load_assignment:
      cluster_name: bye
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: {envoy_internal_address: {server_listener_name: bye_first}}
)",
             hcmYaml("bye"));
  TestInternalListener& listener =
      internalListener("bye_first", TestInternalListener::Mode::ByeFirst);
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.status(), 200u);
  EXPECT_EQ(tunnel.response.body, "bye");
  ASSERT_EQ(listener.peers.size(), 1u);
  TestInternalListener::Peer& peer = *listener.peers[0];

  tunnel.send("still ");
  ASSERT_TRUE(runUntil([&] { return peer.received == "still "; }));
  tunnel.send("sending", true);
  ASSERT_TRUE(runUntil([&] { return peer.end_stream && ended_.size() == 1; }));
  EXPECT_EQ(peer.received, "still sending");
  EXPECT_FALSE(tunnel.response.reset);
  EXPECT_EQ(ended_[0].response_flags, 0u);
}

// The backend half-closes first and then reads slowly; the client sends a lot and ends. The
// client's end reaches the proxy while the last bytes still wait in the upstream connection's
// buffer: the stream ends, and those bytes are still delivered, then the FIN (the connection
// lingers until flushed).
TEST_F(ConnectTerminationTest, LastBytesFlushAfterTheStreamEnds) {
  RawBackend backend;
  // Large HTTP/2 windows: the client's whole upload, and its end, arrive at once.
  initialize(tcpCluster("raw", backend.port(), "    per_connection_buffer_limit_bytes: 65536\n"),
             hcmYaml("raw", "connect_config: {}", 16 * 1024 * 1024));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  ASSERT_TRUE(backend.accept());
  backend.setNonBlocking();
  backend.write("bye");
  backend.shutdownWrite();
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.response.body, "bye");

  // More than the kernel's socket buffers hold, so that the proxy still has bytes to write.
  constexpr size_t kSize = 12 * 1024 * 1024;
  const std::string payload = network::test::pattern(kSize, 7);
  tunnel.send(payload, true);
  std::string received;
  bool fin = false;
  size_t received_at_stream_end = 0;
  ASSERT_TRUE(runUntil(
      [&] {
        fin = fin || backend.read(received, 16384);  // a slow reader
        if (ended_.size() == 1 && received_at_stream_end == 0) {
          received_at_stream_end = received.size() + 1;
        }
        return fin;
      },
      milliseconds(60000)));
  ASSERT_EQ(received.size(), kSize);
  EXPECT_TRUE(received == payload);
  ASSERT_EQ(ended_.size(), 1u);
  EXPECT_EQ(ended_[0].response_flags, 0u);
  EXPECT_FALSE(tunnel.response.reset);
  // The stream was over before the backend had everything: the flush outlived it.
  EXPECT_LT(received_at_stream_end, kSize + 1);
  ASSERT_TRUE(runUntil([&] { return gauge("cluster.raw.upstream_cx_active") == 0; }));
}

// The backend closes the connection outright while the client is still sending: after the 200,
// the only way to tell the client is to reset its stream (RST_STREAM), flag UC.
TEST_F(ConnectTerminationTest, BackendCloseResetsStream) {
  initialize(R"(  - name: closer
    type: STATIC
    load_assignment:
      cluster_name: closer
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: {envoy_internal_address: {server_listener_name: closer}}
)",
             hcmYaml("closer"));
  internalListener("closer", TestInternalListener::Mode::CloseOnData);
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  tunnel.send("data");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.reset; }));
  EXPECT_EQ(tunnel.response.reset_reason, http::StreamResetReason::ConnectError);
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_TRUE(ended_[0].response_flags & stream_info::UpstreamConnectionTermination);
  EXPECT_EQ(counter("http.connect.rq_reset_after_downstream_response_started"), 1u);
  ASSERT_TRUE(runUntil([&] { return gauge("cluster.closer.upstream_cx_active") == 0; }));
}

// A TCP reset from the backend after the 200 resets the client's stream.
TEST_F(ConnectTerminationTest, BackendTcpResetResetsStream) {
  RawBackend backend;
  initialize(tcpCluster("raw", backend.port()), hcmYaml("raw"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  ASSERT_TRUE(backend.accept());
  backend.reset();
  ASSERT_TRUE(runUntil([&] { return tunnel.response.reset; }));
  EXPECT_EQ(tunnel.response.reset_reason, http::StreamResetReason::ConnectError);
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_TRUE(ended_[0].response_flags & stream_info::UpstreamConnectionTermination);
}

// The client resets its stream: the upstream connection is closed and its counts given back.
TEST_F(ConnectTerminationTest, ClientResetClosesUpstream) {
  initialize(R"(  - name: hold
    type: STATIC
    load_assignment:
      cluster_name: hold
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: {envoy_internal_address: {server_listener_name: hold}}
)",
             hcmYaml("hold"));
  TestInternalListener& listener = internalListener("hold", TestInternalListener::Mode::Hold);
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.established(); }));
  EXPECT_EQ(gauge("cluster.hold.upstream_cx_active"), 1u);
  tunnel.encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
  ASSERT_TRUE(runUntil([&] { return listener.peers.size() == 1 && listener.peers[0]->closed; }));
  ASSERT_TRUE(runUntil([&] { return gauge("cluster.hold.upstream_cx_active") == 0; }));
  EXPECT_EQ(gauge("cluster.hold.upstream_rq_active"), 0u);
}

// Connection refused: 503, UF, Envoy's details and body; no retry even with a retry policy.
TEST_F(ConnectTerminationTest, ConnectFailureIs503UF) {
  initialize(tcpCluster("down", refusedPort()), hcmYaml("down"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.status(), 503u);
  tunnel.send("", true);  // the client ends its side: the stream is over
  EXPECT_TRUE(absl::StartsWith(tunnel.response.body,
                               "upstream connect error or disconnect/reset before headers. reset "
                               "reason: connection failure"))
      << tunnel.response.body;
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_TRUE(ended_[0].response_flags & stream_info::UpstreamConnectionFailure);
  EXPECT_TRUE(absl::StartsWith(ended_[0].details,
                               "upstream_reset_before_response_started{connection_failure"))
      << ended_[0].details;
  EXPECT_EQ(ended_[0].details.find(' '), std::string::npos) << ended_[0].details;
  EXPECT_EQ(counter("cluster.down.upstream_cx_connect_fail"), 1u);
  EXPECT_EQ(counter("cluster.down.upstream_cx_total"), 1u);
  EXPECT_EQ(counter("cluster.down.upstream_rq_retry"), 0u);
  EXPECT_EQ(gauge("cluster.down.upstream_cx_active"), 0u);
}

// A backend that never completes the handshake: the cluster's connect_timeout gives 503 UF.
TEST_F(ConnectTerminationTest, ConnectTimeoutIs503UF) {
  RawBackend backend(/*backlog_full=*/true);
  initialize(absl::StrCat("  - name: slow\n    type: STATIC\n    connect_timeout: 0.2s\n",
                          "    load_assignment:\n      cluster_name: slow\n      endpoints:\n",
                          "      - lb_endpoints:\n        - endpoint: {address: {socket_address: ",
                          "{address: 127.0.0.1, port_value: ", backend.port(), "}}}\n"),
             hcmYaml("slow"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.status(), 503u);
  tunnel.send("", true);  // the client ends its side: the stream is over
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_TRUE(ended_[0].response_flags & stream_info::UpstreamConnectionFailure);
  EXPECT_EQ(ended_[0].details, "upstream_reset_before_response_started{connection_failure}");
  EXPECT_EQ(counter("cluster.slow.upstream_cx_connect_timeout"), 1u);
}

// No host to pick: 503 UH.
TEST_F(ConnectTerminationTest, NoHealthyUpstreamIs503UH) {
  initialize("  - name: empty\n    type: STATIC\n    load_assignment: {cluster_name: empty}\n",
             hcmYaml("empty"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.status(), 503u);
  tunnel.send("", true);  // the client ends its side: the stream is over
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_TRUE(ended_[0].response_flags & stream_info::NoHealthyUpstream);
  EXPECT_EQ(ended_[0].details, "no_healthy_upstream");
  EXPECT_EQ(counter("cluster.empty.upstream_cx_none_healthy"), 1u);
}

// The cluster's connection circuit breaker counts tunnels: the second one overflows (503 UO).
TEST_F(ConnectTerminationTest, ConnectionCircuitBreaker) {
  initialize(R"(  - name: hold
    type: STATIC
    circuit_breakers: {thresholds: [{max_connections: 1}]}
    load_assignment:
      cluster_name: hold
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: {envoy_internal_address: {server_listener_name: hold}}
)",
             hcmYaml("hold"));
  internalListener("hold", TestInternalListener::Mode::Hold);
  H2Client& client = connectClient();
  Tunnel& first = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return first.established(); }));
  Tunnel& second = client.connect("10.0.0.2:80");
  ASSERT_TRUE(runUntil([&] { return second.response.end_stream; }));
  EXPECT_EQ(second.status(), 503u);
  EXPECT_EQ(second.response.headers->getValue("x-envoy-overloaded"), "true");
  EXPECT_EQ(counter("cluster.hold.upstream_cx_overflow"), 1u);
  EXPECT_EQ(first.status(), 200u);
  EXPECT_FALSE(first.response.end_stream);
}

// A route whose CONNECT upgrade is disabled refuses the CONNECT (403), as Envoy does.
TEST_F(ConnectTerminationTest, RouteDisablesConnect) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  initialize(tcpCluster("echo", (*echo)->port()), hcmYaml("echo", "enabled: false"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.status(), 403u);
  EXPECT_EQ((*echo)->connectionCount(), 0u);
}

// HTTP/1.1 CONNECT: "200" ends the HTTP part, then the connection is the tunnel; the client's
// half-close reaches the backend and the backend's close ends the connection.
TEST_F(ConnectTerminationTest, Http11Connect) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  std::string yaml = hcmYaml("echo");
  yaml.replace(yaml.find("codec_type: HTTP2"), strlen("codec_type: HTTP2"), "codec_type: AUTO");
  initialize(tcpCluster("echo", (*echo)->port()), yaml);
  network::ClientConnectionPtr client =
      network::createClientConnection(dispatcher_, socket_->localAddress());
  network::test::RecordingCallbacks callbacks;
  network::test::CollectingReader reader;
  client->addConnectionCallbacks(callbacks);
  client->setReadCallback(&reader);
  client->connect();
  buffer::OwnedImpl request("CONNECT 10.0.0.1:80 HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\nfirst ");
  client->write(request, false);
  ASSERT_TRUE(runUntil([&] { return absl::StrContains(reader.received, "first "); }));
  EXPECT_TRUE(absl::StartsWith(reader.received, "HTTP/1.1 200 OK\r\n")) << reader.received;
  buffer::OwnedImpl rest("second");
  client->write(rest, true);
  ASSERT_TRUE(runUntil([&] { return reader.end_streams > 0 || callbacks.closed(); }));
  EXPECT_TRUE(absl::EndsWith(reader.received, "\r\n\r\nfirst second")) << reader.received;
  ASSERT_TRUE(runUntil([&] { return ended_.size() == 1; }));
  EXPECT_EQ(ended_[0].details, "via_upstream");
  client->close(network::ConnectionCloseType::NoFlush);
}

// connect_config.allow_post: a POST to the route is terminated too, its body the TCP payload.
TEST_F(ConnectTerminationTest, AllowPostTerminatesPost) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  std::string yaml = hcmYaml("echo", "connect_config: {allow_post: true}");
  yaml.replace(yaml.find("match: {connect_matcher: {}}"), strlen("match: {connect_matcher: {}}"),
               "match: {prefix: /}");
  initialize(tcpCluster("echo", (*echo)->port()), yaml);
  H2Client& client = connectClient();
  Tunnel& post = client.request("POST", "/tunnel");
  post.send("posted bytes", true);
  ASSERT_TRUE(runUntil([&] { return post.response.end_stream; }));
  EXPECT_EQ(post.status(), 200u);
  EXPECT_EQ(post.response.body, "posted bytes");
  EXPECT_EQ((*echo)->connectionCount(), 1u);
}

// Bytes the client sends before the upstream is connected are kept and go first.
TEST_F(ConnectTerminationTest, EarlyDataIsForwardedOnConnect) {
  auto echo = test::TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  initialize(tcpCluster("echo", (*echo)->port()), hcmYaml("echo"));
  H2Client& client = connectClient();
  Tunnel& tunnel = client.connect("10.0.0.1:80");
  tunnel.send("early", true);  // before any answer
  ASSERT_TRUE(runUntil([&] { return tunnel.response.end_stream; }));
  EXPECT_EQ(tunnel.status(), 200u);
  EXPECT_EQ(tunnel.response.body, "early");
}

}  // namespace
}  // namespace waystone::extensions::http_filters::router
