// TcpUpstream and UpstreamDrainer on their own: a raw upstream whose downstream went away keeps
// writing what it holds, on the worker's drainer, until the backend has it all.

#include "source/extensions/filters/network/tcp_proxy/upstream_drainer.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "gtest/gtest.h"
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/extensions/filters/network/tcp_proxy/config.h"
#include "source/extensions/filters/network/tcp_proxy/tcp_upstream.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/common/network/network_test_util.h"
#include "test/test_common/file_descriptor.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

using network::test::runUntil;

// A backend socket the test reads by hand: small receive buffers, so that an upstream writing
// to it backs up into its own user-space buffer while the test does not read.
class SinkBackend {
 public:
  SinkBackend() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const int size = 16384;
    EXPECT_EQ(::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_.get(), 4), 0);
  }
  uint16_t port() const { return port_; }

  bool accept() {
    accepted_ = test::FileDescriptor(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!accepted_.valid()) {
      return false;
    }
    const int flags = ::fcntl(accepted_.get(), F_GETFL);
    return ::fcntl(accepted_.get(), F_SETFL, flags | O_NONBLOCK) == 0;
  }
  // Reads what has arrived; true once the peer's FIN was read.
  bool read() {
    char buffer[65536];
    while (true) {
      const ssize_t n = ::read(accepted_.get(), buffer, sizeof(buffer));
      if (n == 0) {
        return true;
      }
      if (n < 0) {
        return false;
      }
      received_ += static_cast<size_t>(n);
    }
  }
  void write(absl::string_view data) {
    EXPECT_EQ(::write(accepted_.get(), data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
  }
  size_t received() const { return received_; }

 private:
  test::FileDescriptor fd_;
  test::FileDescriptor accepted_;
  uint16_t port_ = 0;
  size_t received_ = 0;
};

class Callbacks : public UpstreamCallbacks {
 public:
  void onUpstreamReady(const http::ResponseHeaderMap*) override { ready = true; }
  void onUpstreamFailure(UpstreamFailure, absl::string_view) override { failed = true; }
  void onUpstreamData(buffer::Instance& data, bool) override { data.drain(data.length()); }
  void onUpstreamClosed(bool) override { closed = true; }
  void onUpstreamAboveWriteBufferHighWatermark() override { ++above; }
  void onUpstreamBelowWriteBufferLowWatermark() override {}

  bool ready = false;
  bool failed = false;
  bool closed = false;
  int above = 0;
};

class UpstreamDrainerTest : public testing::Test {
 protected:
  void SetUp() override {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    ASSERT_TRUE(
        protobuf::loadFromYaml(absl::StrCat("static_resources:\n  clusters:\n  - name: sink\n"
                                            "    type: STATIC\n    connect_timeout: 5s\n"
                                            "    per_connection_buffer_limit_bytes: 16384\n"
                                            "    load_assignment:\n      cluster_name: sink\n"
                                            "      endpoints:\n      - lb_endpoints:\n"
                                            "        - endpoint: { address: { socket_address: "
                                            "{ address: 127.0.0.1, port_value: ",
                                            sink_.port(), " } } }\n"),
                               bootstrap)
            .ok());
    auto manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    cluster_manager_ = std::move(*manager);
    auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, dispatcher_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    workers_ = std::move(*workers);
    workers_->addWorker(dispatcher_, 1);
    envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proto;
    ASSERT_TRUE(
        protobuf::loadFromYaml("{ stat_prefix: d, cluster: sink, idle_timeout: 30s }", proto).ok());
    auto config = TcpProxyConfig::create(proto, *cluster_manager_, *workers_, store_, "tcp_proxy");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
  }
  void TearDown() override {
    workers_->releaseWorker(dispatcher_);
    dispatcher_.clearDeferredDeleteList();
  }

  // A connected upstream with `bytes` written to it that the sink has not read.
  std::unique_ptr<TcpUpstream> backedUpUpstream(size_t bytes) {
    auto cluster = cluster_manager_->get("sink");
    auto upstream =
        std::make_unique<TcpUpstream>(callbacks_, dispatcher_, cluster->hosts()[0], cluster);
    EXPECT_FALSE(upstream->start(nullptr).has_value());
    EXPECT_TRUE(runUntil(dispatcher_, [&] { return callbacks_.ready || callbacks_.failed; }));
    EXPECT_TRUE(callbacks_.ready);
    EXPECT_TRUE(sink_.accept());
    buffer::OwnedImpl data(std::string(bytes, 'z'));
    upstream->write(data, false);
    // The kernel takes what fits; the rest waits in the connection's buffer.
    EXPECT_TRUE(runUntil(dispatcher_, [&] { return callbacks_.above > 0; }));
    return upstream;
  }

  UpstreamDrainer& drainer() {
    return UpstreamDrainer::get(*workers_->forDispatcher(dispatcher_), dispatcher_);
  }
  uint64_t counter(absl::string_view name) { return store_.counterFromString(name).value(); }
  uint64_t gauge(absl::string_view name) { return store_.gaugeFromString(name).value(); }

  SinkBackend sink_;
  stats::Store store_;
  event::DispatcherImpl dispatcher_{"test"};
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> workers_;
  TcpProxyConfigConstSharedPtr config_;
  Callbacks callbacks_;
};

TEST_F(UpstreamDrainerTest, FlushesEverythingAfterTheDownstreamWentAway) {
  constexpr size_t kBytes = 8 * 1024 * 1024;
  std::unique_ptr<TcpUpstream> upstream = backedUpUpstream(kBytes);
  // The downstream closed on its own: the upstream keeps flushing.
  ASSERT_TRUE(upstream->onDownstreamClosed(true));
  drainer().add(std::move(upstream), config_);
  EXPECT_EQ(counter("tcp.d.upstream_flush_total"), 1u);
  EXPECT_EQ(gauge("tcp.d.upstream_flush_active"), 1u);
  EXPECT_EQ(drainer().size(), 1u);
  // The backend reads: every byte arrives, then the FIN, and the drainer lets go.
  bool eof = false;
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    eof = eof || sink_.read();
    return eof && drainer().size() == 0;
  }));
  EXPECT_EQ(sink_.received(), kBytes);
  EXPECT_EQ(gauge("tcp.d.upstream_flush_active"), 0u);
  EXPECT_EQ(gauge("cluster.sink.upstream_cx_active"), 0u);
  EXPECT_FALSE(callbacks_.closed);  // the drainer took the callbacks over
}

