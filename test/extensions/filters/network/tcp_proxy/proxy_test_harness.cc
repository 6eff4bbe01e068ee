#include "test/extensions/filters/network/tcp_proxy/proxy_test_harness.h"

#include "absl/strings/str_cat.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/listen_socket.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "source/extensions/filters/network/tcp_proxy/config.h"
#include "source/server/listener_config.h"

namespace waystone::extensions::network_filters::tcp_proxy::test {
namespace {

// First filter of every chain: records the connection's stream info when it closes.
class Recorder : public network::ReadFilter, public network::ConnectionCallbacks {
 public:
  Recorder(std::vector<ClosedConnection>& closed, const std::vector<std::string>& keys)
      : closed_(closed), keys_(keys) {}

  void initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) override {
    connection_ = &callbacks.connection();
    connection_->addConnectionCallbacks(*this);
  }
  network::FilterStatus onNewConnection() override { return network::FilterStatus::Continue; }
  network::FilterStatus onData(buffer::Instance&, bool) override {
    return network::FilterStatus::Continue;
  }
  void onEvent(network::ConnectionEvent event) override {
    if (event == network::ConnectionEvent::Connected) {
      return;
    }
    const stream_info::StreamInfo& info = connection_->streamInfo();
    ClosedConnection record;
    record.response_flags = info.response_flags;
    record.upstream_cluster = info.upstream_cluster;
    record.upstream_host =
        info.upstream_host_address == nullptr ? "" : info.upstream_host_address->asString();
    record.bytes_received = info.bytes_received;
    record.bytes_sent = info.bytes_sent;
    for (const std::string& key : keys_) {
      const auto* object = info.filter_state->getData(key);
      record.filter_state.push_back(
          object == nullptr ? std::string() : object->serializeAsString().value_or("<no text>"));
    }
    closed_.push_back(std::move(record));
  }

 private:
  std::vector<ClosedConnection>& closed_;
  const std::vector<std::string>& keys_;
  network::Connection* connection_ = nullptr;
};

class FilterStateSetter : public network::ReadFilter {
 public:
  FilterStateSetter(std::string key, std::string value)
      : key_(std::move(key)), value_(std::move(value)) {}
  void initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) override {
    callbacks_ = &callbacks;
  }
  network::FilterStatus onNewConnection() override {
    EXPECT_TRUE(callbacks_->connection()
                    .streamInfo()
                    .filter_state
                    ->setData(key_, std::make_shared<stream_info::StringAccessor>(value_),
                              stream_info::FilterState::StateType::ReadOnly)
                    .ok());
    return network::FilterStatus::Continue;
  }
  network::FilterStatus onData(buffer::Instance&, bool) override {
    return network::FilterStatus::Continue;
  }

 private:
  const std::string key_;
  const std::string value_;
  network::ReadFilterCallbacks* callbacks_ = nullptr;
};

class RestoredMarker : public network::ReadFilter {
 public:
  void initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) override {
    callbacks_ = &callbacks;
  }
  network::FilterStatus onNewConnection() override {
    callbacks_->connection().streamInfo().downstream_local_address_restored = true;
    return network::FilterStatus::Continue;
  }
  network::FilterStatus onData(buffer::Instance&, bool) override {
    return network::FilterStatus::Continue;
  }

 private:
  network::ReadFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace

