#include "source/upstream/outlier_detection/outlier_detector.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "envoy/config/cluster/v3/outlier_detection.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/address.h"
#include "source/common/protobuf/message_loader.h"
#include "source/common/stats/store.h"
#include "source/upstream/host.h"
#include "source/upstream/load_balancer/priority_set.h"

namespace waystone::upstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using OutlierDetectionProto = envoy::config::cluster::v3::OutlierDetection;

HostConstSharedPtr makeHost(size_t i) {
  auto address = network::address::parseIpAndPort(absl::StrCat("10.0.0.", i + 1, ":80"));
  EXPECT_TRUE(address.ok()) << address.status();
  return std::make_shared<const Host>("test", address.ok() ? *address : nullptr, 1,
                                      envoy::config::core::v3::Locality(), "");
}

OutlierDetectionProto fromYaml(const std::string& yaml) {
  OutlierDetectionProto proto;
  absl::Status status = protobuf::loadFromYaml(yaml, proto);
  EXPECT_TRUE(status.ok()) << status;
  return proto;
}

// The detector's clock. Only the main thread calls it (sweeps and ejections), so plain members
// are enough. `on_next_call` runs once, on the next call, which lets a test stop the loop right
// after the interval timer's sweep has read the time.
struct FakeClock {
  std::chrono::steady_clock::time_point now() {
    ++calls;
    if (on_next_call) {
      auto callback = std::move(on_next_call);
      on_next_call = nullptr;
      callback();
    }
    return time;
  }

  std::chrono::steady_clock::time_point time{seconds(1000)};
  uint64_t calls = 0;
  std::function<void()> on_next_call;
};

// Sweeps every millisecond of real time; ejection times are on the fake clock. With time
// frozen, extra sweeps change nothing (they only act on elapsed fake time), so the test thread
// decides what happens.
constexpr char kFastSweeps[] = "interval: 0.001s\nbase_ejection_time: 30s\n";

class OutlierDetectorTest : public testing::Test {
 protected:
  // `hosts` hosts at priority 0.
  void build(const std::string& yaml, size_t hosts = 10) {
    hosts_.clear();
    lb::PrioritySet::Builder builder;
    for (size_t i = 0; i < hosts; ++i) {
      hosts_.push_back(makeHost(i));
      builder.addHost(0, hosts_.back());
    }
    buildWith(yaml, builder.build());
  }

  void buildWith(const std::string& yaml, lb::PrioritySetConstSharedPtr priority_set) {
    priority_set_ = std::move(priority_set);
    auto detector = OutlierDetector::create(
        fromYaml(yaml), priority_set_, dispatcher_, *scope_, [this] { return clock_.now(); }, 42);
    ASSERT_TRUE(detector.ok()) << detector.status();
    detector_ = std::move(*detector);
  }

  // Runs what workers posted to the main thread.
  void drain() { dispatcher_.run(event::Dispatcher::RunType::NonBlock); }

  // Runs the loop until the interval timer has swept exactly once more. Does not drain first:
  // a drain could sweep too (and a second sweep would decay multipliers twice); tests drain
  // right after reporting.
  void sweep() {
    const uint64_t calls_before = clock_.calls;
    bool swept = false;
    clock_.on_next_call = [this, &swept] {
      swept = true;
      dispatcher_.exit();
    };
    // Only reached if the interval timer is broken; keeps the test from hanging.
    event::TimerPtr guard = dispatcher_.createTimer([this] { dispatcher_.exit(); });
    guard->enableTimer(seconds(20));
    dispatcher_.run(event::Dispatcher::RunType::RunUntilExit);
    clock_.on_next_call = nullptr;
    ASSERT_TRUE(swept) << "the interval timer did not fire";
    EXPECT_EQ(calls_before + 1, clock_.calls);
  }

  void report(size_t host, uint32_t status, int times = 1) {
    for (int i = 0; i < times; ++i) {
      detector_->reportHttpResult(*hosts_[host], status);
    }
  }

  // Ejects `host` through consecutive 5xx (threshold 5 unless configured otherwise).
  void ejectBy5xx(size_t host, int threshold = 5) {
    report(host, 500, threshold);
    drain();
    ASSERT_TRUE(detector_->isEjected(*hosts_[host]));
  }

  // Advances the fake clock to `elapsed` after `start` and sweeps.
  void sweepAt(std::chrono::steady_clock::time_point start, milliseconds elapsed) {
    clock_.time = start + elapsed;
    sweep();
  }

