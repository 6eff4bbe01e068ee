// DNS re-resolution of STRICT_DNS and LOGICAL_DNS clusters: the refresher on the main thread,
// the resolutions on the resolver thread, the new hosts published through
// WorkerClusterManagers::updateHosts() to the workers. A fake resolver stands in for /etc/hosts
// (tests cannot edit it); one test goes through getaddrinfo with "localhost".

#include "source/upstream/dns_cluster_refresher.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/protobuf/message_loader.h"
#include "source/common/stats/store.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/getaddrinfo_dns_resolver.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/test_common/wait_for.h"
#include "test/upstream/fake_dns_resolver.h"

namespace waystone::upstream {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using std::chrono::milliseconds;

// A STRICT_DNS cluster of one name; refreshes only when the test asks (1 h timers).
constexpr char kStrictYaml[] = R"EOF(
static_resources:
  clusters:
  - name: dns
    type: STRICT_DNS
    dns_refresh_rate: 3600s
    load_assignment:
      cluster_name: dns
      endpoints:
      - locality: { zone: z1 }
        lb_endpoints:
        - endpoint:
            address: { socket_address: { address: backend.test, port_value: 8080 } }
          load_balancing_weight: 4
)EOF";

class DnsRefreshTest : public testing::Test {
 protected:
  absl::Status build(const std::string& yaml, DnsResolverSharedPtr resolver = nullptr) {
    Bootstrap bootstrap;
    absl::Status status = protobuf::loadFromYaml(yaml, bootstrap);
    EXPECT_TRUE(status.ok()) << status;
    auto cluster_manager =
        ClusterManager::create(bootstrap, store_, resolver != nullptr ? resolver : resolver_);
    if (!cluster_manager.ok()) {
      return cluster_manager.status();
    }
    cluster_manager_ = std::move(*cluster_manager);
    auto workers = WorkerClusterManagers::create(*cluster_manager_, main_);
    if (!workers.ok()) {
      return workers.status();
    }
    workers_ = std::move(*workers);
    return absl::OkStatus();
  }

  // Runs the main loop (where resolution results arrive by post) until `condition` holds.
  bool runUntil(const std::function<bool()>& condition) {
    return test::waitFor(
        [&] {
          main_.run(event::Dispatcher::RunType::NonBlock);
          return condition();
        },
        std::chrono::seconds(10), milliseconds(1));
  }

  uint64_t counter(const std::string& name) {
    return store_.counterFromString("cluster.dns." + name).value();
  }
  uint64_t gauge(const std::string& name) {
    return store_.gaugeFromString("cluster.dns." + name).value();
  }
  // The hosts WorkerClusterManagers publishes now.
  std::vector<std::string> current(const std::string& cluster = "dns") {
    std::vector<std::string> out;
    for (const auto& host : workers_->current(cluster)->hosts) {
      out.push_back(host->address()->asString());
    }
    return out;
  }
  // Refreshes now and waits for the answer.
  void refresh(const std::string& cluster = "dns") {
    const uint64_t done =
        store_.counterFromString("cluster." + cluster + ".update_success").value() +
        store_.counterFromString("cluster." + cluster + ".update_failure").value();
    workers_->dnsRefresher(cluster)->refreshNow();
    ASSERT_TRUE(runUntil([&] {
      return store_.counterFromString("cluster." + cluster + ".update_success").value() +
                 store_.counterFromString("cluster." + cluster + ".update_failure").value() >
             done;
    }));
  }

  stats::Store store_;
  event::DispatcherImpl main_{"main"};
  std::shared_ptr<FakeDnsResolver> resolver_ = std::make_shared<FakeDnsResolver>();
  ClusterManagerPtr cluster_manager_;
  std::unique_ptr<WorkerClusterManagers> workers_;
};

