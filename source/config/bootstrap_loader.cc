#include "source/config/bootstrap_loader.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "source/common/protobuf/message_loader.h"
#include "source/config/bootstrap_validator.h"

namespace waystone::config {

absl::StatusOr<envoy::config::bootstrap::v3::Bootstrap> loadBootstrap(
    const BootstrapSource& source) {
  if (source.config_path.empty() && source.config_yaml.empty()) {
    return absl::InvalidArgumentError("no configuration: pass -c/--config-path or --config-yaml");
  }
  protobuf::LoadOptions options;
  options.allow_unknown_fields = source.allow_unknown_static_fields;
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  if (!source.config_path.empty()) {
    absl::Status status = protobuf::loadFromFile(source.config_path, bootstrap, options);
    if (!status.ok()) {
      // Read errors already name the file.
      if (absl::StartsWith(status.message(), "cannot read config file") ||
          absl::StartsWith(status.message(), "config file")) {
        return status;
      }
      return absl::InvalidArgumentError(absl::StrCat(source.config_path, ": ", status.message()));
    }
  }
  if (!source.config_yaml.empty()) {
    absl::Status status = protobuf::mergeYamlOver(source.config_yaml, bootstrap, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--config-yaml: ", status.message()));
    }
  }
  absl::Status status = validateBootstrap(bootstrap, options);
  if (!status.ok()) {
    return status;
  }
  return bootstrap;
}

}  // namespace waystone::config