  uint64_t counter(const std::string& name) {
    return store_.counterFromString("cluster.test.outlier_detection." + name).value();
  }
  uint64_t activeGauge() {
    return store_.gaugeFromString("cluster.test.outlier_detection.ejections_active").value();
  }

  // Declaration order is destruction order in reverse: the detector (and its timer) goes
  // before the dispatcher and the clock it uses.
  stats::Store store_;
  stats::ScopeSharedPtr scope_ = store_.createScope("cluster.test.");
  event::DispatcherImpl dispatcher_{"main"};
  FakeClock clock_;
  HostVector hosts_;
  lb::PrioritySetConstSharedPtr priority_set_;
  std::shared_ptr<OutlierDetector> detector_;
};

TEST_F(OutlierDetectorTest, Consecutive5xxEjectsAtThresholdOnTheMainThread) {
  build(kFastSweeps);
  const uint64_t version = priority_set_->healthVersion();
  report(0, 500, 4);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(0u, counter("ejections_detected_consecutive_5xx"));

  report(0, 500);
  // The decision is posted, not taken on the reporting thread.
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  drain();
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  EXPECT_TRUE(priority_set_->isEjected(*hosts_[0]));
  EXPECT_NE(version, priority_set_->healthVersion());
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[1]));
  EXPECT_EQ(1u, detector_->ejectionsActive());
  EXPECT_EQ(1u, activeGauge());
  EXPECT_EQ(1u, counter("ejections_detected_consecutive_5xx"));
  EXPECT_EQ(1u, counter("ejections_enforced_consecutive_5xx"));
  EXPECT_EQ(1u, counter("ejections_enforced_total"));
  EXPECT_EQ(1u, counter("ejections_total"));
  EXPECT_EQ(0u, counter("ejections_overflow"));
  EXPECT_EQ(1u, detector_->numEjections(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, NonErrorResponsesResetTheCount) {
  build(kFastSweeps);
  report(0, 500, 4);
  report(0, 200);
  report(0, 503, 4);
  report(0, 404);
  report(0, 502, 4);
  report(0, 302);
  report(0, 504, 4);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(0u, counter("ejections_detected_consecutive_5xx"));
  report(0, 500);
  drain();
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, ReportSuccessResets) {
  build(kFastSweeps);
  report(0, 500, 4);
  detector_->reportSuccess(*hosts_[0]);
  report(0, 500, 4);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, GatewayFailuresEjectWhenEnforced) {
  build(std::string(kFastSweeps) +
        "enforcing_consecutive_gateway_failure: 100\nenforcing_consecutive_5xx: 0\n");
  // Connect failures (503) and timeouts (504) are gateway failures.
  detector_->reportConnectFailure(*hosts_[0]);
  detector_->reportTimeout(*hosts_[0]);
  report(0, 502);
  detector_->reportConnectFailure(*hosts_[0]);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  detector_->reportTimeout(*hosts_[0]);
  drain();
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(1u, counter("ejections_detected_consecutive_gateway_failure"));
  EXPECT_EQ(1u, counter("ejections_enforced_consecutive_gateway_failure"));
  EXPECT_EQ(1u, counter("ejections_enforced_total"));
  // The fifth failure also crossed consecutive_5xx, but (as in Envoy) the gateway decision is
  // posted first: the 5xx one finds the host ejected and is dropped.
  EXPECT_EQ(0u, counter("ejections_detected_consecutive_5xx"));
  EXPECT_EQ(0u, counter("ejections_enforced_consecutive_5xx"));
}

TEST_F(OutlierDetectorTest, NonGateway5xxResetsOnlyTheGatewayCount) {
  build(std::string(kFastSweeps) +
        "enforcing_consecutive_gateway_failure: 100\nconsecutive_5xx: 0\n");
  report(1, 503, 4);
  report(1, 500);
  report(1, 503, 4);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[1]));
  report(1, 503);
  drain();
  EXPECT_TRUE(detector_->isEjected(*hosts_[1]));
  // consecutive_5xx: 0 never triggers (as in Envoy).
  EXPECT_EQ(0u, counter("ejections_detected_consecutive_5xx"));
}

TEST_F(OutlierDetectorTest, GatewayFailureIsDetectedButNotEnforcedByDefault) {
  build(std::string(kFastSweeps) + "consecutive_5xx: 100\n");
  report(0, 503, 5);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(1u, counter("ejections_detected_consecutive_gateway_failure"));
  EXPECT_EQ(0u, counter("ejections_enforced_consecutive_gateway_failure"));
  // Not a consecutive-5xx detection: Envoy's deprecated total does not count it.
  EXPECT_EQ(0u, counter("ejections_total"));
}

