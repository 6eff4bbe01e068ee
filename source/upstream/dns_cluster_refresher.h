#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/upstream/cluster.h"
#include "source/upstream/dns_resolver_thread.h"
#include "source/upstream/membership_update.h"

namespace waystone::upstream {

// Periodic re-resolution of one STRICT_DNS or LOGICAL_DNS cluster, on the main thread, with
// Envoy's rules:
//  - each lb_endpoint's name is a target with its own timer; the first refresh comes
//    dns_refresh_rate (default 5 s) after start-up, whose synchronous resolution counts as the
//    first (ClusterManager);
//  - the resolution itself runs on the DnsResolverThread, never on a worker or the main loop;
//  - STRICT_DNS: a successful answer replaces the target's addresses, even by none (a name that
//    stopped existing); LOGICAL_DNS: only a non-empty answer counts, and only its first address;
//  - a failure keeps the previous addresses and retries after dns_failure_refresh_rate
//    (base_interval doubling per consecutive failure of the cluster up to max_interval, default
//    10 x base; Envoy adds jitter, Waystone does not) or, without it, after dns_refresh_rate;
//  - the cluster's hosts are published only when a target's set of addresses changed;
//  - respect_dns_ttl is ignored (getaddrinfo gives no TTL);
//  - stats update_attempt, update_success, update_failure and (STRICT_DNS) update_no_rebuild.
class DnsClusterRefresher {
 public:
  // Called with the whole cluster's new membership when it changed.
  using PublishCb = std::function<void(const MembershipUpdate& update)>;

  // `cluster` as ClusterManager built it: its endpointHosts() are the current addresses.
  static absl::StatusOr<std::unique_ptr<DnsClusterRefresher>> create(
      ClusterConstSharedPtr cluster, DnsResolverThread& resolver,
      event::Dispatcher& main_dispatcher, PublishCb publish);

  ~DnsClusterRefresher();
  DnsClusterRefresher(const DnsClusterRefresher&) = delete;
  DnsClusterRefresher& operator=(const DnsClusterRefresher&) = delete;

  // Arms every target's timer.
  void start();
  // Resolves every target now (a target already being resolved is left alone); tests and admin.
  void refreshNow();

  std::chrono::milliseconds refreshRate() const { return refresh_rate_; }
  // The delay after the next failure (tests).
  std::chrono::milliseconds nextFailureDelay() const;
  // The addresses each target stands for now.
  std::vector<std::vector<network::address::InstanceConstSharedPtr>> currentAddresses() const;

 private:
  struct Target {
    std::string name;  // empty: a fixed address (a pipe), never resolved
    uint16_t port = 0;
    std::vector<network::address::InstanceConstSharedPtr> addresses;
    event::TimerPtr timer;
    bool resolving = false;
  };

  DnsClusterRefresher(ClusterConstSharedPtr cluster, DnsResolverThread& resolver,
                      event::Dispatcher& main_dispatcher, PublishCb publish);

  void startResolve(size_t index);
  void onResolved(size_t index, DnsResolution resolution);
  void publish();

  const ClusterConstSharedPtr cluster_;
  DnsResolverThread& resolver_;
  event::Dispatcher& main_dispatcher_;
  const PublishCb publish_;
  const bool logical_;
  std::chrono::milliseconds refresh_rate_{5000};
  std::chrono::milliseconds failure_base_{0};  // 0: no dns_failure_refresh_rate
  std::chrono::milliseconds failure_max_{0};
  uint32_t consecutive_failures_ = 0;
  std::vector<Target> targets_;
  // Results posted back after this object is gone find the token expired and do nothing.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace waystone::upstream
