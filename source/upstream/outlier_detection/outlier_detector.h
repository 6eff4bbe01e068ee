#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/outlier_detection.pb.h"

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/stats/scope.h"
#include "source/upstream/host.h"
#include "source/upstream/load_balancer/priority_set.h"

namespace waystone::upstream {

// Envoy's cluster.<name>.outlier_detection.* stats for the consecutive-failure detectors.
struct OutlierDetectionStats {
  explicit OutlierDetectionStats(stats::Scope& cluster_scope);

  stats::Gauge& ejections_active;
  // Envoy's deprecated "any type" counter; like Envoy it counts only consecutive-5xx (and
  // success-rate) detections that pass the max_ejection_percent check, enforced or not.
  stats::Counter& ejections_total;
  stats::Counter& ejections_overflow;
  stats::Counter& ejections_enforced_total;
  stats::Counter& ejections_enforced_consecutive_5xx;
  stats::Counter& ejections_detected_consecutive_5xx;
  stats::Counter& ejections_enforced_consecutive_gateway_failure;
  stats::Counter& ejections_detected_consecutive_gateway_failure;
  // Envoy's deprecated per-detection counter of consecutive-5xx detections.
  stats::Counter& ejections_consecutive_5xx;
};

// Passive health checking of one cluster's hosts with Envoy's consecutive-5xx and
// consecutive-gateway-failure detectors (envoy.config.cluster.v3.OutlierDetection).
//
// Threads: the report*() methods run on any worker, on the data path. They touch only a side
// table built at creation (hosts are fixed for the detector's life): one hash lookup in an
// immutable map and relaxed atomic counters per host; a success only reads the counters unless
// they are non-zero. When a counter reaches its threshold (exactly one thread sees that value),
// the worker posts the decision to the main dispatcher. Everything else (enforcement draws,
// max_ejection_percent, ejection times, the interval timer) lives on the main thread, which
// flips the host's flag in the shared PrioritySet so every worker's load balancer treats it as
// unhealthy.
//
// Lifetime: create(), and the destructor, run on the main thread; so the last reference must be
// dropped there (workers should reach the detector only through something the main thread
// frees after they have stopped, like ClusterLoadBalancing). Posted decisions hold a weak_ptr, so a
// decision that arrives after the detector is gone is dropped. The destructor cancels the interval
// timer and returns every host it ejected to service (the flags live in a PrioritySet that may
// outlive the detector, and nothing else would ever clear them).
class OutlierDetector : public std::enable_shared_from_this<OutlierDetector> {
  struct Passkey {};

 public:
  // Monotonic time as the detector sees it; tests inject a fake clock. Called on the main
  // thread only (sweeps and ejection decisions), never on the data path.
  using TimeSource = std::function<std::chrono::steady_clock::time_point()>;

  // Errors name the field under "outlier_detection.". Unsupported: split_external_local_origin_
  // errors (must be false), monitors, success-rate ejection with an explicit
  // enforcing_success_rate > 0, failure-percentage ejection with enforcing_failure_percentage
  // > 0. Left unset, enforcing_success_rate is ignored (Envoy would default it to 100; Istio
  // always sends 0). `seed` seeds the enforcement and jitter draws (clock-derived when unset).
  // Call on the main thread: it arms the interval timer on `main_dispatcher`.
  static absl::StatusOr<std::shared_ptr<OutlierDetector>> create(
      const envoy::config::cluster::v3::OutlierDetection& config,
      lb::PrioritySetConstSharedPtr priority_set, event::Dispatcher& main_dispatcher,
      stats::Scope& cluster_scope, TimeSource time_source = &std::chrono::steady_clock::now,
      std::optional<uint64_t> seed = std::nullopt);

  // Parsed configuration, defaults applied (Envoy's).
  struct Config {
    uint32_t consecutive_5xx = 5;
    uint32_t consecutive_gateway_failure = 5;
    uint32_t enforcing_consecutive_5xx = 100;
    uint32_t enforcing_consecutive_gateway_failure = 0;
    uint32_t max_ejection_percent = 10;
    bool always_eject_one_host = false;
    std::chrono::milliseconds interval{10000};
    std::chrono::milliseconds base_ejection_time{30000};
    std::chrono::milliseconds max_ejection_time{300000};
    std::chrono::milliseconds max_ejection_time_jitter{0};
  };
  // Validation and defaults only (also used by create()).
  static absl::StatusOr<Config> parseConfig(
      const envoy::config::cluster::v3::OutlierDetection& config);