TEST_F(OutlierDetectorTest, ZeroEnforcementDetectsWithoutEjecting) {
  build(std::string(kFastSweeps) + "enforcing_consecutive_5xx: 0\n");
  report(0, 500, 5);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[0]));
  EXPECT_EQ(1u, counter("ejections_detected_consecutive_5xx"));
  EXPECT_EQ(0u, counter("ejections_enforced_consecutive_5xx"));
  EXPECT_EQ(0u, counter("ejections_enforced_total"));
  EXPECT_EQ(1u, counter("ejections_total"));
  EXPECT_EQ(0u, activeGauge());
  // The main thread reset the count: the next five failures are a new detection.
  report(0, 500, 5);
  drain();
  EXPECT_EQ(2u, counter("ejections_detected_consecutive_5xx"));
}

TEST_F(OutlierDetectorTest, PartialEnforcementEjectsSome) {
  build(std::string(kFastSweeps) + "enforcing_consecutive_5xx: 50\nmax_ejection_percent: 100\n",
        100);
  for (size_t i = 0; i < hosts_.size(); ++i) {
    report(i, 500, 5);
  }
  drain();
  const uint64_t enforced = counter("ejections_enforced_consecutive_5xx");
  EXPECT_EQ(100u, counter("ejections_detected_consecutive_5xx"));
  EXPECT_GT(enforced, 20u);
  EXPECT_LT(enforced, 80u);
  EXPECT_EQ(enforced, detector_->ejectionsActive());
}

TEST_F(OutlierDetectorTest, MaxEjectionPercentCapsEjections) {
  build(std::string(kFastSweeps) + "max_ejection_percent: 20\n", 10);
  ejectBy5xx(0);
  ejectBy5xx(1);
  report(2, 500, 5);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[2]));
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[2]));
  EXPECT_EQ(1u, counter("ejections_overflow"));
  EXPECT_EQ(3u, counter("ejections_detected_consecutive_5xx"));
  EXPECT_EQ(2u, counter("ejections_enforced_total"));
  EXPECT_EQ(2u, detector_->ejectionsActive());
  EXPECT_EQ(2u, activeGauge());
}

TEST_F(OutlierDetectorTest, DefaultPercentEjectsNothingInASmallClusterUnlessOneIsAlwaysAllowed) {
  // 1 of 5 hosts is 20%, above the default 10%: Envoy (since it enforces the limit) ejects none.
  build(kFastSweeps, 5);
  report(0, 500, 5);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(1u, counter("ejections_overflow"));

  build(std::string(kFastSweeps) + "always_eject_one_host: true\n", 5);
  ejectBy5xx(0);
  report(1, 500, 5);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[1]));
  EXPECT_EQ(2u, counter("ejections_overflow"));
}

TEST_F(OutlierDetectorTest, HostListedTwiceCountsOnce) {
  hosts_ = {makeHost(0), makeHost(1)};
  lb::PrioritySet::Builder builder;
  builder.addHost(0, hosts_[0]).addHost(0, hosts_[1]).addHost(1, hosts_[0]);
  // One of two distinct hosts is 50%; with three slots it would be 33%.
  buildWith(std::string(kFastSweeps) + "max_ejection_percent: 50\n", builder.build());
  ejectBy5xx(0);
  report(1, 500, 5);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[1]));
  EXPECT_EQ(1u, counter("ejections_overflow"));
}

