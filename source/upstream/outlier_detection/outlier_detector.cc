#include "source/upstream/outlier_detection/outlier_detector.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"

namespace waystone::upstream {
namespace {

using std::chrono::milliseconds;

// google.protobuf.Duration's documented range.
constexpr int64_t kMaxDurationSeconds = 315576000000;
constexpr int32_t kMaxNanos = 999999999;

// A Duration field in milliseconds, sub-millisecond parts dropped as Envoy's
// PROTOBUF_GET_MS_OR_DEFAULT does. protoc-gen-validate rules ("gt: {}") are checked again here
// because the detector may be built from a proto that never went through the loader.
absl::StatusOr<milliseconds> durationMs(const google::protobuf::Duration& duration,
                                        absl::string_view field, bool must_be_positive) {
  if (duration.seconds() < 0 || duration.nanos() < 0 || duration.seconds() > kMaxDurationSeconds ||
      duration.nanos() > kMaxNanos) {
    return absl::InvalidArgumentError(absl::StrCat("outlier_detection.", field,
                                                   ": must be a non-negative duration of at most ",
                                                   kMaxDurationSeconds, "s"));
  }
  if (must_be_positive && duration.seconds() == 0 && duration.nanos() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("outlier_detection.", field, ": must be greater than 0s"));
  }
  return milliseconds(duration.seconds() * 1000 + duration.nanos() / 1000000);
}

// Mixes the clock and an address so detectors created together do not draw in lockstep. Not
// for security: the draws only ramp enforcement and spread unejection times.
uint64_t defaultSeed(const void* salt) {
  uint64_t z = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               reinterpret_cast<uintptr_t>(salt);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

OutlierDetectionStats::OutlierDetectionStats(stats::Scope& scope)
    : ejections_active(scope.gaugeFromString("outlier_detection.ejections_active")),
      ejections_total(scope.counterFromString("outlier_detection.ejections_total")),
      ejections_overflow(scope.counterFromString("outlier_detection.ejections_overflow")),
      ejections_enforced_total(
          scope.counterFromString("outlier_detection.ejections_enforced_total")),
      ejections_enforced_consecutive_5xx(
          scope.counterFromString("outlier_detection.ejections_enforced_consecutive_5xx")),
      ejections_detected_consecutive_5xx(
          scope.counterFromString("outlier_detection.ejections_detected_consecutive_5xx")),
      ejections_enforced_consecutive_gateway_failure(scope.counterFromString(
          "outlier_detection.ejections_enforced_consecutive_gateway_failure")),
      ejections_detected_consecutive_gateway_failure(scope.counterFromString(
          "outlier_detection.ejections_detected_consecutive_gateway_failure")),
      ejections_consecutive_5xx(
          scope.counterFromString("outlier_detection.ejections_consecutive_5xx")) {}

absl::StatusOr<OutlierDetector::Config> OutlierDetector::parseConfig(
    const envoy::config::cluster::v3::OutlierDetection& proto) {
  // Range rules from outlier_detection.proto (lte: 100 on every percentage).
  struct PercentField {
    bool present;
    uint32_t value;
    absl::string_view name;
  };
  const PercentField percents[] = {
      {proto.has_max_ejection_percent(), proto.max_ejection_percent().value(),
       "max_ejection_percent"},
      {proto.has_enforcing_consecutive_5xx(), proto.enforcing_consecutive_5xx().value(),
       "enforcing_consecutive_5xx"},
      {proto.has_enforcing_success_rate(), proto.enforcing_success_rate().value(),
       "enforcing_success_rate"},
      {proto.has_enforcing_consecutive_gateway_failure(),
       proto.enforcing_consecutive_gateway_failure().value(),
       "enforcing_consecutive_gateway_failure"},
      {proto.has_enforcing_consecutive_local_origin_failure(),
       proto.enforcing_consecutive_local_origin_failure().value(),
       "enforcing_consecutive_local_origin_failure"},
      {proto.has_enforcing_local_origin_success_rate(),
       proto.enforcing_local_origin_success_rate().value(), "enforcing_local_origin_success_rate"},
      {proto.has_failure_percentage_threshold(), proto.failure_percentage_threshold().value(),
       "failure_percentage_threshold"},
      {proto.has_enforcing_failure_percentage(), proto.enforcing_failure_percentage().value(),
       "enforcing_failure_percentage"},
      {proto.has_enforcing_failure_percentage_local_origin(),
       proto.enforcing_failure_percentage_local_origin().value(),
       "enforcing_failure_percentage_local_origin"},
  };
  for (const PercentField& field : percents) {
    if (field.present && field.value > 100) {
      return absl::InvalidArgumentError(absl::StrCat("outlier_detection.", field.name, ": ",
                                                     field.value, " is above 100 (percent)"));
    }
  }

  // What Waystone does not implement. An error rather than silence, so that nobody believes a
  // detector runs that does not.
  if (proto.split_external_local_origin_errors()) {
    return absl::InvalidArgumentError(
        "outlier_detection.split_external_local_origin_errors: not supported (only false); "
        "local-origin failures count as 503/504 responses");
  }
  if (proto.monitors_size() > 0) {
    return absl::InvalidArgumentError("outlier_detection.monitors: not supported");
  }
  // Success-rate ejection is on by default in Envoy (enforcing_success_rate defaults to 100), but
  // rejecting every config that leaves the field unset would reject most outlier_detection
  // blocks; Istio always sends 0. Only an explicit request is refused.
  if (proto.has_enforcing_success_rate() && proto.enforcing_success_rate().value() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outlier_detection.enforcing_success_rate: ", proto.enforcing_success_rate().value(),
        ": success-rate ejection is not supported; set it to 0"));
  }
  if (proto.has_enforcing_failure_percentage() &&
      proto.enforcing_failure_percentage().value() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("outlier_detection.enforcing_failure_percentage: ",
                     proto.enforcing_failure_percentage().value(),
                     ": failure-percentage ejection is not supported; set it to 0"));
  }
  // consecutive_local_origin_failure, enforcing_consecutive_local_origin_failure,
  // enforcing_local_origin_success_rate and enforcing_failure_percentage_local_origin only take
  // effect with split_external_local_origin_errors (Envoy feeds no local-origin monitor
  // otherwise), so they are inert here, as in Envoy. successful_active_health_check_uneject_host
  // needs active health checking, which Waystone does not have.

  Config config;
  if (proto.has_consecutive_5xx()) {
    config.consecutive_5xx = proto.consecutive_5xx().value();
  }
  if (proto.has_consecutive_gateway_failure()) {
    config.consecutive_gateway_failure = proto.consecutive_gateway_failure().value();
  }
  if (proto.has_enforcing_consecutive_5xx()) {
    config.enforcing_consecutive_5xx = proto.enforcing_consecutive_5xx().value();
  }
  if (proto.has_enforcing_consecutive_gateway_failure()) {
    config.enforcing_consecutive_gateway_failure =
        proto.enforcing_consecutive_gateway_failure().value();
  }
  if (proto.has_max_ejection_percent()) {
    config.max_ejection_percent = proto.max_ejection_percent().value();
  }
  config.always_eject_one_host =
      proto.has_always_eject_one_host() && proto.always_eject_one_host().value();
  if (proto.has_interval()) {
    auto interval = durationMs(proto.interval(), "interval", true);
    if (!interval.ok()) {
      return interval.status();
    }
    // A sub-millisecond interval would re-arm the timer at 0 ms and spin the main loop.
    config.interval = std::max(*interval, milliseconds(1));
  }
  if (proto.has_base_ejection_time()) {
    auto base = durationMs(proto.base_ejection_time(), "base_ejection_time", true);
    if (!base.ok()) {
      return base.status();
    }
    config.base_ejection_time = *base;
  }
  if (proto.has_max_ejection_time()) {
    auto max = durationMs(proto.max_ejection_time(), "max_ejection_time", true);
    if (!max.ok()) {
      return max.status();
    }
    config.max_ejection_time = *max;
    if (config.max_ejection_time < config.base_ejection_time) {
      return absl::InvalidArgumentError(
          absl::StrCat("outlier_detection.max_ejection_time: ", config.max_ejection_time.count(),
                       " ms cannot be smaller than base_ejection_time (",
                       config.base_ejection_time.count(), " ms)"));
    }
  } else {
    // Envoy: 300 s or base_ejection_time, whichever is larger.
    config.max_ejection_time = std::max(milliseconds(300000), config.base_ejection_time);
  }
  if (proto.has_max_ejection_time_jitter()) {
    auto jitter = durationMs(proto.max_ejection_time_jitter(), "max_ejection_time_jitter", false);
    if (!jitter.ok()) {
      return jitter.status();
    }
    config.max_ejection_time_jitter = *jitter;
  }
  return config;
}