TEST_F(DnsRefreshTest, StartUpResolutionCountsAsTheFirstUpdate) {
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.2"});
  ASSERT_TRUE(build(kStrictYaml).ok());
  EXPECT_EQ(current(), (std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080"}));
  EXPECT_EQ(counter("update_attempt"), 1u);
  EXPECT_EQ(counter("update_success"), 1u);
  EXPECT_EQ(counter("membership_change"), 1u);
  EXPECT_EQ(gauge("membership_total"), 2u);
  EXPECT_EQ(gauge("membership_healthy"), 2u);
  // The published hosts are the ones the cluster was built with, named after the DNS name.
  EXPECT_EQ(workers_->current("dns")->hosts[0], cluster_manager_->get("dns")->hosts()[0]);
  EXPECT_EQ(workers_->current("dns")->hosts[0]->hostname(), "backend.test");
  EXPECT_EQ(workers_->current("dns")->hosts[0]->weight(), 4u);
  ASSERT_NE(workers_->dnsRefresher("dns"), nullptr);
  EXPECT_EQ(workers_->dnsRefresher("dns")->refreshRate(), std::chrono::seconds(3600));
}

TEST_F(DnsRefreshTest, UnresolvableAtStartUpIsAConfigError) {
  resolver_->fail("backend.test");
  absl::Status status = build(kStrictYaml);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
            "address.socket_address.address: cannot resolve \"backend.test\": Temporary failure "
            "in name resolution");
}

TEST_F(DnsRefreshTest, ANewAnswerReplacesTheHostsAndKeepsTheOnesThatStay) {
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.2"});
  ASSERT_TRUE(build(kStrictYaml).ok());
  const HostConstSharedPtr kept = workers_->current("dns")->hosts[1];

  resolver_->set("backend.test", {"10.0.0.2", "10.0.0.3"});
  refresh();
  EXPECT_EQ(current(), (std::vector<std::string>{"10.0.0.2:8080", "10.0.0.3:8080"}));
  EXPECT_EQ(workers_->current("dns")->hosts[0], kept);
  EXPECT_EQ(workers_->current("dns")->hosts[1]->hostname(), "backend.test");
  EXPECT_EQ(workers_->current("dns")->hosts[1]->locality().zone(), "z1");
  EXPECT_EQ(counter("update_attempt"), 2u);
  EXPECT_EQ(counter("update_success"), 2u);
  EXPECT_EQ(counter("membership_change"), 2u);
  EXPECT_EQ(gauge("membership_total"), 2u);
  // Cluster::hosts() stays what the cluster started with.
  EXPECT_EQ(cluster_manager_->get("dns")->hosts()[0]->address()->asString(), "10.0.0.1:8080");

  // The start-up resolution ran on the main thread (before any loop); the refresh did not.
  const std::vector<std::thread::id> threads = resolver_->threads();
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0], std::this_thread::get_id());
  EXPECT_NE(threads[1], std::this_thread::get_id());
}

TEST_F(DnsRefreshTest, TheSameAddressesInAnotherOrderPublishNothing) {
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.2"});
  ASSERT_TRUE(build(kStrictYaml).ok());
  const ClusterLoadBalancingConstSharedPtr before = workers_->current("dns");
  resolver_->set("backend.test", {"10.0.0.2", "10.0.0.1"});
  refresh();
  EXPECT_EQ(workers_->current("dns"), before);
  EXPECT_EQ(counter("update_no_rebuild"), 1u);
  EXPECT_EQ(counter("membership_change"), 1u);
}

TEST_F(DnsRefreshTest, AFailureKeepsTheHostsAndBacksOff) {
  resolver_->set("backend.test", {"10.0.0.1"});
  ASSERT_TRUE(build(std::string(kStrictYaml) +
                    "    dns_failure_refresh_rate: { base_interval: 1s, max_interval: 3s }\n")
                  .ok());
  DnsClusterRefresher& refresher = *workers_->dnsRefresher("dns");
  EXPECT_EQ(refresher.nextFailureDelay(), milliseconds(1000));
  resolver_->fail("backend.test");
  refresh();
  EXPECT_EQ(counter("update_failure"), 1u);
  EXPECT_EQ(current(), std::vector<std::string>{"10.0.0.1:8080"});
  EXPECT_EQ(refresher.nextFailureDelay(), milliseconds(2000));
  refresh();
  EXPECT_EQ(refresher.nextFailureDelay(), milliseconds(3000));
  refresh();
  EXPECT_EQ(refresher.nextFailureDelay(), milliseconds(3000));
  EXPECT_EQ(counter("update_failure"), 3u);
  EXPECT_EQ(counter("membership_change"), 1u);
  // A success resets the backoff.
  resolver_->set("backend.test", {"10.0.0.1"});
  refresh();
  EXPECT_EQ(refresher.nextFailureDelay(), milliseconds(1000));
}

