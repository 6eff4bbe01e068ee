#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/network/address.h"
#include "source/common/stream_info/filter_state.h"

namespace waystone::stream_info {

// The filter-state object types that config can create by name (set_filter_state's
// `factory_key`, or the object key itself for well-known keys), as Envoy's
// StreamInfo::FilterState::ObjectFactory registry does.

// "envoy.string": a plain string.
class StringAccessor : public FilterState::Object {
 public:
  explicit StringAccessor(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  std::optional<std::string> serializeAsString() const override { return value_; }

 private:
  const std::string value_;
};

// "istio.hashable_string": a string that also partitions upstream connection pools.
class HashableString : public StringAccessor {
 public:
  using StringAccessor::StringAccessor;
  std::optional<uint64_t> hash() const override;
};

// An IP:port, e.g. "envoy.filters.listener.original_dst.local_ip": what the original_dst
// listener filter restores as a connection's local (or remote) address.
class AddressObject : public FilterState::Object {
 public:
  explicit AddressObject(network::address::InstanceConstSharedPtr address)
      : address_(std::move(address)) {}
  const network::address::InstanceConstSharedPtr& address() const { return address_; }
  std::optional<std::string> serializeAsString() const override { return address_->asString(); }
  std::optional<uint64_t> hash() const override;

 private:
  const network::address::InstanceConstSharedPtr address_;
};

// Well-known keys.
inline constexpr absl::string_view kOriginalDstLocalIp =
    "envoy.filters.listener.original_dst.local_ip";
inline constexpr absl::string_view kOriginalDstRemoteIp =
    "envoy.filters.listener.original_dst.remote_ip";
inline constexpr absl::string_view kTransportSocketOriginalDstAddress =
    "envoy.network.transport_socket.original_dst_address";

// Makes an object from its text form: `factory_key` names the type ("envoy.string",
// "istio.hashable_string", or a well-known key whose type is fixed, such as the original_dst
// address keys). Errors name the factory and the value: an unknown factory, or text the type
// cannot hold (e.g. "not an IP:port").
absl::StatusOr<FilterState::ObjectSharedPtr> createFilterStateObject(absl::string_view factory_key,
                                                                     absl::string_view value);

// True when createFilterStateObject knows `factory_key` (checked when config loads).
bool hasFilterStateObjectFactory(absl::string_view factory_key);

}  // namespace waystone::stream_info