TEST_F(OutlierDetectorTest, UnejectsAfterBaseEjectionTimeOnTheIntervalTimer) {
  build(std::string(kFastSweeps) + "max_ejection_percent: 100\n");
  const auto start = clock_.time;
  ejectBy5xx(0);
  // Failures while ejected are counted but do not eject again...
  report(0, 500, 3);
  sweepAt(start, milliseconds(29999));
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  EXPECT_TRUE(priority_set_->isEjected(*hosts_[0]));

  sweepAt(start, seconds(30));
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[0]));
  EXPECT_EQ(0u, detector_->ejectionsActive());
  EXPECT_EQ(0u, activeGauge());
  // ...and unejection reset them: 3 + 4 would have crossed 5.
  report(0, 500, 4);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  report(0, 500);
  drain();
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(2u, detector_->numEjections(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, EjectionTimeGrowsWithRepeatedEjectionsUpToTheMax) {
  build(
      "interval: 0.001s\nbase_ejection_time: 10s\nmax_ejection_time: 25s\n"
      "max_ejection_percent: 100\n");
  auto start = clock_.time;
  ejectBy5xx(0);
  EXPECT_EQ(1u, detector_->ejectionMultiplier(*hosts_[0]));
  sweepAt(start, seconds(10));
  ASSERT_FALSE(detector_->isEjected(*hosts_[0]));

  // Failing again right away: twice as long.
  start = clock_.time;
  ejectBy5xx(0);
  EXPECT_EQ(2u, detector_->ejectionMultiplier(*hosts_[0]));
  sweepAt(start, milliseconds(19999));
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  sweepAt(start, seconds(20));
  ASSERT_FALSE(detector_->isEjected(*hosts_[0]));

  // Three times would be 30 s: capped at max_ejection_time.
  start = clock_.time;
  ejectBy5xx(0);
  sweepAt(start, milliseconds(24999));
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  sweepAt(start, seconds(25));
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
  EXPECT_EQ(3u, detector_->numEjections(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, MultiplierDecaysWhileTheHostStaysHealthy) {
  build("interval: 0.001s\nbase_ejection_time: 10s\nmax_ejection_percent: 100\n");
  auto start = clock_.time;
  ejectBy5xx(0);
  sweepAt(start, seconds(10));
  start = clock_.time;
  ejectBy5xx(0);
  sweepAt(start, seconds(20));
  ASSERT_FALSE(detector_->isEjected(*hosts_[0]));
  ASSERT_EQ(2u, detector_->ejectionMultiplier(*hosts_[0]));

  // Back less than one interval: no decay however many sweeps run.
  sweep();
  sweep();
  EXPECT_EQ(2u, detector_->ejectionMultiplier(*hosts_[0]));
  // Healthy for one interval: one step down per sweep.
  clock_.time += milliseconds(1);
  sweep();
  EXPECT_EQ(1u, detector_->ejectionMultiplier(*hosts_[0]));

  // The next ejection starts from the decayed multiplier: 2 x 10 s, not 3 x 10 s.
  start = clock_.time;
  ejectBy5xx(0);
  EXPECT_EQ(2u, detector_->ejectionMultiplier(*hosts_[0]));
  sweepAt(start, milliseconds(19999));
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  sweepAt(start, seconds(20));
  ASSERT_FALSE(detector_->isEjected(*hosts_[0]));

  clock_.time += milliseconds(1);
  sweep();
  sweep();
  sweep();
  EXPECT_EQ(0u, detector_->ejectionMultiplier(*hosts_[0]));
  start = clock_.time;
  ejectBy5xx(0);
  sweepAt(start, seconds(10));
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, JitterExtendsTheEjectionWithinItsBound) {
  build(std::string(kFastSweeps) + "max_ejection_time_jitter: 5s\nmax_ejection_percent: 100\n");
  const auto start = clock_.time;
  ejectBy5xx(0);
  sweepAt(start, milliseconds(29999));
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  sweepAt(start, seconds(35));
  EXPECT_FALSE(detector_->isEjected(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, ReportsFromFourThreadsAtOnce) {
  build(std::string(kFastSweeps) + "max_ejection_percent: 100\n", 4);
  constexpr int kThreads = 4;
  constexpr int kIterations = 5000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([this, t, &running] {
      for (int i = 0; i < kIterations; ++i) {
        // Host 0 only fails; host 1 only succeeds; hosts 2 and 3 get a mix from every thread.
        detector_->reportHttpResult(*hosts_[0], 503);
        detector_->reportSuccess(*hosts_[1]);
        detector_->reportHttpResult(*hosts_[2], (i + t) % 3 == 0 ? 200 : 500);
        detector_->reportConnectFailure(*hosts_[3]);
        detector_->reportHttpResult(*hosts_[3], 204);
        (void)detector_->isEjected(*hosts_[i % 4]);
        (void)detector_->ejectionsActive();
      }
      if (running.fetch_sub(1) == 1) {
        dispatcher_.post([this] { dispatcher_.exit(); });
      }
    });
  }
  // The main thread takes decisions (and sweeps) while the workers report.
  dispatcher_.run(event::Dispatcher::RunType::RunUntilExit);
  for (auto& worker : workers) {
    worker.join();
  }
  drain();
  EXPECT_TRUE(detector_->isEjected(*hosts_[0]));
  EXPECT_FALSE(detector_->isEjected(*hosts_[1]));
  // Host 0 crossed the threshold once before it was ejected; later crossings found it ejected.
  EXPECT_EQ(1u, detector_->numEjections(*hosts_[0]));
  EXPECT_EQ(0u, detector_->numEjections(*hosts_[1]));
  EXPECT_GE(counter("ejections_detected_consecutive_5xx"), 1u);
  EXPECT_EQ(detector_->ejectionsActive(), counter("ejections_enforced_total"));
  EXPECT_EQ(detector_->ejectionsActive(), activeGauge());
  EXPECT_LE(detector_->ejectionsActive(), 4u);
}

TEST_F(OutlierDetectorTest, DecisionPostedBeforeDestructionIsDropped) {
  build(kFastSweeps);
  report(0, 500, 5);
  detector_.reset();
  drain();
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[0]));
  EXPECT_EQ(0u, counter("ejections_detected_consecutive_5xx"));
}

TEST_F(OutlierDetectorTest, DestructionReturnsEjectedHosts) {
  build(std::string(kFastSweeps) + "max_ejection_percent: 100\n");
  ejectBy5xx(0);
  ejectBy5xx(3);
  EXPECT_EQ(2u, activeGauge());
  detector_.reset();
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[0]));
  EXPECT_FALSE(priority_set_->isEjected(*hosts_[3]));
  EXPECT_EQ(0u, activeGauge());
  // The timer went with it: running the loop does nothing.
  drain();
}

