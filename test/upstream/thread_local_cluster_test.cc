// One worker's view of a cluster: membership updates swap its load balancer, keep the pools of
// hosts that stay and drain those of hosts that leave (real connections to real backends on
// loopback); ORIGINAL_DST clusters make per-worker hosts from each request.

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/header_map.h"
#include "source/common/protobuf/message_loader.h"
#include "source/common/stats/store.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/load_balancer/load_balancer_context_base.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/integration/http/scripted_backend.h"
#include "test/test_common/wait_for.h"

namespace waystone::upstream {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using test::BackendResponse;
using test::ScriptedBackend;

// One GET through a pool; records the response.
class TestRequest : public http::ResponseDecoder, public http::PoolCallbacks {
 public:
  void decode1xxHeaders(http::ResponseHeaderMapPtr&&) override {}
  void decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) override {
    status = headers->status();
    complete = end_stream;
  }
  void decodeData(buffer::Instance& data, bool end_stream) override {
    body += data.toString();
    data.drain(data.length());
    complete = end_stream;
  }
  void decodeTrailers(http::ResponseTrailerMapPtr&&) override { complete = true; }
  void onPoolFailure(http::PoolFailureReason, absl::string_view details,
                     const HostConstSharedPtr&) override {
    failure = std::string(details);
  }
  void onPoolReady(http::RequestEncoder& encoder, const HostConstSharedPtr&) override {
    const http::RequestHeaderMap headers{
        {":method", "GET"}, {":path", "/"}, {":authority", "backend"}, {":scheme", "http"}};
    EXPECT_TRUE(encoder.encodeHeaders(headers, true).ok());
  }

  uint64_t status = 0;
  std::string body;
  bool complete = false;
  std::string failure;
};

// What an ORIGINAL_DST pick sees of the request.
class TestContext : public lb::LoadBalancerContextBase {
 public:
  network::address::InstanceConstSharedPtr downstreamLocalAddress() const override { return local; }
  const http::HeaderMap* downstreamHeaders() const override { return &headers; }
  const stream_info::StreamInfo* requestStreamInfo() const override { return request_info; }
  const stream_info::StreamInfo* downstreamConnectionStreamInfo() const override {
    return connection_info;
  }

  network::address::InstanceConstSharedPtr local;
  http::HeaderMap headers;
  const stream_info::StreamInfo* request_info = nullptr;
  const stream_info::StreamInfo* connection_info = nullptr;
};

void setMetadata(stream_info::StreamInfo& info, const std::string& ns, const std::string& key,
                 const std::string& value) {
  (*(*info.dynamic_metadata.mutable_filter_metadata())[ns].mutable_fields())[key].set_string_value(
      value);
}

network::address::InstanceConstSharedPtr address(const std::string& ip_port) {
  auto parsed = network::address::parseIpAndPort(ip_port);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : nullptr;
}

class ThreadLocalClusterTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) {
      auto backend = ScriptedBackend::start(name);
      ASSERT_TRUE(backend.ok()) << backend.status();
      backends_.push_back(std::move(*backend));
    }
  }

  std::string endpoint(size_t backend) {
    return absl::StrCat("127.0.0.1:", backends_[backend]->port());
  }

  void build(const std::string& yaml) {
    Bootstrap bootstrap;
    absl::Status status = protobuf::loadFromYaml(yaml, bootstrap);
    ASSERT_TRUE(status.ok()) << status;
    auto cluster_manager = ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(cluster_manager.ok()) << cluster_manager.status();
    cluster_manager_ = std::move(*cluster_manager);
    auto workers = WorkerClusterManagers::create(*cluster_manager_, main_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    workers_ = std::move(*workers);
    workers_->addWorker(worker_, 1);
  }

  void buildStatic(const std::vector<size_t>& backends) {
    std::string yaml = R"EOF(
static_resources:
  clusters:
  - name: c
    type: STATIC
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
)EOF";
    for (size_t b : backends) {
      absl::StrAppend(&yaml,
                      "        - endpoint: { address: { socket_address: { address: 127.0.0.1, "
                      "port_value: ",
                      backends_[b]->port(), " } } }\n");
    }
    build(yaml);
  }

  ThreadLocalCluster& local(const std::string& name = "c") {
    return *workers_->forDispatcher(worker_)->get(name);
  }

  // Both loops run on the test thread; the main one delivers what workers hand back.
  bool runUntil(const std::function<bool()>& condition) {
    return test::waitFor(
        [&] {
          worker_.run(event::Dispatcher::RunType::NonBlock);
          main_.run(event::Dispatcher::RunType::NonBlock);
          return condition();
        },
        std::chrono::seconds(10), std::chrono::milliseconds(1));
  }

  // Starts a GET to `host` through the worker's pool.
  std::unique_ptr<TestRequest> start(const HostConstSharedPtr& host,
                                     const std::string& cluster = "c") {
    auto request = std::make_unique<TestRequest>();
    local(cluster).httpConnPool(host, http::Protocol::Http11).newStream(*request, *request);
    return request;
  }

  MembershipUpdate updateOf(const std::vector<size_t>& backends) {
    MembershipUpdate update;
    for (size_t b : backends) {
      MembershipUpdate::Endpoint e;
      e.address = address(endpoint(b));
      update.endpoints.push_back(e);
    }
    return update;
  }

  HostConstSharedPtr hostOf(size_t backend) {
    for (const auto& host : workers_->current("c")->hosts) {
      if (host->address()->asString() == endpoint(backend)) {
        return host;
      }
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<ScriptedBackend>> backends_;
  stats::Store store_;
  event::DispatcherImpl main_{"main"};
  event::DispatcherImpl worker_{"worker_0"};
  ClusterManagerPtr cluster_manager_;
  std::unique_ptr<WorkerClusterManagers> workers_;
};

TEST_F(ThreadLocalClusterTest, UpdateKeepsPoolsOfKeptHostsAndDrainsTheOthers) {
  buildStatic({0, 1});
  const HostConstSharedPtr a = hostOf(0);
  const HostConstSharedPtr b = hostOf(1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  // a: one connection busy with a held request, one idle; b: one idle connection.
  auto to_b = start(b);
  auto first_to_a = start(a);
  ASSERT_TRUE(runUntil([&] { return to_b->complete && first_to_a->complete; }));
  backends_[0]->enqueue(BackendResponse::hold(200, "held"));
  auto held = start(a);
  auto second_to_a = start(a);
  ASSERT_TRUE(runUntil([&] { return backends_[0]->heldCount() == 1 && second_to_a->complete; }));
  ASSERT_EQ(a->stats().cx_active.load(), 2u);
  ASSERT_EQ(b->stats().cx_active.load(), 1u);
  http::ConnPool* b_pool = &local().httpConnPool(b, http::Protocol::Http11);
  EXPECT_EQ(local().poolCount(), 2u);

  // a leaves, c joins.
  ASSERT_TRUE(workers_->updateHosts("c", updateOf({1, 2})).ok());
  EXPECT_EQ(store_.counterFromString("cluster.c.membership_change").value(), 2u);
  ASSERT_TRUE(runUntil([&] { return local().drainingPoolCount() == 1; }));
  // b's pool is the same object, a's drains: its idle connection is closed at once...
  EXPECT_EQ(local().poolCount(), 1u);
  EXPECT_EQ(&local().httpConnPool(b, http::Protocol::Http11), b_pool);
  ASSERT_TRUE(runUntil([&] { return a->stats().cx_active.load() == 1; }));
  EXPECT_EQ(b->stats().cx_active.load(), 1u);
  // ...the request in flight finishes, and then the pool is gone.
  EXPECT_FALSE(held->complete);
  backends_[0]->releaseHeld();
  ASSERT_TRUE(runUntil([&] { return held->complete && local().drainingPoolCount() == 0; }));
  EXPECT_EQ(held->status, 200u);
  EXPECT_EQ(held->body, "held");
  EXPECT_EQ(a->stats().cx_active.load(), 0u);

  // The worker's load balancer only knows b and c now; b's pool serves again.
  std::set<std::string> picked;
  for (int i = 0; i < 10; ++i) {
    picked.insert(local().chooseHost(nullptr)->address()->asString());
  }
  EXPECT_EQ(picked, (std::set<std::string>{endpoint(1), endpoint(2)}));
  auto again = start(b);
  ASSERT_TRUE(runUntil([&] { return again->complete; }));
  EXPECT_EQ(again->status, 200u);
  EXPECT_EQ(b->stats().cx_total.load(), 1u);
}

TEST_F(ThreadLocalClusterTest, AnIdlePoolOfARemovedHostGoesAtOnce) {
  buildStatic({0, 1});
  const HostConstSharedPtr a = hostOf(0);
  auto request = start(a);
  ASSERT_TRUE(runUntil([&] { return request->complete; }));
  ASSERT_TRUE(workers_->updateHosts("c", updateOf({1})).ok());
  ASSERT_TRUE(runUntil([&] {
    return local().poolCount() == 0 && local().drainingPoolCount() == 0 &&
           a->stats().cx_active.load() == 0;
  }));
  EXPECT_EQ(store_.gaugeFromString("cluster.c.membership_total").value(), 1u);
}

constexpr char kOriginalDstYaml[] = R"EOF(
static_resources:
  clusters:
  - name: od
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    cleanup_interval: 0.05s
    original_dst_lb_config: { use_http_header: true }
)EOF";

TEST_F(ThreadLocalClusterTest, OriginalDstHostsComeFromTheHeaderAndGoWhenUnused) {
  build(kOriginalDstYaml);
  TestContext to_a;
  to_a.headers.addCopy("x-envoy-original-dst-host", endpoint(0));
  TestContext to_b;
  to_b.headers.addCopy("x-envoy-original-dst-host", endpoint(1));
  const HostConstSharedPtr a = local("od").chooseHost(&to_a);
  const HostConstSharedPtr b = local("od").chooseHost(&to_b);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->address()->asString(), endpoint(0));
  EXPECT_EQ(local("od").chooseHost(&to_a), a);
  auto request = start(a, "od");
  ASSERT_TRUE(runUntil([&] { return request->complete; }));
  EXPECT_EQ(request->body, "a: GET /");
  EXPECT_EQ(local("od").originalDstHosts().size(), 2u);

  // Keep using b; a is unused and goes, with its pool.
  ASSERT_TRUE(runUntil([&] {
    local("od").chooseHost(&to_b);
    return local("od").originalDstHosts().size() == 1 && local("od").poolCount() == 0 &&
           local("od").drainingPoolCount() == 0;
  }));
  EXPECT_EQ(local("od").originalDstHosts()[0], b);
  EXPECT_EQ(a->stats().cx_active.load(), 0u);
  // A new pick makes a new host.
  EXPECT_NE(local("od").chooseHost(&to_a), a);
}