absl::StatusOr<std::shared_ptr<OutlierDetector>> OutlierDetector::create(
    const envoy::config::cluster::v3::OutlierDetection& proto,
    lb::PrioritySetConstSharedPtr priority_set, event::Dispatcher& main_dispatcher,
    stats::Scope& cluster_scope, TimeSource time_source, std::optional<uint64_t> seed) {
  WAYSTONE_ASSERT(main_dispatcher.isThreadSafe(), "create the outlier detector on the main thread");
  if (priority_set == nullptr) {
    return absl::InvalidArgumentError("outlier_detection: the cluster has no priority set");
  }
  auto config = parseConfig(proto);
  if (!config.ok()) {
    return config.status();
  }
  if (!time_source) {
    time_source = &std::chrono::steady_clock::now;
  }
  const uint64_t actual_seed = seed.has_value() ? *seed : defaultSeed(priority_set.get());
  auto detector = std::make_shared<OutlierDetector>(Passkey{}, *config, std::move(priority_set),
                                                    main_dispatcher, cluster_scope,
                                                    std::move(time_source), actual_seed);
  // The timer is owned by the detector and dies with it, so `this` in the callback is safe.
  OutlierDetector* raw = detector.get();
  detector->interval_timer_ = main_dispatcher.createTimer([raw] { raw->onIntervalTimer(); });
  detector->interval_timer_->enableTimer(detector->config_.interval);
  return detector;
}

