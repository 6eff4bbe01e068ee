#include "source/config/listener_validator.h"

#include "absl/strings/str_cat.h"

#include "source/config/address_validator.h"

namespace waystone::config {

absl::Status validateListener(const envoy::config::listener::v3::Listener& listener,
                              const std::string& path) {
  if (!listener.has_address()) {
    if (listener.has_internal_listener() || listener.has_api_listener()) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        path, ".address: a listener needs an address (or internal_listener for an internal one)"));
  }
  absl::Status status =
      validateAddress(listener.address(), AddressUse::Listen, absl::StrCat(path, ".address"));
  if (!status.ok()) {
    return status;
  }
  for (int i = 0; i < listener.additional_addresses_size(); ++i) {
    status = validateAddress(listener.additional_addresses(i).address(), AddressUse::Listen,
                             absl::StrCat(path, ".additional_addresses[", i, "].address"));
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace waystone::config
