#include "source/config/bootstrap_validator.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include "source/common/protobuf/pgv_validator.h"
#include "source/config/address_validator.h"
#include "source/config/cluster_validator.h"
#include "source/config/listener_validator.h"

namespace waystone::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

// Remembers the first path each name was seen at, to report duplicates against it.
class UniqueNames {
 public:
  explicit UniqueNames(absl::string_view kind) : kind_(kind) {}

  absl::Status add(const std::string& name, const std::string& path) {
    if (name.empty()) {
      return absl::OkStatus();  // Unnamed resources get generated names; they cannot collide.
    }
    auto [it, inserted] = first_.emplace(name, path);
    if (inserted) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ".name: duplicate ", kind_, " name \"",
                                                   name, "\" (also ", it->second, ")"));
  }

 private:
  const std::string kind_;
  absl::flat_hash_map<std::string, std::string> first_;
};

absl::Status validateListeners(const Bootstrap& bootstrap) {
  UniqueNames names("listener");
  absl::flat_hash_map<std::string, std::string> bound;  // "ip:port" -> path of its address
  const auto& listeners = bootstrap.static_resources().listeners();
  for (int i = 0; i < listeners.size(); ++i) {
    const auto& listener = listeners[i];
    const std::string path = absl::StrCat("static_resources.listeners[", i, "]");
    absl::Status status = names.add(listener.name(), path);
    if (status.ok()) {
      status = validateListener(listener, path);
    }
    if (!status.ok()) {
      return status;
    }
    // Workers bind with SO_REUSEPORT, so two listeners on one ip:port would both bind and split
    // the traffic between them at random: refuse that here.
    std::vector<std::pair<std::string, const envoy::config::core::v3::Address*>> addresses;
    if (listener.has_address()) {
      addresses.emplace_back(absl::StrCat(path, ".address"), &listener.address());
    }
    for (int j = 0; j < listener.additional_addresses_size(); ++j) {
      addresses.emplace_back(absl::StrCat(path, ".additional_addresses[", j, "].address"),
                             &listener.additional_addresses(j).address());
    }
    for (const auto& [address_path, address] : addresses) {
      const std::string key = bindKey(*address);
      if (key.empty()) {
        continue;
      }
      auto [it, inserted] = bound.emplace(key, address_path);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat(address_path, ": ", key, " is already bound by ", it->second));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status validateClusters(const Bootstrap& bootstrap) {
  UniqueNames names("cluster");
  const auto& clusters = bootstrap.static_resources().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    const std::string path = absl::StrCat("static_resources.clusters[", i, "]");
    absl::Status status = names.add(clusters[i].name(), path);
    if (status.ok()) {
      status = validateCluster(clusters[i], path);
    }
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status validateSecrets(const Bootstrap& bootstrap) {
  UniqueNames names("secret");
  const auto& secrets = bootstrap.static_resources().secrets();
  for (int i = 0; i < secrets.size(); ++i) {
    absl::Status status =
        names.add(secrets[i].name(), absl::StrCat("static_resources.secrets[", i, "]"));
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validateBootstrap(const Bootstrap& bootstrap, const protobuf::LoadOptions& options) {
  absl::Status status = protobuf::validate(bootstrap, options);
  if (status.ok()) {
    status = validateListeners(bootstrap);
  }
  if (status.ok()) {
    status = validateClusters(bootstrap);
  }
  if (status.ok()) {
    status = validateSecrets(bootstrap);
  }
  if (status.ok() && bootstrap.admin().has_address()) {
    status = validateAddress(bootstrap.admin().address(), AddressUse::Listen, "admin.address");
  }
  return status;
}

}  // namespace waystone::config