TEST_F(UpstreamDrainerTest, DataFromTheUpstreamWhileFlushingClosesIt) {
  std::unique_ptr<TcpUpstream> upstream = backedUpUpstream(8 * 1024 * 1024);
  ASSERT_TRUE(upstream->onDownstreamClosed(true));
  drainer().add(std::move(upstream), config_);
  // Nobody is left to read an answer: the connection goes at once, as the kernel would reset a
  // socket whose reader is gone.
  sink_.write("late answer");
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return drainer().size() == 0; }));
  EXPECT_EQ(gauge("tcp.d.upstream_flush_active"), 0u);
  EXPECT_EQ(gauge("cluster.sink.upstream_cx_active"), 0u);
}

TEST_F(UpstreamDrainerTest, LocalCloseDoesNotFlush) {
  std::unique_ptr<TcpUpstream> upstream = backedUpUpstream(8 * 1024 * 1024);
  // We closed the downstream ourselves (timeouts, errors): the upstream goes at once.
  EXPECT_FALSE(upstream->onDownstreamClosed(false));
  EXPECT_EQ(gauge("cluster.sink.upstream_cx_active"), 0u);
  EXPECT_EQ(counter("cluster.sink.upstream_cx_destroy"), 1u);
}

TEST_F(UpstreamDrainerTest, NothingToFlushClosesAtOnce) {
  auto cluster = cluster_manager_->get("sink");
  TcpUpstream upstream(callbacks_, dispatcher_, cluster->hosts()[0], cluster);
  ASSERT_FALSE(upstream.start(nullptr).has_value());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return callbacks_.ready; }));
  EXPECT_FALSE(upstream.onDownstreamClosed(true));
  EXPECT_FALSE(callbacks_.closed);
  EXPECT_EQ(gauge("cluster.sink.upstream_cx_active"), 0u);
}

TEST_F(UpstreamDrainerTest, WorkerShutdownFreesFlushingConnections) {
  std::unique_ptr<TcpUpstream> upstream = backedUpUpstream(8 * 1024 * 1024);
  ASSERT_TRUE(upstream->onDownstreamClosed(true));
  drainer().add(std::move(upstream), config_);
  EXPECT_EQ(gauge("tcp.d.upstream_flush_active"), 1u);
  // The worker exits with the flush unfinished: its drainer goes, and with it the connection.
  workers_->releaseWorker(dispatcher_);
  EXPECT_EQ(gauge("tcp.d.upstream_flush_active"), 0u);
  EXPECT_EQ(gauge("cluster.sink.upstream_cx_active"), 0u);
}

}  // namespace
}  // namespace waystone::extensions::network_filters::tcp_proxy
