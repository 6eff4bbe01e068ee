#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/map.h"

namespace waystone::router {

// One level's typed_per_filter_config: the raw Any per HTTP filter name. Filters unpack their
// own entry (this layer does not know their types). Immutable.
class PerFilterConfigs {
 public:
  PerFilterConfigs() = default;

  // `path` names the map field (e.g. "virtual_hosts[0].typed_per_filter_config").
  static absl::StatusOr<PerFilterConfigs> create(
      const google::protobuf::Map<std::string, google::protobuf::Any>& configs,
      absl::string_view path);

  // nullptr when `filter_name` has no entry.
  const google::protobuf::Any* get(absl::string_view filter_name) const;
  bool empty() const { return configs_.empty(); }

 private:
  absl::flat_hash_map<std::string, google::protobuf::Any> configs_;
};

}  // namespace waystone::router
