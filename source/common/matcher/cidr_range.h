#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/core/v3/address.pb.h"
#include "xds/core/v3/cidr.pb.h"

#include "source/common/network/address.h"

namespace waystone::matcher {

// An IPv4 or IPv6 address as a number, for prefix arithmetic: IPv4 in the low 32 bits. Matching
// compares it against CidrRanges without allocating.
struct IpAddress {
  network::address::IpVersion version = network::address::IpVersion::V4;
  absl::uint128 bits = 0;

  // "10.0.0.1" or "::1" (no port, no brackets); nullopt for anything else. Allocation-free.
  static std::optional<IpAddress> parse(absl::string_view text);
  // The IP of an address; nullopt for pipes.
  static std::optional<IpAddress> fromAddress(const network::address::Instance& address);

  bool operator==(const IpAddress& other) const {
    return version == other.version && bits == other.bits;
  }
};

// A CIDR range, normalized as Envoy does: the address bits beyond the prefix length are cleared,
// so "10.1.2.3/8" is 10.0.0.0/8. Immutable.
class CidrRange {
 public:
  // Errors name `path` (the CidrRange message): "<path>.address_prefix: malformed IP address 'x'",
  // "<path>.prefix_len: 33 is longer than the address (32 bits)". An unset prefix_len is 0, as in
  // Envoy, so the range covers every address of its family.
  static absl::StatusOr<CidrRange> fromProto(const envoy::config::core::v3::CidrRange& proto,
                                             absl::string_view path);
  static absl::StatusOr<CidrRange> fromProto(const xds::core::v3::CidrRange& proto,
                                             absl::string_view path);
  static absl::StatusOr<CidrRange> create(absl::string_view address_prefix, uint32_t prefix_len,
                                          absl::string_view path);
  // Every address of `version` (0.0.0.0/0 or ::/0).
  static CidrRange any(network::address::IpVersion version);

  network::address::IpVersion version() const { return version_; }
  uint32_t prefixLen() const { return prefix_len_; }
  // The network address, masked to the prefix length.
  absl::uint128 bits() const { return bits_; }

  bool contains(const IpAddress& address) const;
  // "10.0.0.0/8", "2001:db8::/32".
  std::string asString() const;

  bool operator==(const CidrRange& other) const {
    return version_ == other.version_ && prefix_len_ == other.prefix_len_ && bits_ == other.bits_;
  }

  // `bits` with everything beyond the first `prefix_len` bits of a `version` address cleared.
  static absl::uint128 mask(absl::uint128 bits, network::address::IpVersion version,
                            uint32_t prefix_len);

 private:
  CidrRange(network::address::IpVersion version, uint32_t prefix_len, absl::uint128 bits)
      : version_(version), prefix_len_(prefix_len), bits_(bits) {}

  network::address::IpVersion version_;
  uint32_t prefix_len_;
  absl::uint128 bits_;
};

}  // namespace waystone::matcher
