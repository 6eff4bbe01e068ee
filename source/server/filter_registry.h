#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"

#include "source/common/network/filter.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::server {

// What a filter factory may use while it turns its proto into immutable config.
struct FactoryContext {
  const upstream::ClusterManager& cluster_manager;
  stats::Store& store;
  protobuf::LoadOptions load_options;
  // The per-worker load balancers and pools (the router uses them).
  const upstream::WorkerClusterManagers& worker_cluster_managers;
};

// Builds a network filter factory from a typed_config. `field_path` names the typed_config in
// errors, e.g. "static_resources.listeners[0].filter_chains[0].filters[0].typed_config".
using NetworkFilterConfigFactory = std::function<absl::StatusOr<network::FilterFactoryCb>(
    const google::protobuf::Any& typed_config, FactoryContext& context,
    const std::string& field_path)>;

// The network filters Waystone knows, keyed by their config's proto type name (as in the
// typed_config @type, after unwrapping a TypedStruct). One explicit list, no static
// registration: see filter_registry.cc.
class FilterRegistry {
 public:
  static const FilterRegistry& get();

  // nullptr when the type is unknown.
  const NetworkFilterConfigFactory* networkFilter(const std::string& type_name) const;
  std::vector<std::string> networkFilterTypes() const;

 private:
  FilterRegistry();
  std::map<std::string, NetworkFilterConfigFactory> network_filters_;
};

}  // namespace waystone::server
