// The real binary end to end: proxying, lifecycle (signals, drain, quit), start-up failures.

#include <csignal>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

#include "test/integration/integration_util.h"
#include "test/test_common/child_process.h"
#include "test/test_common/file_util.h"
#include "test/test_common/http_client.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

using ::testing::HasSubstr;
constexpr auto kTimeout = std::chrono::seconds(10);

class ServerIntegrationTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra_args = {}) {
    auto backend = TestHttpServer::start();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    WaystoneOptions options{tcpProxyBootstrap(backend_->port())};
    options.extra_args = std::move(extra_args);
    auto process = WaystoneProcess::start(std::move(options));
    ASSERT_TRUE(process.ok()) << process.status();
    waystone_ = std::move(*process);
    ASSERT_TRUE(waystone_->waitReady(std::chrono::seconds(20))) << waystone_->logs();
    auto port = listenerPort(*waystone_, "proxy");
    ASSERT_TRUE(port.ok()) << port.status();
    proxy_port_ = *port;
  }

  std::unique_ptr<TestHttpServer> backend_;
  std::unique_ptr<WaystoneProcess> waystone_;
  uint16_t proxy_port_ = 0;
};

TEST_F(ServerIntegrationTest, ProxiesHttpThroughTcpProxy) {
  start();
  for (int i = 0; i < 5; ++i) {
    HttpClient client("127.0.0.1", proxy_port_);
    auto r = client.get(absl::StrCat("/hello/", i));
    ASSERT_TRUE(r.ok()) << r.status() << waystone_->logs();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, absl::StrCat("hello from backend: GET /hello/", i));
  }
  EXPECT_EQ(backend_->requestCount(), 5u);
  EXPECT_TRUE(waitFor(
      [&] { return statValue(*waystone_, "cluster.backend.upstream_cx_total") == 5u; }, kTimeout));
  EXPECT_EQ(statValue(*waystone_, "tcp.proxy.downstream_cx_total"), 5u);
  EXPECT_TRUE(waitFor(
      [&] {
        return statValue(*waystone_, absl::StrCat("listener.127.0.0.1_", proxy_port_,
                                                  ".downstream_cx_active")) == 0u;
      },
      kTimeout));
  EXPECT_EQ(statValue(*waystone_,
                      absl::StrCat("listener.127.0.0.1_", proxy_port_, ".downstream_cx_total")),
            5u);
}

TEST_F(ServerIntegrationTest, LargeBodyIsProxiedIntact) {
  start();
  const std::string body(4 * 1024 * 1024, 'x');
  backend_->setResponse(200, body);
  HttpClient client("127.0.0.1", proxy_port_);
  auto r = client.get("/big");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_EQ(r->body, body);
}

TEST_F(ServerIntegrationTest, BackendDownClosesTheClientConnection) {
  start();
  backend_.reset();  // nothing listens on the backend port any more
  HttpClient client("127.0.0.1", proxy_port_);
  auto r = client.get("/");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(waitFor(
      [&] { return statValue(*waystone_, "cluster.backend.upstream_cx_connect_fail") == 1u; },
      kTimeout));
}