  OutlierDetector(Passkey, const Config& config, lb::PrioritySetConstSharedPtr priority_set,
                  event::Dispatcher& main_dispatcher, stats::Scope& cluster_scope,
                  TimeSource time_source, uint64_t seed);
  ~OutlierDetector();
  OutlierDetector(const OutlierDetector&) = delete;
  OutlierDetector& operator=(const OutlierDetector&) = delete;

  // Data path, any thread. Hosts not in the priority set are ignored.
  // An HTTP response: 5xx counts towards consecutive_5xx, and 502/503/504 also towards
  // consecutive_gateway_failure; anything else resets both.
  void reportHttpResult(const Host& host, uint32_t status_code);
  // Local-origin results, mapped as Envoy does without split_external_local_origin_errors:
  // connect failure = 503, timeout = 504, success = 200.
  void reportConnectFailure(const Host& host) { reportHttpResult(host, 503); }
  void reportTimeout(const Host& host) { reportHttpResult(host, 504); }
  void reportSuccess(const Host& host) { reportHttpResult(host, 200); }

  // Any thread.
  bool isEjected(const Host& host) const;
  uint32_t ejectionsActive() const { return ejections_active_.load(std::memory_order_relaxed); }

  // Main thread; for tests and admin output. The ejection-time multiplier (0 when the host has
  // stayed healthy long enough, or is unknown) and how often the host was ejected.
  uint32_t ejectionMultiplier(const Host& host) const;
  uint32_t numEjections(const Host& host) const;

  const Config& config() const { return config_; }

  // Main thread. Membership updates: a detector for `priority_set` (the cluster's new host set)
  // with this detector's config, stats and clock, that carries over the state of every host in
  // both sets (the same Host object): its failure counters, ejection (applied to the new set,
  // with its remaining ejection time), multiplier and history. Hosts that left stop counting
  // towards ejections_active now. This detector is retired: its timer stops, decisions still in
  // flight to it are dropped, and its destructor leaves the gauge and the old set alone. Reports
  // that workers send it before they switch to the new set are lost (at most one loop turn's
  // worth per worker).
  std::shared_ptr<OutlierDetector> successor(lb::PrioritySetConstSharedPtr priority_set);
  bool retired() const { return retired_; }

 private:
  enum class EjectionType { Consecutive5xx, ConsecutiveGatewayFailure };

  // One per distinct host. Cache-line aligned: workers bump different hosts' counters.
  struct alignas(64) HostState {
    const Host* host = nullptr;
    // Any thread.
    std::atomic<uint32_t> consecutive_5xx{0};
    std::atomic<uint32_t> consecutive_gateway_failure{0};
    std::atomic<bool> ejected{false};  // written on the main thread only
    // Main thread only.
    uint32_t backoff = 0;  // Envoy's ejectTimeBackoff: the ejection-time multiplier
    uint32_t num_ejections = 0;
    std::chrono::milliseconds jitter{0};
    std::optional<std::chrono::steady_clock::time_point> last_ejection;
    std::optional<std::chrono::steady_clock::time_point> last_unejection;
  };

  // On a worker: hands a threshold crossing to the main thread.
  void postDecision(size_t index, EjectionType type);
  // Main thread.
  void onConsecutiveFailure(size_t index, EjectionType type);
  void ejectHost(HostState& state, EjectionType type);
  bool enforce(EjectionType type);
  void uneject(HostState& state, std::chrono::steady_clock::time_point now);
  void onIntervalTimer();
  const HostState* find(const Host& host) const;

  const Config config_;
  const lb::PrioritySetConstSharedPtr priority_set_;
  event::Dispatcher& main_dispatcher_;
  stats::Scope& cluster_scope_;
  OutlierDetectionStats stats_;
  const TimeSource time_source_;
  std::mt19937_64 random_;  // main thread only
  // Built in the constructor, read-only afterwards: safe to read from any thread.
  size_t host_count_ = 0;
  std::unique_ptr<HostState[]> hosts_;
  absl::flat_hash_map<const Host*, size_t> index_of_;
  std::atomic<uint32_t> ejections_active_{0};  // written on the main thread only
  event::TimerPtr interval_timer_;
  bool retired_ = false;  // main thread only
};

using OutlierDetectorSharedPtr = std::shared_ptr<OutlierDetector>;

}  // namespace waystone::upstream
