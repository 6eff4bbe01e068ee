// The admin API of the real binary, endpoint by endpoint, in Envoy's shapes.

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "test/integration/integration_util.h"
#include "test/test_common/http_client.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

using ::testing::HasSubstr;

class AdminIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = TestHttpServer::start();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    auto process = WaystoneProcess::start({tcpProxyBootstrap(backend_->port())});
    ASSERT_TRUE(process.ok()) << process.status();
    waystone_ = std::move(*process);
    ASSERT_TRUE(waystone_->waitReady(std::chrono::seconds(20))) << waystone_->logs();
  }

  HttpResponse admin(absl::string_view method, absl::string_view path) {
    auto response = waystone_->admin(method, path);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  std::unique_ptr<TestHttpServer> backend_;
  std::unique_ptr<WaystoneProcess> waystone_;
};

TEST_F(AdminIntegrationTest, ReadyIsLive) {
  HttpResponse r = admin("GET", "/ready");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "LIVE\n");
}

TEST_F(AdminIntegrationTest, StatsHaveWhatPilotAgentReadinessReads) {
  HttpResponse r = admin("GET", "/stats");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("server.state: 0\n"));
  EXPECT_THAT(r.body, HasSubstr("listener_manager.workers_started: 1\n"));
  EXPECT_THAT(r.body, HasSubstr("cluster_manager.cds.update_success: 1\n"));
  EXPECT_THAT(r.body, HasSubstr("cluster_manager.cds.update_rejected: 0\n"));
  EXPECT_THAT(r.body, HasSubstr("listener_manager.lds.update_success: 1\n"));
  EXPECT_THAT(r.body, HasSubstr("listener_manager.lds.update_rejected: 0\n"));
  EXPECT_THAT(r.body, HasSubstr("server.concurrency: 2\n"));
  EXPECT_THAT(r.body, HasSubstr("listener_manager.total_listeners_active: 1\n"));
}

// pilot-agent sends its regex unescaped (Go keeps the raw query): the parser must accept it.
TEST_F(AdminIntegrationTest, PilotAgentRawQueryIsAccepted) {
  HttpClient client("127.0.0.1", waystone_->adminPort());
  auto r =
      client.get("/stats?usedonly&filter=^(server\\.state|listener_manager\\.workers_started)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "listener_manager.workers_started: 1\nserver.state: 0\n");

  r = client.get(
      "/stats?usedonly&filter=^(cluster_manager\\.cds|listener_manager\\.lds)\\.("
      "update_success|update_rejected)$");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->body, HasSubstr("cluster_manager.cds.update_success: 1\n"));
  EXPECT_THAT(r->body, HasSubstr("listener_manager.lds.update_success: 1\n"));
  // usedonly: rejections never happened, so they are not listed.
  EXPECT_FALSE(absl::StrContains(r->body, "update_rejected"));
}

TEST_F(AdminIntegrationTest, StatsFilterAndFormats) {
  HttpResponse r = admin("GET", "/stats?filter=%5Eserver%5C.live%24");
  EXPECT_EQ(r.body, "server.live: 1\n");

  r = admin("GET", "/stats?filter=(");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Invalid re2 regex"));

  r = admin("GET", "/stats?format=json&filter=%5Eserver%5C.state%24");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_THAT(r.body, HasSubstr("\"name\":\"server.state\""));
  EXPECT_THAT(r.body, HasSubstr("\"stats\""));

  r = admin("GET", "/stats?format=yaml");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AdminIntegrationTest, Prometheus) {
  HttpResponse r = admin("GET", "/stats/prometheus");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("# TYPE envoy_server_state gauge\nenvoy_server_state{} 0\n"));
  EXPECT_THAT(r.body,
              HasSubstr("envoy_cluster_upstream_cx_total{envoy_cluster_name=\"backend\"} "));
  EXPECT_THAT(r.body, HasSubstr("envoy_listener_downstream_cx_total{envoy_listener_address="
                                "\"127.0.0.1_"));
}

TEST_F(AdminIntegrationTest, ServerInfo) {
  HttpResponse r = admin("GET", "/server_info");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_THAT(r.body, HasSubstr("\"state\": \"LIVE\""));
  EXPECT_THAT(r.body, HasSubstr("\"version\": \"waystone/"));
  EXPECT_THAT(r.body, HasSubstr("\"concurrency\": 2"));
  EXPECT_THAT(r.body, HasSubstr("\"id\": \"integration-test\""));
  EXPECT_THAT(r.body, HasSubstr("\"uptime_current_epoch\""));
}

TEST_F(AdminIntegrationTest, ConfigDumpHasEnvoySections) {
  HttpResponse r = admin("GET", "/config_dump");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body,
              HasSubstr("\"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\""));
  EXPECT_THAT(r.body,
              HasSubstr("\"@type\": \"type.googleapis.com/envoy.admin.v3.ListenersConfigDump\""));
  EXPECT_THAT(r.body,
              HasSubstr("\"@type\": \"type.googleapis.com/envoy.admin.v3.ClustersConfigDump\""));
  EXPECT_THAT(r.body, HasSubstr("\"static_listeners\""));
  EXPECT_THAT(r.body, HasSubstr("\"stat_prefix\": \"proxy\""));

  r = admin("GET", "/config_dump?resource=static_clusters");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"name\": \"backend\""));
  EXPECT_FALSE(absl::StrContains(r.body, "BootstrapConfigDump"));
}