TEST_F(ThreadLocalClusterTest, OriginalDstRules) {
  build(kOriginalDstYaml);
  ThreadLocalCluster& od = local("od");
  EXPECT_EQ(od.chooseHost(nullptr), nullptr);

  // No header: the downstream connection's local address (the original destination).
  TestContext by_local;
  by_local.local = address("10.1.2.3:443");
  ASSERT_NE(od.chooseHost(&by_local), nullptr);
  EXPECT_EQ(od.chooseHost(&by_local)->address()->asString(), "10.1.2.3:443");

  // The header wins; IPv6 in brackets works.
  TestContext v6;
  v6.local = address("10.1.2.3:443");
  v6.headers.addCopy("x-envoy-original-dst-host", "[::1]:8443");
  EXPECT_EQ(od.chooseHost(&v6)->address()->asString(), "[::1]:8443");

  // Not an ip:port: no host (the router answers 503 UH), counted; no fallback.
  for (const char* bad : {"example.com:80", "10.0.0.1", "10.0.0.1:99999", "", "::1:80"}) {
    TestContext invalid;
    invalid.local = address("10.1.2.3:443");
    invalid.headers.addCopy("x-envoy-original-dst-host", bad);
    EXPECT_EQ(od.chooseHost(&invalid), nullptr) << bad;
  }
  EXPECT_EQ(store_.counterFromString("cluster.od.original_dst_host_invalid").value(), 5u);
  // Nothing to go on: no host.
  TestContext nothing;
  EXPECT_EQ(od.chooseHost(&nothing), nullptr);
}