OutlierDetector::OutlierDetector(Passkey, const Config& config,
                                 lb::PrioritySetConstSharedPtr priority_set,
                                 event::Dispatcher& main_dispatcher, stats::Scope& cluster_scope,
                                 TimeSource time_source, uint64_t seed)
    : config_(config),
      priority_set_(std::move(priority_set)),
      main_dispatcher_(main_dispatcher),
      cluster_scope_(cluster_scope),
      stats_(cluster_scope),
      time_source_(std::move(time_source)),
      random_(seed) {
  size_t slots = 0;
  for (const auto& host_set : priority_set_->hostSetsPerPriority()) {
    slots += host_set.hosts().size();
  }
  hosts_ = std::make_unique<HostState[]>(slots);
  for (const auto& host_set : priority_set_->hostSetsPerPriority()) {
    for (const auto& host : host_set.hosts()) {
      // A host listed twice (two priorities or localities) is one endpoint: one state, counted
      // once towards max_ejection_percent, as Envoy keys its monitors by host.
      if (index_of_.emplace(host.get(), host_count_).second) {
        hosts_[host_count_].host = host.get();
        ++host_count_;
      }
    }
  }
}

OutlierDetector::~OutlierDetector() {
  WAYSTONE_ASSERT(main_dispatcher_.isThreadSafe(),
                  "the outlier detector must be destroyed on the main thread");
  interval_timer_.reset();
  if (retired_) {
    // The successor owns these ejections now.
    return;
  }
  for (size_t i = 0; i < host_count_; ++i) {
    HostState& state = hosts_[i];
    if (state.ejected.load(std::memory_order_relaxed)) {
      priority_set_->setEjected(*state.host, false);
      stats_.ejections_active.dec();
    }
  }
}

void OutlierDetector::reportHttpResult(const Host& host, uint32_t status_code) {
  auto it = index_of_.find(&host);
  if (it == index_of_.end()) {
    return;
  }
  const size_t index = it->second;
  HostState& state = hosts_[index];
  // Resets read first: in the common all-success case the counters stay 0 and the cache line
  // stays shared between workers instead of bouncing on every response.
  auto reset = [](std::atomic<uint32_t>& counter) {
    if (counter.load(std::memory_order_relaxed) != 0) {
      counter.store(0, std::memory_order_relaxed);
    }
  };
  if (status_code < 500 || status_code > 599) {
    reset(state.consecutive_5xx);
    reset(state.consecutive_gateway_failure);
    return;
  }
  // fetch_add hands each value to exactly one thread, so exactly one report posts per crossing
  // (until the main thread or a success resets the counter). A threshold of 0 never triggers,
  // as in Envoy.
  if (status_code >= 502 && status_code <= 504) {
    const uint32_t threshold = config_.consecutive_gateway_failure;
    if (state.consecutive_gateway_failure.fetch_add(1, std::memory_order_relaxed) + 1 ==
            threshold &&
        threshold != 0) {
      postDecision(index, EjectionType::ConsecutiveGatewayFailure);
    }
  } else {
    reset(state.consecutive_gateway_failure);
  }
  const uint32_t threshold = config_.consecutive_5xx;
  if (state.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1 == threshold &&
      threshold != 0) {
    postDecision(index, EjectionType::Consecutive5xx);
  }
}