TEST_F(ServerIntegrationTest, SigtermExitsZero) {
  start();
  auto status = waystone_->stop(kTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << waystone_->logs();
}

TEST_F(ServerIntegrationTest, SigtermDrainsOpenConnectionsThenExits) {
  // A long drain time: the process must exit as soon as the last connection closes.
  start({"--drain-time-s", "60"});
  auto fd = connectTcp("127.0.0.1", proxy_port_, kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(waitFor(
      [&] {
        return statValue(*waystone_, absl::StrCat("listener.127.0.0.1_", proxy_port_,
                                                  ".downstream_cx_active")) == 1u;
      },
      kTimeout));
  ASSERT_TRUE(waystone_->process().signal(SIGTERM).ok());
  // Draining: no longer ready, and the open connection keeps the process alive.
  EXPECT_TRUE(waitFor(
      [&] {
        auto r = waystone_->admin("GET", "/ready");
        return r.ok() && r->status == 503 && r->body == "DRAINING\n";
      },
      kTimeout));
  EXPECT_TRUE(waystone_->process().running());
  // New connections are refused once listeners stop.
  EXPECT_TRUE(
      waitFor([&] { return !connectTcp("127.0.0.1", proxy_port_, kTimeout).ok(); }, kTimeout));
  fd->reset();
  auto status = waystone_->process().waitForExit(kTimeout);
  ASSERT_TRUE(status.has_value()) << waystone_->logs();
  EXPECT_EQ(*status, 0);
}

TEST_F(ServerIntegrationTest, DrainListenersStopsAccepting) {
  start();
  auto r = waystone_->admin("POST", "/drain_listeners");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "OK\n");
  EXPECT_TRUE(
      waitFor([&] { return !connectTcp("127.0.0.1", proxy_port_, kTimeout).ok(); }, kTimeout));
  EXPECT_EQ(statValue(*waystone_, "listener_manager.total_listeners_active"), 0u);
  r = waystone_->admin("GET", "/ready");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  // drain_listeners does not exit the process; the admin API keeps serving.
  EXPECT_TRUE(waystone_->process().running());
}

TEST_F(ServerIntegrationTest, GracefulDrainWithSkipExitKeepsListening) {
  start();
  auto r = waystone_->admin("POST", "/drain_listeners?graceful&skip_exit");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  // --drain-time-s is 0 in tests: the graceful period is over at once, and skip_exit keeps the
  // listeners open.
  HttpClient client("127.0.0.1", proxy_port_);
  auto proxied = client.get("/still-here");
  ASSERT_TRUE(proxied.ok()) << proxied.status();
  EXPECT_EQ(proxied->status, 200);
}

TEST_F(ServerIntegrationTest, ListenerPortInUseFailsStartupNamingTheField) {
  auto backend = TestHttpServer::start();
  ASSERT_TRUE(backend.ok());
  // Occupy a port, then ask Waystone to listen on it without SO_REUSEPORT sharing possible:
  // the test server's socket does not set SO_REUSEPORT, so bind fails.
  std::string yaml = tcpProxyBootstrap((*backend)->port());
  const std::string from =
      "socket_address: { address: 127.0.0.1, port_value: 0 }\n    filter_chains";
  const size_t at = yaml.find(from);
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, from.size(),
               absl::StrCat("socket_address: { address: 127.0.0.1, port_value: ",
                            (*backend)->port(), " }\n    filter_chains"));
  auto process = WaystoneProcess::start({yaml});
  ASSERT_FALSE(process.ok());
  EXPECT_THAT(std::string(process.status().message()),
              HasSubstr("static_resources.listeners[0].address"));
  EXPECT_THAT(std::string(process.status().message()), HasSubstr("in use"));
}

TEST_F(ServerIntegrationTest, AdminOnUnixSocket) {
  auto backend = TestHttpServer::start();
  ASSERT_TRUE(backend.ok());
  TempDir dir = TempDir::forUnixSockets();
  const std::string socket_path = dir.file("admin.sock");
  std::string yaml = tcpProxyBootstrap((*backend)->port());
  const std::string from =
      "admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 0 }";
  const size_t at = yaml.find(from);
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, from.size(),
               absl::StrCat("admin:\n  address:\n    pipe: { path: ", socket_path, " }"));
  const std::string config = dir.file("bootstrap.yaml");
  ASSERT_TRUE(writeFile(config, yaml).ok());
  // WaystoneProcess expects a host:port admin address, so start the binary directly.
  auto process = ChildProcess::start({runfilesPath("source/exe/waystone"), "-c", config,
                                      "--concurrency", "1", "--drain-time-s", "0",
                                      "--admin-address-path", dir.file("admin_address")});
  ASSERT_TRUE(process.ok()) << process.status();
  auto written = waitForFile(dir.file("admin_address"), kTimeout);
  ASSERT_TRUE(written.has_value()) << (*process)->stderrContents();
  EXPECT_EQ(*written, socket_path + "\n");
  HttpClient client = HttpClient::unixSocket(socket_path);
  EXPECT_TRUE(waitFor(
      [&] {
        auto r = client.get("/ready");
        return r.ok() && r->status == 200;
      },
      kTimeout));
  ASSERT_TRUE((*process)->signal(SIGTERM).ok());
  EXPECT_EQ((*process)->waitForExit(kTimeout), 0);
}

}  // namespace
}  // namespace waystone::test

namespace waystone::test {
namespace {

TEST(ServerLoggingIntegrationTest, LogPathIsReopenedOnSigusr1) {
  TempDir dir;
  const std::string log = dir.file("waystone.log");
  WaystoneOptions options{tcpProxyBootstrap(1)};
  options.extra_args = {"--log-path", log, "--component-log-level", "admin:debug"};
  auto process = WaystoneProcess::start(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  ASSERT_TRUE((*process)->waitReady(std::chrono::seconds(20)));
  auto first = readFile(log);
  ASSERT_TRUE(first.ok());
  // Envoy's line shape: [time][thread][level][component] message
  EXPECT_TRUE(RE2::PartialMatch(
      *first, R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[info\]\[main\] )"))
      << *first;
  // Rotate: move the file away, then ask for a reopen; new lines go to a new file.
  ASSERT_EQ(std::rename(log.c_str(), (log + ".1").c_str()), 0);
  ASSERT_TRUE((*process)->process().signal(SIGUSR1).ok());
  EXPECT_TRUE(waitFor(
      [&] {
        (void)(*process)->admin("GET", "/ready");  // admin:debug logs each request
        auto contents = readFile(log);
        return contents.ok() && absl::StrContains(*contents, "[debug][admin] GET /ready");
      },
      std::chrono::seconds(10)));
  EXPECT_EQ((*process)->stop(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace waystone::test
