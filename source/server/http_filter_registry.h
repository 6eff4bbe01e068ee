#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"

#include "source/common/http/filter.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::server {

// What an HTTP filter factory may use while it turns its proto into immutable config.
struct HttpFilterFactoryContext {
  const upstream::WorkerClusterManagers& cluster_managers;
  stats::Store& store;
  protobuf::LoadOptions load_options;
  // The connection manager's stat_prefix: filter stats live under http.<stat_prefix>.
  std::string stat_prefix;
};

using HttpFilterConfigFactory = std::function<absl::StatusOr<http::FilterFactoryCb>(
    const google::protobuf::Any& typed_config, HttpFilterFactoryContext& context,
    const std::string& field_path)>;

// The HTTP filters Waystone knows, by the proto type of their typed_config (after unwrapping a
// TypedStruct). One explicit list: http_filter_registry.cc.
class HttpFilterRegistry {
 public:
  static const HttpFilterRegistry& get();

  // nullptr when the type is unknown.
  const HttpFilterConfigFactory* find(const std::string& type_name) const;
  // Whether the type is a terminal filter (must be last in the chain).
  bool isTerminal(const std::string& type_name) const;
  std::vector<std::string> types() const;

 private:
  HttpFilterRegistry();
  std::map<std::string, HttpFilterConfigFactory> factories_;
  std::vector<std::string> terminal_;
};

}  // namespace waystone::server
