#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/network/filter.h"
#include "source/common/stats/store.h"
#include "source/server/active_listener.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/test_common/file_descriptor.h"

// The real server pieces for tcp_proxy tests, all on the test thread's dispatcher (which plays
// both the main thread and the one worker): a ClusterManager and WorkerClusterManagers from YAML,
// the tcp_proxy filter factory, and an ActiveListener on 127.0.0.1:0 running it for each
// connection, with real loopback sockets throughout.
namespace waystone::extensions::network_filters::tcp_proxy::test {

// Deterministic pseudo-random bytes: a lost, duplicated or reordered slice changes the result.
std::string pattern(size_t size);

// A test client on the proxy's dispatcher: records events and the bytes it reads.
class TestClient : public network::ConnectionCallbacks, public network::ReadCallback {
 public:
  TestClient(event::Dispatcher& dispatcher, const network::address::InstanceConstSharedPtr& address,
             uint32_t buffer_limit);
  ~TestClient() override;

  void write(absl::string_view data, bool end_stream);
  // Closes with a TCP reset (SO_LINGER 0).
  void reset();

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override { events_.push_back(event); }
  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;

  bool connected() const { return count(network::ConnectionEvent::Connected) > 0; }
  // The proxy ended the connection: a FIN (end of stream; the connection stays half-open until
  // the client closes too) or a reset (a close event).
  bool ended() const { return end_streams_ > 0 || closed(); }
  bool closed() const;
  int count(network::ConnectionEvent event) const;
  const std::string& received() const { return received_; }
  int endStreams() const { return end_streams_; }
  network::ClientConnection& connection() { return *connection_; }

 private:
  network::ClientConnectionPtr connection_;
  std::vector<network::ConnectionEvent> events_;
  std::string received_;
  int end_streams_ = 0;
};

// A loopback port that refuses connections: bound (so nobody else takes it) but not listening.
class RefusingPort {
 public:
  RefusingPort();
  uint16_t port() const { return port_; }

 private:
  waystone::test::FileDescriptor fd_;
  uint16_t port_ = 0;
};

// What a downstream connection's stream info said when it closed.
struct ClosedConnection {
  uint64_t response_flags = 0;
  std::string upstream_cluster;
  std::string upstream_host;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  // serializeAsString() of the filter state entries the test asked for; "" when absent.
  std::vector<std::string> filter_state;
};

class TcpProxyTestBase : public testing::Test {
 protected:
  void TearDown() override;

  // `clusters_yaml`: the entries of static_resources.clusters (block YAML, "  - name: ..."
  // lines). `tcp_proxy_yaml`: the filter config. `listener_buffer_limit`: the listener's
  // per_connection_buffer_limit_bytes (0: default). `before`: network filters that run ahead of
  // tcp_proxy on each connection (a recorder is always first).
  void startProxyWithClusters(const std::string& clusters_yaml, const std::string& tcp_proxy_yaml,
                              uint32_t listener_buffer_limit = 0,
                              std::vector<network::FilterFactoryCb> before = {});
  // A single cluster named "backend" whose body (after "name: backend") is `cluster_yaml`.
  void startProxy(const std::string& cluster_yaml, const std::string& tcp_proxy_yaml,
                  uint32_t listener_buffer_limit = 0) {
    startProxyWithClusters(absl::StrCat("  - name: backend\n", cluster_yaml), tcp_proxy_yaml,
                           listener_buffer_limit);
  }

  // The body of a STATIC cluster of 127.0.0.1 ports, with `extra` fields (four spaces).
  static std::string staticCluster(const std::vector<uint16_t>& ports,
                                   const std::string& extra = "");
  // The same, speaking HTTP/2 to its hosts (for tunneling_config) with `http2_options`
  // (Http2ProtocolOptions as flow YAML).
  static std::string h2Cluster(const std::vector<uint16_t>& ports, const std::string& extra = "",
                               const std::string& http2_options = "{}");

  TestClient& connectClient(uint32_t buffer_limit = 0);

  uint64_t counter(absl::string_view name) { return store_.counterFromString(name).value(); }
  uint64_t gauge(absl::string_view name) { return store_.gaugeFromString(name).value(); }
  const upstream::HostVector& hosts(const std::string& cluster = "backend") {
    return cluster_manager_->get(cluster)->hosts();
  }
  // Filter state keys the recorder reads at close.
  std::vector<std::string> recorded_keys_;

  // Declaration order is destruction order in reverse: the store outlives every stat user and
  // the dispatcher outlives everything registered with it.
  stats::Store store_;
  event::DispatcherImpl dispatcher_{"test"};
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> workers_;
  network::address::InstanceConstSharedPtr proxy_address_;
  std::unique_ptr<server::ActiveListener> listener_;
  std::vector<std::unique_ptr<TestClient>> clients_;
  std::vector<ClosedConnection> closed_;
};

// A network filter that sets one string filter-state entry on each connection (as
// set_filter_state would), then lets the next filter run.
network::FilterFactoryCb setFilterStateFactory(std::string key, std::string value);

// A network filter that marks the connection's local address as restored, as the original_dst
// listener filter does after SO_ORIGINAL_DST (which a loopback test cannot produce).
network::FilterFactoryCb markLocalAddressRestoredFactory();

}  // namespace waystone::extensions::network_filters::tcp_proxy::test