void OutlierDetector::postDecision(size_t index, EjectionType type) {
  // The weak_ptr makes a decision that arrives after the cluster (and its detector) went away
  // a no-op instead of a use-after-free.
  main_dispatcher_.post([weak = weak_from_this(), index, type] {
    if (auto self = weak.lock()) {
      self->onConsecutiveFailure(index, type);
    }
  });
}

void OutlierDetector::onConsecutiveFailure(size_t index, EjectionType type) {
  if (retired_) {
    return;
  }
  HostState& state = hosts_[index];
  // Already out: Envoy ignores the crossing and keeps the counter, which unejection resets.
  if (state.ejected.load(std::memory_order_relaxed)) {
    return;
  }
  if (type == EjectionType::Consecutive5xx) {
    stats_.ejections_detected_consecutive_5xx.inc();
  } else {
    stats_.ejections_detected_consecutive_gateway_failure.inc();
  }
  ejectHost(state, type);
  // Reset even when not ejected, so that the next bout of failures is detected again without
  // needing a success in between (Envoy's behaviour).
  if (type == EjectionType::Consecutive5xx) {
    stats_.ejections_consecutive_5xx.inc();
    state.consecutive_5xx.store(0, std::memory_order_relaxed);
  } else {
    state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  }
}

bool OutlierDetector::enforce(EjectionType type) {
  const uint32_t percent = type == EjectionType::Consecutive5xx
                               ? config_.enforcing_consecutive_5xx
                               : config_.enforcing_consecutive_gateway_failure;
  if (percent == 0) {
    return false;
  }
  if (percent >= 100) {
    return true;
  }
  return random_() % 100 < percent;
}

void OutlierDetector::ejectHost(HostState& state, EjectionType type) {
  const uint32_t active = ejections_active_.load(std::memory_order_relaxed);
  // Envoy counts the ejection being decided (active + 1), over distinct hosts of every priority.
  const double ejected_percent = 100.0 * (active + 1) / static_cast<double>(host_count_);
  const bool allowed = ejected_percent <= config_.max_ejection_percent ||
                       (config_.always_eject_one_host && active == 0);
  if (!allowed) {
    stats_.ejections_overflow.inc();
    return;
  }
  if (type == EjectionType::Consecutive5xx) {
    stats_.ejections_total.inc();
  }
  if (!enforce(type)) {
    return;
  }
  ejections_active_.store(active + 1, std::memory_order_relaxed);
  stats_.ejections_active.inc();
  stats_.ejections_enforced_total.inc();
  if (type == EjectionType::Consecutive5xx) {
    stats_.ejections_enforced_consecutive_5xx.inc();
  } else {
    stats_.ejections_enforced_consecutive_gateway_failure.inc();
  }
  state.ejected.store(true, std::memory_order_relaxed);
  ++state.num_ejections;
  state.last_ejection = time_source_();
  const int64_t max_jitter = config_.max_ejection_time_jitter.count();
  state.jitter = milliseconds(
      max_jitter > 0 ? static_cast<int64_t>(random_() % static_cast<uint64_t>(max_jitter + 1)) : 0);
  // Envoy's rule: grow the multiplier until base * multiplier passes max (the ejection time is
  // capped at max_ejection_time when it is applied).
  if (config_.base_ejection_time * state.backoff <
      config_.max_ejection_time + config_.base_ejection_time) {
    ++state.backoff;
  }
  const bool in_set = priority_set_->setEjected(*state.host, true);
  WAYSTONE_ASSERT(in_set, "outlier detector host missing from its priority set");
  (void)in_set;
  WAYSTONE_LOG(
      debug, upstream, "outlier detection: ejected %s from cluster %s (%s, %d ms)",
      state.host->address()->asString(), state.host->clusterName(),
      type == EjectionType::Consecutive5xx ? "consecutive_5xx" : "consecutive_gateway_failure",
      (std::min(config_.base_ejection_time * state.backoff, config_.max_ejection_time) +
       state.jitter)
          .count());
}