TEST_F(OutlierDetectorTest, UnknownHostsAreIgnored) {
  build(kFastSweeps);
  HostConstSharedPtr stranger = makeHost(200);
  for (int i = 0; i < 10; ++i) {
    detector_->reportHttpResult(*stranger, 500);
  }
  drain();
  EXPECT_FALSE(detector_->isEjected(*stranger));
  EXPECT_EQ(0u, counter("ejections_detected_consecutive_5xx"));
  EXPECT_EQ(0u, detector_->numEjections(*stranger));
}

TEST(OutlierDetectorConfigTest, DefaultsAreEnvoys) {
  auto config = OutlierDetector::parseConfig(OutlierDetectionProto());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(5u, config->consecutive_5xx);
  EXPECT_EQ(5u, config->consecutive_gateway_failure);
  EXPECT_EQ(100u, config->enforcing_consecutive_5xx);
  EXPECT_EQ(0u, config->enforcing_consecutive_gateway_failure);
  EXPECT_EQ(10u, config->max_ejection_percent);
  EXPECT_FALSE(config->always_eject_one_host);
  EXPECT_EQ(milliseconds(10000), config->interval);
  EXPECT_EQ(milliseconds(30000), config->base_ejection_time);
  EXPECT_EQ(milliseconds(300000), config->max_ejection_time);
  EXPECT_EQ(milliseconds(0), config->max_ejection_time_jitter);
}