TEST_F(ThreadLocalClusterTest, OriginalDstHeaderNameAndPortOverride) {
  build(R"EOF(
static_resources:
  clusters:
  - name: od
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    original_dst_lb_config:
      use_http_header: true
      http_header_name: X-Target
      upstream_port_override: 15008
  - name: plain
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
)EOF");
  TestContext context;
  context.local = address("10.9.9.9:80");
  context.headers.addCopy("x-envoy-original-dst-host", "10.0.0.1:80");
  context.headers.addCopy("x-target", "10.0.0.2:80");
  EXPECT_EQ(local("od").chooseHost(&context)->address()->asString(), "10.0.0.2:15008");
  // Without use_http_header the header is ignored.
  EXPECT_EQ(local("plain").chooseHost(&context)->address()->asString(), "10.9.9.9:80");
}

TEST(OriginalDstConfigTest, DefaultsAndRefusals) {
  envoy::config::cluster::v3::Cluster config;
  config.set_type(envoy::config::cluster::v3::Cluster::ORIGINAL_DST);
  auto defaults = OriginalDstConfig::fromCluster(config);
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->use_http_header);
  EXPECT_EQ(defaults->http_header_name, "x-envoy-original-dst-host");
  EXPECT_FALSE(defaults->port_override.has_value());
  EXPECT_EQ(defaults->cleanup_interval, std::chrono::milliseconds(5000));

  auto* key = config.mutable_original_dst_lb_config()->mutable_metadata_key();
  key->set_key("envoy.filters.listener.original_dst");
  key->add_path()->set_key("waypoint");
  auto metadata = OriginalDstConfig::fromCluster(config);
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_EQ(metadata->metadata_namespace, "envoy.filters.listener.original_dst");
  EXPECT_EQ(metadata->metadata_path, std::vector<std::string>{"waypoint"});

  key->add_path();  // a path element without a key
  auto bad = OriginalDstConfig::fromCluster(config);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "original_dst_lb_config.metadata_key.path[1].key: required");
}

// istiod's connect_originate: metadata_key {key: envoy.filters.listener.original_dst, path:
// [waypoint]} with port override 15008; the restored local address otherwise.
TEST_F(ThreadLocalClusterTest, OriginalDstMetadataKeyAndRestoredAddress) {
  build(R"EOF(
static_resources:
  clusters:
  - name: od
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    original_dst_lb_config:
      upstream_port_override: 15008
      metadata_key:
        key: envoy.filters.listener.original_dst
        path: [{key: waypoint}]
)EOF");
  ThreadLocalCluster& od = local("od");
  stream_info::StreamInfo connection;
  connection.downstream_local_address_restored = true;
  TestContext context;
  context.local = address("10.0.2.3:9080");
  context.connection_info = &connection;
  // No "waypoint" key: the restored local address, port overridden.
  EXPECT_EQ(od.chooseHost(&context)->address()->asString(), "10.0.2.3:15008");

  // The connection's metadata names a waypoint: it wins.
  setMetadata(connection, "envoy.filters.listener.original_dst", "waypoint", "10.0.9.9:15008");
  EXPECT_EQ(od.chooseHost(&context)->address()->asString(), "10.0.9.9:15008");
  // The request's metadata comes first.
  stream_info::StreamInfo request;
  setMetadata(request, "envoy.filters.listener.original_dst", "waypoint", "10.0.7.7:1");
  context.request_info = &request;
  EXPECT_EQ(od.chooseHost(&context)->address()->asString(), "10.0.7.7:15008");
  // Garbage in the metadata: no host, counted.
  setMetadata(request, "envoy.filters.listener.original_dst", "waypoint", "not-an-address");
  EXPECT_EQ(od.chooseHost(&context), nullptr);
  EXPECT_EQ(store_.counterFromString("cluster.od.original_dst_host_invalid").value(), 1u);

  // An unrestored local address is the listener's own: no host rather than a loop.
  TestContext unrestored;
  stream_info::StreamInfo plain;
  unrestored.local = address("127.0.0.1:10000");
  unrestored.connection_info = &plain;
  EXPECT_EQ(od.chooseHost(&unrestored), nullptr);
}

}  // namespace
}  // namespace waystone::upstream
