#include "source/common/protobuf/string_formats.h"

#include "gtest/gtest.h"

namespace waystone::protobuf {
namespace {

TEST(StringFormatsTest, IpAddresses) {
  EXPECT_TRUE(isIpv4("10.0.0.1"));
  EXPECT_FALSE(isIpv4("10.0.0"));
  EXPECT_FALSE(isIpv4("::1"));
  EXPECT_TRUE(isIpv6("::1"));
  EXPECT_TRUE(isIpv6("fe80::1:2"));
  EXPECT_FALSE(isIpv6("fe80:::1"));
  EXPECT_TRUE(isIp("::"));
  EXPECT_FALSE(isIp("example.com"));
}

TEST(StringFormatsTest, Hostnames) {
  EXPECT_TRUE(isHostname("example.com"));
  EXPECT_TRUE(isHostname("example.com."));
  EXPECT_TRUE(isHostname("a-b.c1"));
  EXPECT_FALSE(isHostname(""));
  EXPECT_FALSE(isHostname("-a.com"));
  EXPECT_FALSE(isHostname("a-.com"));
  EXPECT_FALSE(isHostname("a..com"));
  EXPECT_FALSE(isHostname("a_b.com"));
  EXPECT_FALSE(isHostname(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(isHostname(std::string(250, 'a') + ".com"));
}

TEST(StringFormatsTest, EmailUriUuid) {
  EXPECT_TRUE(isEmail("me@example.com"));
  EXPECT_FALSE(isEmail("@example.com"));
  EXPECT_FALSE(isEmail("me@"));
  EXPECT_TRUE(isUri("https://example.com/x?y"));
  EXPECT_TRUE(isUri("spiffe://cluster.local/ns/a/sa/b"));
  EXPECT_FALSE(isUri("/relative/path"));
  EXPECT_FALSE(isUri("http://a b"));
  EXPECT_TRUE(isUriRef("/relative/path"));
  EXPECT_TRUE(isUuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(isUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(isUuid("123e4567-e89b-12d3-a456-42661417400g"));
}

TEST(StringFormatsTest, HeaderNames) {
  EXPECT_TRUE(isHttpHeaderName("x-request-id", true));
  EXPECT_TRUE(isHttpHeaderName(":authority", true));
  EXPECT_FALSE(isHttpHeaderName("bad header", true));
  EXPECT_FALSE(isHttpHeaderName("", true));
  EXPECT_TRUE(isHttpHeaderName("bad header", false));
  EXPECT_FALSE(isHttpHeaderName(std::string("a\0b", 3), false));
  EXPECT_FALSE(isHttpHeaderName("a\nb", false));
}

TEST(StringFormatsTest, HeaderValues) {
  EXPECT_TRUE(isHttpHeaderValue("text/html; q=0.9\tx", true));
  EXPECT_FALSE(isHttpHeaderValue("a\x01", true));
  EXPECT_FALSE(isHttpHeaderValue("a\x7f", true));
  EXPECT_TRUE(isHttpHeaderValue("a\x01", false));
  EXPECT_FALSE(isHttpHeaderValue("a\rb", false));
}

TEST(StringFormatsTest, Utf8Length) {
  EXPECT_EQ(utf8Length("abc"), 3u);
  EXPECT_EQ(utf8Length("\xc3\xa9t\xc3\xa9"), 3u);
  EXPECT_EQ(utf8Length("\xf0\x9f\x98\x80"), 1u);
}

}  // namespace
}  // namespace waystone::protobuf