TEST(OutlierDetectorConfigTest, MaxEjectionTimeDefaultsToAtLeastTheBase) {
  auto config = OutlierDetector::parseConfig(fromYaml("base_ejection_time: 400s"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(milliseconds(400000), config->max_ejection_time);
}

TEST(OutlierDetectorConfigTest, IgnoredFieldsAreAccepted) {
  auto config = OutlierDetector::parseConfig(fromYaml(R"(
enforcing_success_rate: 0
success_rate_minimum_hosts: 3
enforcing_failure_percentage: 0
failure_percentage_threshold: 90
consecutive_local_origin_failure: 2
enforcing_local_origin_success_rate: 100
enforcing_failure_percentage_local_origin: 50
successful_active_health_check_uneject_host: false
)"));
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST(OutlierDetectorConfigTest, ErrorsNameTheField) {
  struct Case {
    std::string yaml;
    std::string field;
  };
  const Case cases[] = {
      {"base_ejection_time: 60s\nmax_ejection_time: 30s", "outlier_detection.max_ejection_time"},
      {"split_external_local_origin_errors: true",
       "outlier_detection.split_external_local_origin_errors"},
      {"enforcing_success_rate: 50", "outlier_detection.enforcing_success_rate"},
      {"enforcing_failure_percentage: 1", "outlier_detection.enforcing_failure_percentage"},
      {"max_ejection_percent: 101", "outlier_detection.max_ejection_percent"},
      {"enforcing_consecutive_5xx: 200", "outlier_detection.enforcing_consecutive_5xx"},
      {"interval: 0s", "outlier_detection.interval"},
      {"base_ejection_time: 0s", "outlier_detection.base_ejection_time"},
      {"max_ejection_time_jitter: -1s", "outlier_detection.max_ejection_time_jitter"},
      {"monitors: [{name: m}]", "outlier_detection.monitors"},
  };
  for (const Case& test_case : cases) {
    auto config = OutlierDetector::parseConfig(fromYaml(test_case.yaml));
    ASSERT_FALSE(config.ok()) << test_case.yaml;
    EXPECT_EQ(absl::StatusCode::kInvalidArgument, config.status().code());
    EXPECT_EQ(0u, config.status().message().find(test_case.field + ":"))
        << test_case.yaml << " -> " << config.status();
  }
}

// Membership updates: the successor keeps the state of the hosts that stay.
TEST_F(OutlierDetectorTest, SuccessorCarriesCountersEjectionsAndHistory) {
  build(std::string(kFastSweeps) + "max_ejection_percent: 100\n", 4);
  ejectBy5xx(0);
  report(1, 500, 4);  // one short of ejection
  drain();
  clock_.time += seconds(1);

  // Host 0 and 1 stay, 2 and 3 go, a new host joins.
  lb::PrioritySet::Builder builder;
  HostConstSharedPtr joined = makeHost(9);
  builder.addHost(0, hosts_[0]).addHost(0, hosts_[1]).addHost(0, joined);
  lb::PrioritySetConstSharedPtr next_set = builder.build();
  std::shared_ptr<OutlierDetector> next = detector_->successor(next_set);
  EXPECT_TRUE(detector_->retired());
  EXPECT_FALSE(next->retired());

  EXPECT_TRUE(next->isEjected(*hosts_[0]));
  EXPECT_TRUE(next_set->isEjected(*hosts_[0]));
  EXPECT_EQ(next->numEjections(*hosts_[0]), 1u);
  EXPECT_EQ(next->ejectionMultiplier(*hosts_[0]), 1u);
  EXPECT_EQ(next->ejectionsActive(), 1u);
  EXPECT_EQ(activeGauge(), 1u);
  EXPECT_FALSE(next->isEjected(*joined));

  // The counter carried over: one more 5xx ejects host 1 through the successor.
  next->reportHttpResult(*hosts_[1], 500);
  drain();
  EXPECT_TRUE(next->isEjected(*hosts_[1]));
  EXPECT_EQ(activeGauge(), 2u);

  // A late decision to the retired detector is dropped.
  detector_->reportHttpResult(*hosts_[2], 500);
  detector_->reportHttpResult(*hosts_[2], 500);
  detector_->reportHttpResult(*hosts_[2], 500);
  detector_->reportHttpResult(*hosts_[2], 500);
  detector_->reportHttpResult(*hosts_[2], 500);
  drain();
  EXPECT_FALSE(detector_->isEjected(*hosts_[2]));

  // The retired detector leaves the gauge alone when it goes; the successor returns its hosts.
  detector_.reset();
  EXPECT_EQ(activeGauge(), 2u);
  next.reset();
  EXPECT_EQ(activeGauge(), 0u);
  EXPECT_FALSE(next_set->isEjected(*hosts_[0]));
}

TEST_F(OutlierDetectorTest, SuccessorDropsEjectionsOfHostsThatLeft) {
  build(std::string(kFastSweeps) + "max_ejection_percent: 100\n", 4);
  ejectBy5xx(2);
  EXPECT_EQ(activeGauge(), 1u);
  lb::PrioritySet::Builder builder;
  builder.addHost(0, hosts_[0]).addHost(0, hosts_[1]);
  std::shared_ptr<OutlierDetector> next = detector_->successor(builder.build());
  EXPECT_EQ(activeGauge(), 0u);
  EXPECT_EQ(next->ejectionsActive(), 0u);
  detector_.reset();
  EXPECT_EQ(activeGauge(), 0u);
}

TEST(OutlierDetectorConfigTest, CreateReportsConfigErrors) {
  stats::Store store;
  event::DispatcherImpl dispatcher("main");
  lb::PrioritySet::Builder builder;
  builder.addHost(0, makeHost(0));
  auto detector = OutlierDetector::create(fromYaml("split_external_local_origin_errors: true"),
                                          builder.build(), dispatcher, store.rootScope());
  ASSERT_FALSE(detector.ok());
  EXPECT_NE(std::string::npos,
            detector.status().message().find("split_external_local_origin_errors"));
  auto without_hosts =
      OutlierDetector::create(OutlierDetectionProto(), nullptr, dispatcher, store.rootScope());
  EXPECT_FALSE(without_hosts.ok());
}

}  // namespace
}  // namespace waystone::upstream
