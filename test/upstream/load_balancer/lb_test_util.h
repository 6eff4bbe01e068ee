#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/base.pb.h"

#include "source/upstream/host.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/load_balancer_context.h"
#include "source/upstream/load_balancer/priority_set.h"

namespace waystone::upstream::lb::test {

envoy::config::core::v3::Locality makeLocality(const std::string& zone);

// A host at "ip:port" (must parse) with `weight`, in `locality`.
HostConstSharedPtr makeHost(const std::string& ip_port, uint32_t weight = 1,
                            const envoy::config::core::v3::Locality& locality = {},
                            const std::string& hostname = "");

// `count` hosts 10.0.0.1:80, 10.0.0.2:80, ... with the given weights (1 when `weights` is
// shorter).
HostVector makeHosts(size_t count, const std::vector<uint32_t>& weights = {},
                     const std::string& prefix = "10.0.0.");

// All `hosts` healthy at priority 0.
PrioritySetConstSharedPtr singlePriority(const HostVector& hosts);

// A cluster proto from YAML; fails the test when the YAML does not load.
envoy::config::cluster::v3::Cluster clusterFromYaml(const std::string& yaml);

// A factory for `yaml` (a Cluster); fails the test on error.
LoadBalancerFactoryPtr factoryFromYaml(const std::string& yaml);

// Picks `n` times and counts per host.
std::map<const Host*, uint64_t> countPicks(LoadBalancer& lb, uint64_t n,
                                           LoadBalancerContext* context = nullptr);

// The fraction of `n` picks per host in `hosts` order.
std::vector<double> pickFractions(LoadBalancer& lb, const HostVector& hosts, uint64_t n,
                                  LoadBalancerContext* context = nullptr);

// A context with a settable hash, a previous_hosts-style predicate and a retry count; records
// how often the predicate ran.
class TestContext : public LoadBalancerContext {
 public:
  std::optional<uint64_t> computeHashKey() override {
    ++hash_calls;
    return hash;
  }
  bool shouldSelectAnotherHost(const Host& host) override {
    ++predicate_calls;
    return rejected.count(&host) != 0;
  }
  uint32_t hostSelectionRetryCount() const override { return retry_count; }

  std::optional<uint64_t> hash;
  std::set<const Host*> rejected;
  uint32_t retry_count = 0;
  uint32_t hash_calls = 0;
  uint32_t predicate_calls = 0;
};

}  // namespace waystone::upstream::lb::test
