#include "source/common/matcher/cidr_range.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/matcher/ip_prefix_table.h"

namespace waystone::matcher {
namespace {

using network::address::IpVersion;
using testing::HasSubstr;

IpAddress ip(absl::string_view text) {
  std::optional<IpAddress> address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

CidrRange cidr(absl::string_view prefix, uint32_t len) {
  absl::StatusOr<CidrRange> range = CidrRange::create(prefix, len, "r");
  EXPECT_TRUE(range.ok()) << range.status();
  return range.ok() ? *range : CidrRange::any(IpVersion::V4);
}

TEST(IpAddressTest, ParsesBothFamiliesAndRejectsTheRest) {
  EXPECT_EQ(ip("10.1.2.3").version, IpVersion::V4);
  EXPECT_EQ(ip("10.1.2.3").bits, absl::uint128(0x0a010203u));
  EXPECT_EQ(ip("::1").version, IpVersion::V6);
  EXPECT_EQ(ip("::1").bits, absl::uint128(1));
  EXPECT_EQ(ip("2001:db8::1").bits, absl::MakeUint128(0x20010db800000000ull, 1));
  for (absl::string_view bad :
       {"", "10.0.0", "10.0.0.1:80", "[::1]", "host", "1.2.3.256", "::ffff:1.2.3.4:80",
        "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000"}) {
    EXPECT_FALSE(IpAddress::parse(bad).has_value()) << bad;
  }
}

TEST(IpAddressTest, FromAddress) {
  auto v4 = network::address::parseIpAndPort("192.168.1.2:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(IpAddress::fromAddress(**v4), ip("192.168.1.2"));
  auto v6 = network::address::parseIpAndPort("[fd00::5]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(IpAddress::fromAddress(**v6), ip("fd00::5"));
  auto pipe = network::address::pipe("/tmp/x.sock");
  ASSERT_TRUE(pipe.ok());
  EXPECT_FALSE(IpAddress::fromAddress(**pipe).has_value());
}

TEST(CidrRangeTest, NormalizesAndContains) {
  const CidrRange range = cidr("10.1.2.3", 8);
  EXPECT_EQ(range.asString(), "10.0.0.0/8");
  EXPECT_TRUE(range.contains(ip("10.255.0.1")));
  EXPECT_FALSE(range.contains(ip("11.0.0.1")));
  EXPECT_FALSE(range.contains(ip("::a01:203")));  // other family
  EXPECT_EQ(cidr("10.1.2.3", 32).asString(), "10.1.2.3/32");
  EXPECT_EQ(cidr("10.1.2.3", 0).asString(), "0.0.0.0/0");
  EXPECT_TRUE(cidr("10.1.2.3", 0).contains(ip("200.1.1.1")));

  const CidrRange v6 = cidr("2001:db8:aaaa::1", 32);
  EXPECT_EQ(v6.asString(), "2001:db8::/32");
  EXPECT_TRUE(v6.contains(ip("2001:db8:ffff::2")));
  EXPECT_FALSE(v6.contains(ip("2001:db9::")));
  EXPECT_EQ(cidr("fd00::5", 128).asString(), "fd00::5/128");
  EXPECT_EQ(cidr("fd00::5", 127).asString(), "fd00::4/127");
  EXPECT_EQ(cidr("10.0.0.1", 31), cidr("10.0.0.0", 31));
}

TEST(CidrRangeTest, ErrorsNameTheField) {
  auto bad_address = CidrRange::create("10.0.0.x", 8, "listener.prefix_ranges[2]");
  ASSERT_FALSE(bad_address.ok());
  EXPECT_THAT(bad_address.status().message(),
              HasSubstr("listener.prefix_ranges[2].address_prefix: malformed IP address"));
  auto too_long = CidrRange::create("10.0.0.1", 33, "p");
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.status().message(), HasSubstr("p.prefix_len: 33 is longer"));
  EXPECT_FALSE(CidrRange::create("::1", 129, "p").ok());
  EXPECT_TRUE(CidrRange::create("::1", 128, "p").ok());

  envoy::config::core::v3::CidrRange proto;
  proto.set_address_prefix("10.0.0.0");  // prefix_len unset: 0, as in Envoy
  auto range = CidrRange::fromProto(proto, "p");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->prefixLen(), 0u);
}

TEST(IpPrefixTableTest, LongestPrefixFirst) {
  IpPrefixTable<std::string> table;
  EXPECT_TRUE(table.empty());
  table.entry(cidr("0.0.0.0", 0)) = "any4";
  table.entry(cidr("10.0.0.0", 8)) = "ten";
  table.entry(cidr("10.1.0.0", 16)) = "ten-one";
  table.entry(cidr("10.1.2.3", 32)) = "host";
  table.entry(cidr("fd00::", 8)) = "ula";
  EXPECT_FALSE(table.empty());

  std::vector<std::string> seen;
  table.forEachMatch(ip("10.1.2.3"), [&](const std::string& value, uint32_t) {
    seen.push_back(value);
    return false;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"host", "ten-one", "ten", "any4"}));

  EXPECT_EQ(*table.longestMatch(ip("10.1.9.9")), "ten-one");
  EXPECT_EQ(*table.longestMatch(ip("10.9.9.9")), "ten");
  EXPECT_EQ(*table.longestMatch(ip("8.8.8.8")), "any4");
  EXPECT_EQ(*table.longestMatch(ip("fdff::1")), "ula");
  EXPECT_EQ(table.longestMatch(ip("2001:db8::1")), nullptr);
  ASSERT_NE(table.find(cidr("10.1.0.0", 16)), nullptr);
  EXPECT_EQ(table.find(cidr("10.2.0.0", 16)), nullptr);

  // The same range (after normalization) is the same entry.
  std::string& again = table.entry(cidr("10.1.77.1", 16));
  EXPECT_EQ(again, "ten-one");
}

}  // namespace
}  // namespace waystone::matcher
