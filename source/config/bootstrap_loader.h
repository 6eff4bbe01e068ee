#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace waystone::config {

// Where the bootstrap comes from: Envoy's -c/--config-path, --config-yaml and
// --allow-unknown-static-fields.
struct BootstrapSource {
  std::string config_path;
  std::string config_yaml;
  bool allow_unknown_static_fields = false;
};

// Loads the bootstrap as Envoy does: the file at config_path (format by extension, see
// protobuf::loadFromFile), then config_yaml parsed as a second Bootstrap and merged over it
// (MergeFrom: scalars replaced, repeated fields appended); either may be absent, not both.
// The result has passed validateBootstrap(). Load errors name their source:
//   "/etc/envoy.yaml: static_resources.listeners[0].foo: unknown field"
//   "--config-yaml: YAML syntax error at line 1, column 7: ..."
// validation errors start with the field path.
absl::StatusOr<envoy::config::bootstrap::v3::Bootstrap> loadBootstrap(
    const BootstrapSource& source);

}  // namespace waystone::config
