#include "test/upstream/load_balancer/lb_test_util.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "source/common/protobuf/utility.h"
#include "source/upstream/load_balancer/load_balancer_factory_impl.h"

namespace waystone::upstream::lb::test {

envoy::config::core::v3::Locality makeLocality(const std::string& zone) {
  envoy::config::core::v3::Locality locality;
  locality.set_region("region");
  locality.set_zone(zone);
  return locality;
}

HostConstSharedPtr makeHost(const std::string& ip_port, uint32_t weight,
                            const envoy::config::core::v3::Locality& locality,
                            const std::string& hostname) {
  auto address = network::address::parseIpAndPort(ip_port);
  EXPECT_TRUE(address.ok()) << address.status();
  if (!address.ok()) {
    return nullptr;
  }
  return std::make_shared<const Host>("test_cluster", *address, weight, locality, hostname);
}

HostVector makeHosts(size_t count, const std::vector<uint32_t>& weights,
                     const std::string& prefix) {
  HostVector hosts;
  for (size_t i = 0; i < count; ++i) {
    hosts.push_back(
        makeHost(absl::StrCat(prefix, i + 1, ":80"), i < weights.size() ? weights[i] : 1));
  }
  return hosts;
}

PrioritySetConstSharedPtr singlePriority(const HostVector& hosts) {
  PrioritySet::Builder builder;
  for (const auto& host : hosts) {
    builder.addHost(0, host);
  }
  return builder.build();
}

envoy::config::cluster::v3::Cluster clusterFromYaml(const std::string& yaml) {
  envoy::config::cluster::v3::Cluster cluster;
  absl::Status status = protobuf::loadFromYaml(yaml, cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

LoadBalancerFactoryPtr factoryFromYaml(const std::string& yaml) {
  auto factory = createLoadBalancerFactory(clusterFromYaml(yaml));
  EXPECT_TRUE(factory.ok()) << factory.status();
  return factory.ok() ? *factory : nullptr;
}

std::map<const Host*, uint64_t> countPicks(LoadBalancer& lb, uint64_t n,
                                           LoadBalancerContext* context) {
  std::map<const Host*, uint64_t> counts;
  for (uint64_t i = 0; i < n; ++i) {
    HostConstSharedPtr host = lb.chooseHost(context);
    EXPECT_NE(host, nullptr);
    if (host == nullptr) {
      break;
    }
    ++counts[host.get()];
  }
  return counts;
}

std::vector<double> pickFractions(LoadBalancer& lb, const HostVector& hosts, uint64_t n,
                                  LoadBalancerContext* context) {
  const auto counts = countPicks(lb, n, context);
  std::vector<double> fractions;
  uint64_t matched = 0;
  for (const auto& host : hosts) {
    auto it = counts.find(host.get());
    const uint64_t count = it == counts.end() ? 0 : it->second;
    matched += count;
    fractions.push_back(static_cast<double>(count) / n);
  }
  EXPECT_EQ(matched, n) << "picks outside the expected hosts";
  return fractions;
}

}  // namespace waystone::upstream::lb::test
