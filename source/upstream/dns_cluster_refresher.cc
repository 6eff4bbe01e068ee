#include "source/upstream/dns_cluster_refresher.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "source/common/common/logger.h"

namespace waystone::upstream {
namespace {

using ClusterProto = envoy::config::cluster::v3::Cluster;

std::chrono::milliseconds toMs(const google::protobuf::Duration& duration) {
  return std::chrono::milliseconds(
      google::protobuf::util::TimeUtil::DurationToMilliseconds(duration));
}

std::set<std::string> addressSet(
    const std::vector<network::address::InstanceConstSharedPtr>& addresses) {
  std::set<std::string> out;
  for (const auto& address : addresses) {
    out.insert(address->asString());
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsClusterRefresher>> DnsClusterRefresher::create(
    ClusterConstSharedPtr cluster, DnsResolverThread& resolver, event::Dispatcher& main_dispatcher,
    PublishCb publish) {
  const ClusterProto& config = cluster->config();
  if (config.type() != ClusterProto::STRICT_DNS && config.type() != ClusterProto::LOGICAL_DNS) {
    return absl::InvalidArgumentError("type: only STRICT_DNS and LOGICAL_DNS clusters refresh");
  }
  std::unique_ptr<DnsClusterRefresher> refresher(
      new DnsClusterRefresher(cluster, resolver, main_dispatcher, std::move(publish)));
  if (config.has_dns_refresh_rate()) {
    refresher->refresh_rate_ = toMs(config.dns_refresh_rate());
    if (refresher->refresh_rate_.count() < 1) {
      return absl::InvalidArgumentError("dns_refresh_rate: must be at least 1ms");
    }
  }
  if (config.has_dns_failure_refresh_rate()) {
    const auto& rate = config.dns_failure_refresh_rate();
    refresher->failure_base_ = toMs(rate.base_interval());
    if (refresher->failure_base_.count() < 1) {
      return absl::InvalidArgumentError(
          "dns_failure_refresh_rate.base_interval: must be at least 1ms");
    }
    refresher->failure_max_ =
        rate.has_max_interval() ? toMs(rate.max_interval()) : refresher->failure_base_ * 10;
    if (refresher->failure_max_ < refresher->failure_base_) {
      return absl::InvalidArgumentError(
          "dns_failure_refresh_rate.max_interval: must not be below base_interval");
    }
  }
  // One target per lb_endpoint, in the order ClusterManager resolved them.
  const auto& endpoint_hosts = cluster->endpointHosts();
  size_t index = 0;
  for (const auto& locality_endpoints : config.load_assignment().endpoints()) {
    for (const auto& lb_endpoint : locality_endpoints.lb_endpoints()) {
      Target target;
      if (lb_endpoint.endpoint().address().has_socket_address()) {
        const auto& socket_address = lb_endpoint.endpoint().address().socket_address();
        target.name = socket_address.address();
        target.port = static_cast<uint16_t>(socket_address.port_value());
      }
      if (index < endpoint_hosts.size()) {
        for (const auto& host : endpoint_hosts[index]) {
          target.addresses.push_back(host->address());
        }
      }
      refresher->targets_.push_back(std::move(target));
      ++index;
    }
  }
  if (index != endpoint_hosts.size()) {
    return absl::InternalError(absl::StrCat("load_assignment: ", index, " lb_endpoints but ",
                                            endpoint_hosts.size(), " resolved"));
  }
  return refresher;
}

DnsClusterRefresher::DnsClusterRefresher(ClusterConstSharedPtr cluster, DnsResolverThread& resolver,
                                         event::Dispatcher& main_dispatcher, PublishCb publish)
    : cluster_(std::move(cluster)),
      resolver_(resolver),
      main_dispatcher_(main_dispatcher),
      publish_(std::move(publish)),
      logical_(cluster_->config().type() == ClusterProto::LOGICAL_DNS) {}

DnsClusterRefresher::~DnsClusterRefresher() = default;

void DnsClusterRefresher::start() {
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& target = targets_[i];
    if (target.name.empty()) {
      continue;
    }
    if (target.timer == nullptr) {
      target.timer = main_dispatcher_.createTimer([this, i] { startResolve(i); });
    }
    target.timer->enableTimer(refresh_rate_);
  }
}

void DnsClusterRefresher::refreshNow() {
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (!targets_[i].name.empty() && !targets_[i].resolving) {
      startResolve(i);
    }
  }
}

std::chrono::milliseconds DnsClusterRefresher::nextFailureDelay() const {
  if (failure_base_.count() == 0) {
    return refresh_rate_;
  }
  // base, 2 x base, 4 x base, ... up to max. Shifts beyond 30 would overflow long before max.
  const uint32_t doublings = std::min<uint32_t>(consecutive_failures_, 30);
  const auto delay = failure_base_ * (int64_t{1} << doublings);
  return std::min(delay, failure_max_);
}

std::vector<std::vector<network::address::InstanceConstSharedPtr>>
DnsClusterRefresher::currentAddresses() const {
  std::vector<std::vector<network::address::InstanceConstSharedPtr>> out;
  out.reserve(targets_.size());
  for (const Target& target : targets_) {
    out.push_back(target.addresses);
  }
  return out;
}

void DnsClusterRefresher::startResolve(size_t index) {
  Target& target = targets_[index];
  if (target.timer != nullptr) {
    target.timer->disableTimer();
  }
  target.resolving = true;
  cluster_->stats().update_attempt.inc();
  resolver_.resolve(target.name, target.port, cluster_->config().dns_lookup_family(),
                    [this, index, alive = std::weak_ptr<char>(alive_)](DnsResolution resolution) {
                      if (alive.lock() != nullptr) {
                        onResolved(index, std::move(resolution));
                      }
                    });
}

void DnsClusterRefresher::onResolved(size_t index, DnsResolution resolution) {
  Target& target = targets_[index];
  target.resolving = false;
  const bool success = resolution.status == DnsResolution::Status::kSuccess &&
                       (!logical_ || !resolution.addresses.empty());
  std::chrono::milliseconds next = refresh_rate_;
  if (success) {
    cluster_->stats().update_success.inc();
    consecutive_failures_ = 0;
    if (logical_) {
      resolution.addresses.resize(1);
    }
    if (addressSet(resolution.addresses) != addressSet(target.addresses)) {
      WAYSTONE_LOG(info, upstream, "cluster %s: %s now resolves to %d addresses", cluster_->name(),
                   target.name, resolution.addresses.size());
      target.addresses = std::move(resolution.addresses);
      publish();
    } else if (!logical_) {
      cluster_->stats().update_no_rebuild.inc();
    }
  } else {
    cluster_->stats().update_failure.inc();
    next = nextFailureDelay();
    ++consecutive_failures_;
    WAYSTONE_LOG(debug, upstream, "cluster %s: cannot resolve %s (%s); keeping %d addresses",
                 cluster_->name(), target.name,
                 resolution.details.empty() ? "no address" : resolution.details,
                 target.addresses.size());
  }
  if (target.timer == nullptr) {
    target.timer = main_dispatcher_.createTimer([this, index] { startResolve(index); });
  }
  target.timer->enableTimer(next);
}

void DnsClusterRefresher::publish() {
  auto update =
      MembershipUpdate::fromLoadAssignment(cluster_->config().load_assignment(), currentAddresses(),
                                           /*dns_names_as_hostnames=*/true);
  if (!update.ok()) {
    WAYSTONE_LOG(error, upstream, "cluster %s: cannot build the new hosts: %s", cluster_->name(),
                 update.status().message());
    return;
  }
  publish_(*update);
}

}  // namespace waystone::upstream
