#include "source/common/stream_info/filter_state_objects.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace waystone::stream_info {
namespace {

enum class Kind { String, HashableString, Address };

std::optional<Kind> kindOf(absl::string_view factory_key) {
  if (factory_key == "envoy.string" || factory_key == "envoy.tcp_proxy.cluster" ||
      factory_key == "envoy.network.upstream_server_name") {
    return Kind::String;
  }
  if (factory_key == "istio.hashable_string") {
    return Kind::HashableString;
  }
  if (factory_key == kOriginalDstLocalIp || factory_key == kOriginalDstRemoteIp ||
      factory_key == kTransportSocketOriginalDstAddress) {
    return Kind::Address;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> HashableString::hash() const { return absl::HashOf(value()); }

std::optional<uint64_t> AddressObject::hash() const { return absl::HashOf(address_->asString()); }

bool hasFilterStateObjectFactory(absl::string_view factory_key) {
  return kindOf(factory_key).has_value();
}

absl::StatusOr<FilterState::ObjectSharedPtr> createFilterStateObject(absl::string_view factory_key,
                                                                     absl::string_view value) {
  auto kind = kindOf(factory_key);
  if (!kind.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown filter state object factory \"", factory_key, "\""));
  }
  switch (*kind) {
    case Kind::String:
      return std::make_shared<const StringAccessor>(std::string(value));
    case Kind::HashableString:
      return std::make_shared<const HashableString>(std::string(value));
    case Kind::Address: {
      auto address = network::address::parseIpAndPort(value);
      if (!address.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("filter state \"", factory_key, "\": \"",
                                                       value, "\" is not an IP:port address"));
      }
      return std::make_shared<const AddressObject>(std::move(*address));
    }
  }
  return absl::InternalError("unreachable");
}

}  // namespace waystone::stream_info
