// Outlier detection through the real binary: a two-host cluster where one host answers 5xx is
// ejected after consecutive_5xx failures (traffic then goes only to the good host) and comes back
// once its ejection time is over and it behaves.

#include <memory>
#include <string>

#include "gtest/gtest.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/http/scripted_backend.h"
#include "test/test_common/http_client.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

using std::chrono::seconds;

constexpr char kEjections[] = "cluster.svc.outlier_detection.ejections_active";

class OutlierDetectionIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto good = ScriptedBackend::start("good");
    ASSERT_TRUE(good.ok()) << good.status();
    good_ = std::move(*good);
    auto bad = ScriptedBackend::start("bad");
    ASSERT_TRUE(bad.ok()) << bad.status();
    bad_ = std::move(*bad);
  }

  void startProxy() {
    ClusterOptions cluster;
    // max_ejection_percent: Envoy's default of 10% would never eject one host of two.
    // base_ejection_time leaves the test ample time to see the ejection before the return.
    cluster.extra_yaml = R"(
      outlier_detection:
        consecutive_5xx: 3
        interval: 0.1s
        base_ejection_time: 2s
        max_ejection_percent: 50
    )";
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("svc", {good_->port(), bad_->port()}, cluster);
    // One worker: one round-robin sequence, so the bad host gets every other request.
    auto proxy = HttpProxy::start(bootstrap, /*concurrency=*/1);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  // One request through the proxy; its status (0 if it failed).
  int get() {
    HttpClient client = proxy_->client();
    auto response = client.request("GET", "/");
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->status : 0;
  }

  uint64_t stat(absl::string_view name) { return proxy_->stat(name).value_or(~uint64_t{0}); }

  std::unique_ptr<ScriptedBackend> good_;
  std::unique_ptr<ScriptedBackend> bad_;
  std::unique_ptr<HttpProxy> proxy_;
};

TEST_F(OutlierDetectionIntegrationTest, BadHostIsEjectedAndReturns) {
  bad_->setDefault(BackendResponse::respond(503, "broken"));
  ASSERT_NO_FATAL_FAILURE(startProxy());
  EXPECT_EQ(stat(kEjections), 0u);

  // Requests alternate between the hosts until the bad one has failed three times in a row.
  ASSERT_TRUE(waitFor(
      [&] {
        get();
        return stat(kEjections) == 1;
      },
      seconds(10)));
  EXPECT_EQ(bad_->requestCount(), 3u);
  EXPECT_EQ(stat("cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx"), 1u);

  // Ejected: every request goes to the good host. (The bad host is fixed at once, so that a
  // request reaching it would show up as a count, not as a failure.)
  bad_->setDefault(BackendResponse::respond(200, "fixed"));
  const uint64_t good_before = good_->requestCount();
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(get(), 200);
  }
  EXPECT_EQ(stat(kEjections), 1u);
  EXPECT_EQ(bad_->requestCount(), 3u);
  EXPECT_EQ(good_->requestCount(), good_before + 6);

  // After base_ejection_time the interval sweep returns it, and it gets traffic again.
  ASSERT_TRUE(waitFor([&] { return stat(kEjections) == 0; }, seconds(10)));
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(get(), 200);
  }
  EXPECT_EQ(bad_->requestCount(), 3u + 3u);
  EXPECT_EQ(good_->requestCount(), good_before + 6 + 3);
}

}  // namespace
}  // namespace waystone::test