TEST_F(DnsRefreshTest, WithoutAFailureRateFailuresRetryAtTheRefreshRate) {
  resolver_->set("backend.test", {"10.0.0.1"});
  ASSERT_TRUE(build(kStrictYaml).ok());
  resolver_->fail("backend.test");
  refresh();
  EXPECT_EQ(workers_->dnsRefresher("dns")->nextFailureDelay(), std::chrono::seconds(3600));
}

TEST_F(DnsRefreshTest, ANameThatStoppedExistingEmptiesAStrictDnsCluster) {
  resolver_->set("backend.test", {"10.0.0.1"});
  ASSERT_TRUE(build(kStrictYaml).ok());
  // NXDOMAIN is an answer (Envoy's resolvers treat it so), not a failure.
  resolver_->set("backend.test", {});
  refresh();
  EXPECT_TRUE(current().empty());
  EXPECT_EQ(gauge("membership_total"), 0u);
  EXPECT_EQ(counter("update_success"), 2u);
  EXPECT_EQ(counter("membership_change"), 2u);
}

constexpr char kLogicalYaml[] = R"EOF(
static_resources:
  clusters:
  - name: dns
    type: LOGICAL_DNS
    dns_refresh_rate: 3600s
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: backend.test, port_value: 80 } }
)EOF";

TEST_F(DnsRefreshTest, LogicalDnsFollowsTheFirstAddressAndIgnoresEmptyAnswers) {
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.2"});
  ASSERT_TRUE(build(kLogicalYaml).ok());
  EXPECT_EQ(current(), std::vector<std::string>{"10.0.0.1:80"});
  // Another address behind the first: nothing changes.
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.9"});
  refresh();
  EXPECT_EQ(current(), std::vector<std::string>{"10.0.0.1:80"});
  EXPECT_EQ(counter("membership_change"), 1u);
  resolver_->set("backend.test", {"10.0.0.7", "10.0.0.1"});
  refresh();
  EXPECT_EQ(current(), std::vector<std::string>{"10.0.0.7:80"});
  EXPECT_EQ(counter("membership_change"), 2u);
  // An empty answer is a failure for LOGICAL_DNS: the host stays.
  resolver_->set("backend.test", {});
  refresh();
  EXPECT_EQ(current(), std::vector<std::string>{"10.0.0.7:80"});
  EXPECT_EQ(counter("update_failure"), 1u);
}

TEST_F(DnsRefreshTest, TimersRefreshOnTheirOwn) {
  resolver_->set("backend.test", {"10.0.0.1"});
  std::string yaml = kStrictYaml;
  yaml.replace(yaml.find("3600s"), 5, "0.01s");
  ASSERT_TRUE(build(yaml).ok());
  ASSERT_TRUE(runUntil([&] { return counter("update_no_rebuild") >= 2; }));
  resolver_->set("backend.test", {"10.0.0.5"});
  ASSERT_TRUE(runUntil([&] { return current() == std::vector<std::string>{"10.0.0.5:8080"}; }));
  EXPECT_GE(counter("update_attempt"), 4u);
  EXPECT_EQ(counter("update_failure"), 0u);
}

TEST_F(DnsRefreshTest, LocalhostThroughGetaddrinfo) {
  ASSERT_TRUE(build(R"EOF(
static_resources:
  clusters:
  - name: dns
    type: STRICT_DNS
    dns_refresh_rate: 0.01s
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: 4242 } }
)EOF",
                    GetaddrinfoDnsResolver::instance())
                  .ok());
  const std::vector<std::string> initial = current();
  ASSERT_FALSE(initial.empty());
  ASSERT_TRUE(runUntil([&] { return counter("update_success") >= 3; }));
  // localhost keeps resolving to the same addresses: refreshes that publish nothing.
  EXPECT_GE(counter("update_no_rebuild"), 2u);
  EXPECT_EQ(counter("update_failure"), 0u);
  EXPECT_EQ(counter("membership_change"), 1u);
  EXPECT_EQ(current(), initial);
}