TEST_F(AdminIntegrationTest, ListenersAndClusters) {
  HttpResponse r = admin("GET", "/listeners");
  EXPECT_TRUE(absl::StartsWith(r.body, "proxy::127.0.0.1:")) << r.body;
  r = admin("GET", "/listeners?format=json");
  EXPECT_THAT(r.body, HasSubstr("\"listener_statuses\""));
  EXPECT_THAT(r.body, HasSubstr("\"name\": \"proxy\""));

  r = admin("GET", "/clusters");
  const std::string host = absl::StrCat("backend::127.0.0.1:", backend_->port(), "::");
  EXPECT_THAT(r.body, HasSubstr(host + "cx_active::0\n"));
  EXPECT_THAT(r.body, HasSubstr(host + "health_flags::healthy\n"));
  r = admin("GET", "/clusters?format=json");
  EXPECT_THAT(r.body, HasSubstr("\"cluster_statuses\""));
  EXPECT_THAT(r.body, HasSubstr("\"port_value\": " + std::to_string(backend_->port())));
}

TEST_F(AdminIntegrationTest, LoggingLevels) {
  HttpResponse r = admin("GET", "/logging");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("  admin: info\n"));
  r = admin("POST", "/logging?admin=debug");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("  admin: debug\n"));
  r = admin("POST", "/logging?level=warning");
  EXPECT_THAT(r.body, HasSubstr("  upstream: warning\n"));
  r = admin("POST", "/logging?level=loud");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("loud"));
  r = admin("POST", "/logging?nosuchcomponent=info");
  EXPECT_EQ(r.status, 400);
  r = admin("GET", "/logging?level=debug");
  EXPECT_EQ(r.status, 405);
}

TEST_F(AdminIntegrationTest, MutatingEndpointsNeedPost) {
  for (const char* path : {"/quitquitquit", "/drain_listeners", "/healthcheck/fail"}) {
    HttpResponse r = admin("GET", path);
    EXPECT_EQ(r.status, 405) << path;
  }
  // Still running and live.
  EXPECT_EQ(admin("GET", "/ready").status, 200);
}

TEST_F(AdminIntegrationTest, HelpAndUnknownPath) {
  HttpResponse r = admin("GET", "/help");
  EXPECT_EQ(r.status, 200);
  for (const char* path : {"/ready", "/stats", "/stats/prometheus", "/config_dump", "/listeners",
                           "/clusters", "/drain_listeners", "/quitquitquit", "/server_info",
                           "/logging", "/healthcheck/fail", "/healthcheck/ok"}) {
    EXPECT_THAT(r.body, HasSubstr(absl::StrCat("  ", path, ": "))) << path;
  }
  r = admin("GET", "/nope");
  EXPECT_EQ(r.status, 404);
}

TEST_F(AdminIntegrationTest, HealthCheckFailAndOk) {
  EXPECT_EQ(admin("POST", "/healthcheck/fail").body, "OK\n");
  EXPECT_EQ(admin("POST", "/healthcheck/ok").body, "OK\n");
}

TEST_F(AdminIntegrationTest, MalformedAndOversizedRequestsAreRefused) {
  constexpr auto kTimeout = std::chrono::seconds(5);
  auto fd = connectTcp("127.0.0.1", waystone_->adminPort(), kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(sendAll(fd->get(), "GARBAGE\r\n\r\n", kTimeout).ok());
  auto reply = receiveSome(fd->get(), kTimeout);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(absl::StartsWith(*reply, "HTTP/1.1 400")) << *reply;

  auto fd2 = connectTcp("127.0.0.1", waystone_->adminPort(), kTimeout);
  ASSERT_TRUE(fd2.ok());
  std::string huge =
      absl::StrCat("GET /ready HTTP/1.1\r\nx-big: ", std::string(70 * 1024, 'a'), "\r\n\r\n");
  // The server may answer and close before it has read everything: ignore send errors.
  (void)sendAll(fd2->get(), huge, kTimeout);
  auto reply2 = receiveSome(fd2->get(), kTimeout);
  ASSERT_TRUE(reply2.ok()) << reply2.status();
  EXPECT_TRUE(absl::StartsWith(*reply2, "HTTP/1.1 431")) << *reply2;

  // The server is unharmed.
  EXPECT_EQ(admin("GET", "/ready").status, 200);
}

TEST_F(AdminIntegrationTest, KeepAliveServesSeveralRequests) {
  HttpClient client("127.0.0.1", waystone_->adminPort());
  for (int i = 0; i < 3; ++i) {
    auto r = client.request("GET", "/ready", {{"Connection", "keep-alive"}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(client.connected());
  }
}

TEST_F(AdminIntegrationTest, QuitQuitQuitExitsCleanly) {
  EXPECT_EQ(admin("POST", "/quitquitquit").body, "OK\n");
  auto status = waystone_->process().waitForExit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << waystone_->logs();
  EXPECT_EQ(*status, 0);
}

TEST(AdminIdentityTest, ServiceFlagsOverrideTheNode) {
  WaystoneOptions options{tcpProxyBootstrap(1)};
  options.extra_args = {"--service-node",    "node-from-flag", "--service-cluster",
                        "cluster-from-flag", "--service-zone", "zone-a"};
  auto process = WaystoneProcess::start(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  auto r = (*process)->admin("GET", "/server_info");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->body, HasSubstr("\"id\": \"node-from-flag\""));
  EXPECT_THAT(r->body, HasSubstr("\"cluster\": \"cluster-from-flag\""));
  EXPECT_THAT(r->body, HasSubstr("\"zone\": \"zone-a\""));
}

TEST_F(AdminIntegrationTest, MemoryAndCerts) {
  HttpResponse r = admin("GET", "/memory");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"allocated\""));
  r = admin("GET", "/certs");
  EXPECT_THAT(r.body, HasSubstr("\"certificates\""));
}

}  // namespace
}  // namespace waystone::test
