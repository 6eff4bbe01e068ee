// Request mirroring (route request_mirror_policies) through the real binary: a main and a mirror
// ScriptedBackend on loopback. The mirror gets a copy with the "-shadow" host; the client always
// gets the main backend's answer, whether the mirror answers, hangs or is down.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <netinet/in.h>
#include <sys/socket.h>

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/http/scripted_backend.h"
#include "test/test_common/file_descriptor.h"
#include "test/test_common/http_client.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

using std::chrono::seconds;

// A loopback port that refuses connections: bound for the test's life (so nobody else takes it)
// but not listening.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    EXPECT_TRUE(fd_.valid());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  uint16_t port() const { return port_; }

 private:
  FileDescriptor fd_;
  uint16_t port_ = 0;
};

class MirrorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto main = ScriptedBackend::start("main");
    ASSERT_TRUE(main.ok()) << main.status();
    main_ = std::move(*main);
    auto mirror = ScriptedBackend::start("mirror");
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    mirror_ = std::move(*mirror);
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("main", {main_->port()});
    bootstrap.addCluster("mirror", {mirror_->port()});
    bootstrap.addCluster("dead", {dead_.port()});  // the mirror that is down
    bootstrap.setRouteConfig(R"(
      virtual_hosts:
      - name: default
        domains: ["*"]
        routes:
        - match: { prefix: "/down" }
          route:
            cluster: main
            request_mirror_policies: [{ cluster: dead }]
        - match: { prefix: "/nowhere" }
          route:
            cluster: main
            request_mirror_policies: [{ cluster: no-such-cluster }]
        - match: { prefix: "/" }
          route:
            cluster: main
            request_mirror_policies: [{ cluster: mirror }]
    )");
    auto proxy = HttpProxy::start(bootstrap);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  uint64_t clusterStat(absl::string_view cluster, absl::string_view name) {
    return proxy_->clusterStat(cluster, name).value_or(~uint64_t{0});
  }

  RefusingPort dead_;
  std::unique_ptr<ScriptedBackend> main_;
  std::unique_ptr<ScriptedBackend> mirror_;
  std::unique_ptr<HttpProxy> proxy_;
};

TEST_F(MirrorIntegrationTest, MirrorSeesTheRequestWithTheShadowHost) {
  HttpClient client = proxy_->client();
  auto response =
      client.request("POST", "/orders?id=7", {{"Host", "shop.example.com"}}, "order body");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "main: POST /orders?id=7");

  ASSERT_TRUE(waitFor([&] { return mirror_->requestCount() == 1; }, seconds(10)));
  const TestHttpRequest mirrored = mirror_->lastRequest()->request;
  EXPECT_EQ(mirrored.method, "POST");
  EXPECT_EQ(mirrored.path, "/orders?id=7");
  EXPECT_EQ(mirrored.header("host"), "shop.example.com-shadow");
  EXPECT_EQ(mirrored.header("x-envoy-internal"), "true");
  EXPECT_EQ(mirrored.body, "order body");
  EXPECT_EQ(main_->lastRequest()->request.header("host"), "shop.example.com");

  // Counted like any upstream request, on the mirror cluster's stats.
  EXPECT_TRUE(proxy_->waitForStat("cluster.mirror.upstream_rq_completed", 1));
  EXPECT_EQ(clusterStat("mirror", "upstream_rq_total"), 1u);
  EXPECT_EQ(clusterStat("mirror", "upstream_rq_2xx"), 1u);
  EXPECT_EQ(clusterStat("main", "upstream_rq_total"), 1u);
}

TEST_F(MirrorIntegrationTest, ClientGetsTheMainAnswerWhileTheMirrorHangs) {
  // The mirror holds its answer until released: had the proxy waited for it, the client would
  // not get a response at all.
  mirror_->setDefault(BackendResponse::hold(200, "late mirror"));
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/slow", {{"Host", "app:8080"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "main: GET /slow");
  ASSERT_TRUE(waitFor([&] { return mirror_->heldCount() == 1; }, seconds(10)));
  EXPECT_EQ(mirror_->lastRequest()->request.header("host"), "app-shadow:8080");
  EXPECT_EQ(proxy_->clusterStat("mirror", "upstream_rq_completed").value_or(0), 0u);

  // The mirror's late answer is read and discarded.
  mirror_->releaseHeld();
  EXPECT_TRUE(proxy_->waitForStat("cluster.mirror.upstream_rq_completed", 1));
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 1u);
}

// A mirror still waiting for its answer when the proxy stops is reset with its worker: the
// process exits cleanly (no crash on a mirror that outlived its stream and its listener).
TEST_F(MirrorIntegrationTest, ShutdownWithAMirrorInFlightIsClean) {
  mirror_->setDefault(BackendResponse::hang());
  HttpClient client = proxy_->client();
  auto response = client.request("POST", "/pending", {}, "body");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  ASSERT_TRUE(waitFor([&] { return mirror_->requestCount() == 1; }, seconds(10)));
  EXPECT_EQ(proxy_->stat("cluster.mirror.upstream_rq_active"), 1u);
  EXPECT_EQ(proxy_->process().stop(), 0);
}

TEST_F(MirrorIntegrationTest, ClientGetsTheMainAnswerWhenTheMirrorIsDown) {
  HttpClient client = proxy_->client();
  auto response = client.request("POST", "/down", {}, "payload");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "main: POST /down");
  EXPECT_TRUE(proxy_->waitForStat("cluster.dead.upstream_cx_connect_fail", 1));
  EXPECT_EQ(main_->lastRequest()->request.body, "payload");
  EXPECT_EQ(proxy_->httpStat("downstream_rq_5xx"), 0u);
}

TEST_F(MirrorIntegrationTest, UnknownMirrorClusterIsCounted) {
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/nowhere");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(proxy_->httpStat("mirror_no_cluster"), 1u);
  EXPECT_EQ(mirror_->requestCount(), 0u);
}

}  // namespace
}  // namespace waystone::test
