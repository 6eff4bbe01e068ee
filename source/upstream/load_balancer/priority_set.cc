#include "source/upstream/load_balancer/priority_set.h"

#include "absl/strings/str_cat.h"

namespace waystone::upstream::lb {
namespace {

std::atomic<uint64_t> next_priority_set_id{1};

}  // namespace

PrioritySet::Builder& PrioritySet::Builder::setOverprovisioningFactor(uint32_t percent) {
  overprovisioning_factor_ = percent;
  return *this;
}

PrioritySet::Builder& PrioritySet::Builder::setWeightedPriorityHealth(bool weighted) {
  weighted_priority_health_ = weighted;
  return *this;
}

PrioritySet::Builder::Level& PrioritySet::Builder::level(uint32_t priority) {
  if (levels_.size() <= priority) {
    levels_.resize(priority + 1);
  }
  return levels_[priority];
}

PrioritySet::Builder& PrioritySet::Builder::addHost(
    uint32_t priority, HostConstSharedPtr host,
    envoy::config::core::v3::HealthStatus health_status) {
  level(priority).entries.push_back(Entry{std::move(host), health_status});
  return *this;
}

PrioritySet::Builder& PrioritySet::Builder::setLocalityWeight(
    uint32_t priority, const envoy::config::core::v3::Locality& locality, uint32_t weight) {
  level(priority).locality_weights[{locality.region(), locality.zone(), locality.sub_zone()}] =
      weight;
  return *this;
}

PrioritySetConstSharedPtr PrioritySet::Builder::build() {
  if (levels_.empty()) {
    levels_.resize(1);
  }
  std::vector<HostSet> host_sets(levels_.size());
  size_t host_count = 0;
  for (size_t p = 0; p < levels_.size(); ++p) {
    const Level& level = levels_[p];
    HostSet& set = host_sets[p];
    set.priority_ = static_cast<uint32_t>(p);
    set.overprovisioning_factor_ = overprovisioning_factor_;
    set.weighted_priority_health_ = weighted_priority_health_;
    std::map<LocalityKey, uint32_t> locality_index;
    for (const Entry& entry : level.entries) {
      const auto& locality = entry.host->locality();
      const LocalityKey key{locality.region(), locality.zone(), locality.sub_zone()};
      auto [it, inserted] =
          locality_index.emplace(key, static_cast<uint32_t>(set.localities_.size()));
      if (inserted) {
        set.localities_.push_back(locality);
        auto weight = level.locality_weights.find(key);
        set.locality_weights_.push_back(weight == level.locality_weights.end() ? 0
                                                                               : weight->second);
      }
      set.hosts_.push_back(entry.host);
      set.host_localities_.push_back(it->second);
      set.eds_health_.push_back(healthFromEdsStatus(entry.health_status));
    }
    host_count += level.entries.size();
  }
  return std::make_shared<const PrioritySet>(Passkey{}, std::move(host_sets), host_count);
}

PrioritySet::PrioritySet(Passkey, std::vector<HostSet> host_sets, size_t host_count)
    : id_(next_priority_set_id.fetch_add(1, std::memory_order_relaxed)),
      host_sets_(std::move(host_sets)),
      ejected_(std::make_unique<std::atomic<bool>[]>(host_count)) {
  size_t offset = 0;
  for (HostSet& set : host_sets_) {
    set.ejected_ = ejected_.get() + offset;
    for (size_t i = 0; i < set.hosts_.size(); ++i) {
      ejected_[offset + i].store(false, std::memory_order_relaxed);
      // A host listed twice keeps its first slot: ejection is about the endpoint, not the slot.
      index_of_.emplace(set.hosts_[i].get(), offset + i);
    }
    offset += set.hosts_.size();
  }
}

bool PrioritySet::setEjected(const Host& host, bool ejected) const {
  auto it = index_of_.find(&host);
  if (it == index_of_.end()) {
    return false;
  }
  if (ejected_[it->second].exchange(ejected, std::memory_order_relaxed) != ejected) {
    health_version_.fetch_add(1, std::memory_order_release);
  }
  return true;
}

bool PrioritySet::isEjected(const Host& host) const {
  auto it = index_of_.find(&host);
  return it != index_of_.end() && ejected_[it->second].load(std::memory_order_relaxed);
}

absl::StatusOr<PrioritySetConstSharedPtr> PrioritySet::fromCluster(
    const envoy::config::cluster::v3::Cluster& config, const HostVector& hosts) {
  const auto& assignment = config.load_assignment();
  Builder builder;
  if (assignment.policy().has_overprovisioning_factor()) {
    const uint32_t factor = assignment.policy().overprovisioning_factor().value();
    if (factor == 0) {
      return absl::InvalidArgumentError(
          "load_assignment.policy.overprovisioning_factor: must be greater than 0");
    }
    builder.setOverprovisioningFactor(factor);
  }
  builder.setWeightedPriorityHealth(assignment.policy().weighted_priority_health());
  size_t next = 0;
  for (int i = 0; i < assignment.endpoints_size(); ++i) {
    const auto& locality_endpoints = assignment.endpoints(i);
    const uint32_t priority = locality_endpoints.priority();
    // validate.proto bounds priority at 128; checked again because the builder sizes a vector.
    if (priority > 128) {
      return absl::InvalidArgumentError(
          absl::StrCat("load_assignment.endpoints[", i, "].priority: ", priority, " is above 128"));
    }
    if (locality_endpoints.has_load_balancing_weight()) {
      builder.setLocalityWeight(priority, locality_endpoints.locality(),
                                locality_endpoints.load_balancing_weight().value());
    }
    for (int j = 0; j < locality_endpoints.lb_endpoints_size(); ++j) {
      if (next >= hosts.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "load_assignment.endpoints[", i, "].lb_endpoints[", j, "]: no host for this endpoint (",
            hosts.size(), " hosts given); a DNS cluster must use PrioritySet::Builder"));
      }
      const auto& host_locality = hosts[next]->locality();
      const auto& locality = locality_endpoints.locality();
      // The hosts must be ClusterManager's, in order: a host from another locality means they
      // are not, and grouping them would silently misplace traffic.
      if (host_locality.region() != locality.region() || host_locality.zone() != locality.zone() ||
          host_locality.sub_zone() != locality.sub_zone()) {
        return absl::InvalidArgumentError(
            absl::StrCat("load_assignment.endpoints[", i, "].lb_endpoints[", j, "]: host ",
                         hosts[next]->address()->asString(),
                         " is not in this endpoint's locality; hosts must follow load_assignment "
                         "order"));
      }
      builder.addHost(priority, hosts[next++], locality_endpoints.lb_endpoints(j).health_status());
    }
  }
  if (next != hosts.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("load_assignment: ", hosts.size(), " hosts given for ", next,
                     " lb_endpoints; a DNS cluster must use PrioritySet::Builder"));
  }
  return builder.build();
}

}  // namespace waystone::upstream::lb
