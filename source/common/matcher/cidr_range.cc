#include "source/common/matcher/cidr_range.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include <arpa/inet.h>
#include <netinet/in.h>

namespace waystone::matcher {

using network::address::IpVersion;

namespace {

uint32_t addressBits(IpVersion version) { return version == IpVersion::V4 ? 32 : 128; }

absl::uint128 fromIn6(const in6_addr& address) {
  uint64_t high = 0;
  uint64_t low = 0;
  for (int i = 0; i < 8; ++i) {
    high = (high << 8) | address.s6_addr[i];
    low = (low << 8) | address.s6_addr[i + 8];
  }
  return absl::MakeUint128(high, low);
}

in6_addr toIn6(absl::uint128 bits) {
  in6_addr address;
  uint64_t high = absl::Uint128High64(bits);
  uint64_t low = absl::Uint128Low64(bits);
  for (int i = 7; i >= 0; --i) {
    address.s6_addr[i] = static_cast<uint8_t>(high & 0xff);
    address.s6_addr[i + 8] = static_cast<uint8_t>(low & 0xff);
    high >>= 8;
    low >>= 8;
  }
  return address;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(absl::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest valid text ("ffff:...:255.255.255.255")
  // fits INET6_ADDRSTRLEN, so anything longer cannot be an address.
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof(buffer)) {
    return std::nullopt;
  }
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  in_addr v4;
  if (::inet_pton(AF_INET, buffer, &v4) == 1) {
    return IpAddress{IpVersion::V4, absl::uint128(ntohl(v4.s_addr))};
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, buffer, &v6) == 1) {
    return IpAddress{IpVersion::V6, fromIn6(v6)};
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::fromAddress(const network::address::Instance& address) {
  if (address.type() != network::address::Type::Ip) {
    return std::nullopt;
  }
  const sockaddr* sa = address.sockAddr();
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return IpAddress{IpVersion::V4, absl::uint128(ntohl(in->sin_addr.s_addr))};
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return IpAddress{IpVersion::V6, fromIn6(in6->sin6_addr)};
  }
  return std::nullopt;
}

absl::uint128 CidrRange::mask(absl::uint128 bits, IpVersion version, uint32_t prefix_len) {
  const uint32_t width = addressBits(version);
  if (prefix_len == 0) {
    return 0;
  }
  if (prefix_len >= width) {
    return bits;
  }
  const absl::uint128 all =
      version == IpVersion::V4 ? absl::uint128(0xffffffffu) : absl::Uint128Max();
  const absl::uint128 keep = (all << (width - prefix_len)) & all;
  return bits & keep;
}

absl::StatusOr<CidrRange> CidrRange::create(absl::string_view address_prefix, uint32_t prefix_len,
                                            absl::string_view path) {
  const std::optional<IpAddress> address = IpAddress::parse(address_prefix);
  if (!address) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".address_prefix: malformed IP address '", address_prefix, "'"));
  }
  const uint32_t width = addressBits(address->version);
  if (prefix_len > width) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ".prefix_len: ", prefix_len, " is longer than the address (", width, " bits)"));
  }
  return CidrRange(address->version, prefix_len, mask(address->bits, address->version, prefix_len));
}

absl::StatusOr<CidrRange> CidrRange::fromProto(const envoy::config::core::v3::CidrRange& proto,
                                               absl::string_view path) {
  return create(proto.address_prefix(), proto.prefix_len().value(), path);
}

absl::StatusOr<CidrRange> CidrRange::fromProto(const xds::core::v3::CidrRange& proto,
                                               absl::string_view path) {
  return create(proto.address_prefix(), proto.prefix_len().value(), path);
}

CidrRange CidrRange::any(IpVersion version) { return CidrRange(version, 0, 0); }

bool CidrRange::contains(const IpAddress& address) const {
  return address.version == version_ && mask(address.bits, version_, prefix_len_) == bits_;
}

std::string CidrRange::asString() const {
  char text[INET6_ADDRSTRLEN];
  if (version_ == IpVersion::V4) {
    in_addr v4;
    v4.s_addr = htonl(static_cast<uint32_t>(absl::Uint128Low64(bits_)));
    ::inet_ntop(AF_INET, &v4, text, sizeof(text));
  } else {
    const in6_addr v6 = toIn6(bits_);
    ::inet_ntop(AF_INET6, &v6, text, sizeof(text));
  }
  return absl::StrCat(text, "/", prefix_len_);
}

}  // namespace waystone::matcher
