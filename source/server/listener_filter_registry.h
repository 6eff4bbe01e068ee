#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"

#include "source/common/network/listener_filter.h"
#include "source/common/protobuf/load_options.h"

namespace waystone::server {

// Builds a listener filter factory from its typed_config; `field_path` names it in errors.
using ListenerFilterConfigFactory = std::function<absl::StatusOr<network::ListenerFilterFactoryCb>(
    const google::protobuf::Any& typed_config, const protobuf::LoadOptions& options,
    const std::string& field_path)>;

// The listener filters Waystone knows, by config proto type name. One explicit list (see the .cc).
class ListenerFilterRegistry {
 public:
  static const ListenerFilterRegistry& get();
  // nullptr when unknown.
  const ListenerFilterConfigFactory* find(const std::string& type_name) const;
  std::vector<std::string> types() const;

 private:
  ListenerFilterRegistry();
  std::map<std::string, ListenerFilterConfigFactory> factories_;
};

}  // namespace waystone::server