TEST_F(DnsRefreshTest, WorkersSwitchToTheNewHostsByPost) {
  resolver_->set("backend.test", {"10.0.0.1"});
  ASSERT_TRUE(build(kStrictYaml).ok());
  event::DispatcherImpl worker("worker_0");
  workers_->addWorker(worker, 1);
  std::thread thread([&] { worker.run(event::Dispatcher::RunType::RunUntilExit); });

  // What the worker's load balancer picks, asked on the worker.
  auto picks = [&] {
    absl::Mutex mutex;
    std::set<std::string> seen;
    bool done = false;
    worker.post([&] {
      ThreadLocalCluster* cluster = workers_->forDispatcher(worker)->get("dns");
      std::set<std::string> local;
      for (int i = 0; i < 8; ++i) {
        HostConstSharedPtr host = cluster->chooseHost(nullptr);
        local.insert(host == nullptr ? "none" : host->address()->asString());
      }
      absl::MutexLock lock(&mutex);
      seen = std::move(local);
      done = true;
    });
    absl::MutexLock lock(&mutex);
    mutex.Await(absl::Condition(&done));
    return seen;
  };
  EXPECT_EQ(picks(), std::set<std::string>{"10.0.0.1:8080"});
  resolver_->set("backend.test", {"10.0.0.2", "10.0.0.3"});
  refresh();
  // The update reached the worker by post(), before the question posted after it.
  EXPECT_EQ(picks(), (std::set<std::string>{"10.0.0.2:8080", "10.0.0.3:8080"}));

  worker.post([&] {
    workers_->releaseWorker(worker);
    worker.exit();
  });
  thread.join();
}

TEST_F(DnsRefreshTest, OutlierEjectionSurvivesAnUpdateThatKeepsTheHost) {
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.2", "10.0.0.3"});
  ASSERT_TRUE(build(std::string(kStrictYaml) + R"EOF(
    outlier_detection:
      consecutive_5xx: 1
      max_ejection_percent: 100
      interval: 3600s
      base_ejection_time: 3600s
)EOF")
                  .ok());
  const HostConstSharedPtr first = workers_->current("dns")->hosts[0];
  OutlierDetector* detector = workers_->current("dns")->outlier_detector.get();
  detector->reportHttpResult(*first, 500);
  ASSERT_TRUE(runUntil([&] { return detector->isEjected(*first); }));
  EXPECT_EQ(gauge("outlier_detection.ejections_active"), 1u);

  // 10.0.0.1 stays, 10.0.0.2 goes, 10.0.0.4 comes: the new set still has it ejected.
  resolver_->set("backend.test", {"10.0.0.1", "10.0.0.3", "10.0.0.4"});
  refresh();
  const ClusterLoadBalancingConstSharedPtr now = workers_->current("dns");
  EXPECT_EQ(now->hosts[0], first);
  ASSERT_NE(now->outlier_detector.get(), detector);
  EXPECT_TRUE(now->outlier_detector->isEjected(*first));
  EXPECT_TRUE(now->priority_set->isEjected(*first));
  EXPECT_EQ(now->outlier_detector->numEjections(*first), 1u);
  EXPECT_EQ(gauge("outlier_detection.ejections_active"), 1u);
  // The new detector works on the new hosts.
  now->outlier_detector->reportHttpResult(*now->hosts[2], 500);
  ASSERT_TRUE(runUntil([&] { return now->priority_set->isEjected(*now->hosts[2]); }));
  EXPECT_EQ(gauge("outlier_detection.ejections_active"), 2u);

  // The ejected host leaves: the gauge follows.
  resolver_->set("backend.test", {"10.0.0.3", "10.0.0.4"});
  refresh();
  EXPECT_EQ(gauge("outlier_detection.ejections_active"), 1u);
  EXPECT_EQ(workers_->current("dns")->outlier_detector->ejectionsActive(), 1u);
}

TEST_F(DnsRefreshTest, UpdateHostsRefusesUnknownAndOriginalDstClusters) {
  resolver_->set("backend.test", {"10.0.0.1"});
  ASSERT_TRUE(build(std::string(kStrictYaml) + R"EOF(
  - name: od
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
)EOF")
                  .ok());
  EXPECT_EQ(workers_->updateHosts("nope", {}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(workers_->updateHosts("od", {}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(workers_->dnsRefresher("od"), nullptr);
}

}  // namespace
}  // namespace waystone::upstream