std::string pattern(size_t size) {
  std::string out(size, '\0');
  uint32_t x = 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

TestClient::TestClient(event::Dispatcher& dispatcher,
                       const network::address::InstanceConstSharedPtr& address,
                       uint32_t buffer_limit) {
  connection_ = network::createClientConnection(dispatcher, address);
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
  if (buffer_limit > 0) {
    connection_->setBufferLimits(buffer_limit);
  }
  connection_->connect();
}

TestClient::~TestClient() {
  if (connection_->state() != network::Connection::State::Closed) {
    connection_->close(network::ConnectionCloseType::NoFlush);
  }
}

void TestClient::write(absl::string_view data, bool end_stream) {
  buffer::OwnedImpl buffer;
  buffer.add(data);
  connection_->write(buffer, end_stream);
}

void TestClient::reset() {
  auto* impl = dynamic_cast<network::ConnectionImpl*>(connection_.get());
  ASSERT_NE(impl, nullptr);
  const linger option{1, 0};
  ASSERT_EQ(::setsockopt(impl->fd(), SOL_SOCKET, SO_LINGER, &option, sizeof(option)), 0);
  connection_->close(network::ConnectionCloseType::NoFlush);
}

void TestClient::onData(buffer::Instance& data, bool end_stream) {
  received_ += data.toString();
  data.drain(data.length());
  if (end_stream) {
    ++end_streams_;
  }
}

bool TestClient::closed() const {
  return count(network::ConnectionEvent::RemoteClose) +
             count(network::ConnectionEvent::LocalClose) >
         0;
}

int TestClient::count(network::ConnectionEvent event) const {
  int n = 0;
  for (network::ConnectionEvent e : events_) {
    n += e == event ? 1 : 0;
  }
  return n;
}

RefusingPort::RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  EXPECT_TRUE(fd_.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  port_ = ntohs(addr.sin_port);
}

void TcpProxyTestBase::TearDown() {
  clients_.clear();
  if (listener_ != nullptr) {
    // The usual shutdown order: close the connections and let the loop free them (deferred
    // deletion) while their listener still exists.
    listener_->closeConnections();
    dispatcher_.run(event::Dispatcher::RunType::NonBlock);
    listener_.reset();
  }
  dispatcher_.run(event::Dispatcher::RunType::NonBlock);
  if (workers_ != nullptr) {
    // The worker's pools and drainer go as a worker's do when it exits.
    workers_->releaseWorker(dispatcher_);
  }
  dispatcher_.clearDeferredDeleteList();
}

void TcpProxyTestBase::startProxyWithClusters(const std::string& clusters_yaml,
                                              const std::string& tcp_proxy_yaml,
                                              uint32_t listener_buffer_limit,
                                              std::vector<network::FilterFactoryCb> before) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  absl::Status status = protobuf::loadFromYaml(
      absl::StrCat("static_resources:\n  clusters:\n", clusters_yaml), bootstrap);
  ASSERT_TRUE(status.ok()) << status;
  auto manager = upstream::ClusterManager::create(bootstrap, store_);
  ASSERT_TRUE(manager.ok()) << manager.status();
  cluster_manager_ = std::move(*manager);
  auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, dispatcher_);
  ASSERT_TRUE(workers.ok()) << workers.status();
  workers_ = std::move(*workers);
  workers_->addWorker(dispatcher_, 1);

  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proto;
  status = protobuf::loadFromYaml(tcp_proxy_yaml, proto);
  ASSERT_TRUE(status.ok()) << status;
  auto factory = createFilterFactory(proto, *cluster_manager_, *workers_, store_, "tcp_proxy");
  ASSERT_TRUE(factory.ok()) << factory.status();

  auto address = network::address::parseIp("127.0.0.1", 0);
  ASSERT_TRUE(address.ok()) << address.status();
  auto socket = network::ListenSocket::create(*address, network::ListenSocketOptions());
  ASSERT_TRUE(socket.ok()) << socket.status();
  std::shared_ptr<network::ListenSocket> shared_socket = std::move(*socket);
  proxy_address_ = shared_socket->localAddress();

  envoy::config::listener::v3::Listener listener_proto;
  listener_proto.set_name("proxy");
  if (listener_buffer_limit > 0) {
    listener_proto.mutable_per_connection_buffer_limit_bytes()->set_value(listener_buffer_limit);
  }
  std::vector<network::FilterFactoryCb> factories;
  factories.push_back([this]() -> network::ReadFilterPtr {
    return std::make_unique<Recorder>(closed_, recorded_keys_);
  });
  for (auto& f : before) {
    factories.push_back(std::move(f));
  }
  factories.push_back(*factory);
  server::ListenerConfig::Parts parts;
  parts.filter_chains.push_back(server::FilterChain{"", nullptr, std::move(factories)});
  parts.selector = [](const std::vector<server::FilterChain>& chains,
                      const network::ConnectionSocket&) { return &chains.front(); };
  auto config = std::make_shared<const server::ListenerConfig>(
      listener_proto, proxy_address_, std::move(parts), store_.createScope("listener.proxy."));
  listener_ = std::make_unique<server::ActiveListener>(dispatcher_, config, shared_socket);
}

std::string TcpProxyTestBase::staticCluster(const std::vector<uint16_t>& ports,
                                            const std::string& extra) {
  std::string yaml = absl::StrCat("    type: STATIC\n    connect_timeout: 5s\n", extra,
                                  "    load_assignment:\n"
                                  "      cluster_name: backend\n"
                                  "      endpoints:\n"
                                  "      - lb_endpoints:\n");
  for (uint16_t port : ports) {
    absl::StrAppend(&yaml, "        - endpoint: { address: { socket_address: ",
                    "{ address: 127.0.0.1, port_value: ", port, " } } }\n");
  }
  return yaml;
}

std::string TcpProxyTestBase::h2Cluster(const std::vector<uint16_t>& ports,
                                        const std::string& extra,
                                        const std::string& http2_options) {
  return staticCluster(
      ports, absl::StrCat("    typed_extension_protocol_options:\n"
                          "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
                          "        \"@type\": type.googleapis.com/"
                          "envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n"
                          "        explicit_http_config: {http2_protocol_options: ",
                          http2_options, "}\n", extra));
}

TestClient& TcpProxyTestBase::connectClient(uint32_t buffer_limit) {
  clients_.push_back(std::make_unique<TestClient>(dispatcher_, proxy_address_, buffer_limit));
  return *clients_.back();
}

network::FilterFactoryCb setFilterStateFactory(std::string key, std::string value) {
  return [key, value]() -> network::ReadFilterPtr {
    return std::make_unique<FilterStateSetter>(key, value);
  };
}

network::FilterFactoryCb markLocalAddressRestoredFactory() {
  return []() -> network::ReadFilterPtr { return std::make_unique<RestoredMarker>(); };
}

}  // namespace waystone::extensions::network_filters::tcp_proxy::test