void OutlierDetector::uneject(HostState& state, std::chrono::steady_clock::time_point now) {
  state.ejected.store(false, std::memory_order_relaxed);
  ejections_active_.store(ejections_active_.load(std::memory_order_relaxed) - 1,
                          std::memory_order_relaxed);
  stats_.ejections_active.dec();
  // Fresh counters: a counter left one short of its threshold would re-eject on one failure.
  state.consecutive_5xx.store(0, std::memory_order_relaxed);
  state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  state.last_unejection = now;
  priority_set_->setEjected(*state.host, false);
  WAYSTONE_LOG(debug, upstream, "outlier detection: returned %s to cluster %s",
               state.host->address()->asString(), state.host->clusterName());
}

void OutlierDetector::onIntervalTimer() {
  const auto now = time_source_();
  for (size_t i = 0; i < host_count_; ++i) {
    HostState& state = hosts_[i];
    if (!state.ejected.load(std::memory_order_relaxed)) {
      continue;
    }
    const milliseconds ejection_time =
        std::min(config_.base_ejection_time * state.backoff, config_.max_ejection_time) +
        state.jitter;
    if (now - *state.last_ejection >= ejection_time) {
      uneject(state, now);
    }
  }
  // The multiplier decays by one per sweep once the host has stayed in service for a whole
  // interval since its last unejection (Envoy after envoyproxy/envoy#29711; before it, every
  // sweep).
  for (size_t i = 0; i < host_count_; ++i) {
    HostState& state = hosts_[i];
    if (!state.ejected.load(std::memory_order_relaxed) && state.backoff > 0 &&
        state.last_unejection.has_value() && now - *state.last_unejection >= config_.interval) {
      --state.backoff;
    }
  }
  interval_timer_->enableTimer(config_.interval);
}

std::shared_ptr<OutlierDetector> OutlierDetector::successor(
    lb::PrioritySetConstSharedPtr priority_set) {
  WAYSTONE_ASSERT(main_dispatcher_.isThreadSafe(), "successor() runs on the main thread");
  WAYSTONE_ASSERT(!retired_, "a retired outlier detector has no successor");
  auto next =
      std::make_shared<OutlierDetector>(Passkey{}, config_, std::move(priority_set),
                                        main_dispatcher_, cluster_scope_, time_source_, random_());
  uint32_t carried_ejections = 0;
  for (size_t i = 0; i < next->host_count_; ++i) {
    HostState& to = next->hosts_[i];
    const HostState* from = find(*to.host);
    if (from == nullptr) {
      continue;
    }
    to.consecutive_5xx.store(from->consecutive_5xx.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
    to.consecutive_gateway_failure.store(
        from->consecutive_gateway_failure.load(std::memory_order_relaxed),
        std::memory_order_relaxed);
    to.backoff = from->backoff;
    to.num_ejections = from->num_ejections;
    to.jitter = from->jitter;
    to.last_ejection = from->last_ejection;
    to.last_unejection = from->last_unejection;
    if (from->ejected.load(std::memory_order_relaxed)) {
      to.ejected.store(true, std::memory_order_relaxed);
      next->priority_set_->setEjected(*to.host, true);
      ++carried_ejections;
    }
  }
  next->ejections_active_.store(carried_ejections, std::memory_order_relaxed);
  // Ejected hosts that left the cluster leave the gauge; the carried ones stay counted once.
  for (size_t i = 0; i < host_count_; ++i) {
    const HostState& state = hosts_[i];
    if (state.ejected.load(std::memory_order_relaxed) && next->find(*state.host) == nullptr) {
      stats_.ejections_active.dec();
    }
  }
  retired_ = true;
  interval_timer_.reset();
  OutlierDetector* raw = next.get();
  next->interval_timer_ = main_dispatcher_.createTimer([raw] { raw->onIntervalTimer(); });
  next->interval_timer_->enableTimer(config_.interval);
  return next;
}

const OutlierDetector::HostState* OutlierDetector::find(const Host& host) const {
  auto it = index_of_.find(&host);
  return it == index_of_.end() ? nullptr : &hosts_[it->second];
}

bool OutlierDetector::isEjected(const Host& host) const {
  const HostState* state = find(host);
  return state != nullptr && state->ejected.load(std::memory_order_relaxed);
}

uint32_t OutlierDetector::ejectionMultiplier(const Host& host) const {
  const HostState* state = find(host);
  return state == nullptr ? 0 : state->backoff;
}

uint32_t OutlierDetector::numEjections(const Host& host) const {
  const HostState* state = find(host);
  return state == nullptr ? 0 : state->num_ejections;
}

}  // namespace waystone::upstream
