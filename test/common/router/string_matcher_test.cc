#include "source/common/router/string_matcher.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"

namespace waystone::router {
namespace {

StringMatcher make(absl::string_view yaml) {
  envoy::type::matcher::v3::StringMatcher config;
  EXPECT_TRUE(protobuf::loadFromYaml(yaml, config).ok());
  auto matcher = StringMatcher::create(config, 100, "m");
  EXPECT_TRUE(matcher.ok()) << matcher.status();
  return matcher.ok() ? *matcher : StringMatcher::exact("<<invalid>>");
}

std::string error(absl::string_view yaml) {
  envoy::type::matcher::v3::StringMatcher config;
  EXPECT_TRUE(protobuf::loadFromYaml(yaml, config).ok());
  auto matcher = StringMatcher::create(config, 100, "m");
  EXPECT_FALSE(matcher.ok());
  return matcher.ok() ? "" : std::string(matcher.status().message());
}

TEST(StringMatcherTest, Exact) {
  EXPECT_TRUE(make("exact: Foo").match("Foo"));
  EXPECT_FALSE(make("exact: Foo").match("foo"));
  EXPECT_TRUE(make("{exact: Foo, ignore_case: true}").match("fOO"));
  EXPECT_FALSE(make("{exact: Foo, ignore_case: true}").match("fOOd"));
  EXPECT_TRUE(make("exact: ''").match(""));
  EXPECT_FALSE(make("exact: ''").match("x"));
}

TEST(StringMatcherTest, PrefixSuffixContains) {
  EXPECT_TRUE(make("prefix: ab").match("abc"));
  EXPECT_FALSE(make("prefix: ab").match("Abc"));
  EXPECT_TRUE(make("{prefix: ab, ignore_case: true}").match("ABc"));
  EXPECT_TRUE(make("suffix: yz").match("xyz"));
  EXPECT_FALSE(make("suffix: yz").match("xyZ"));
  EXPECT_TRUE(make("{suffix: yz, ignore_case: true}").match("XYZ"));
  EXPECT_TRUE(make("contains: mid").match("amidst"));
  EXPECT_FALSE(make("contains: mid").match("aMIDst"));
  EXPECT_TRUE(make("{contains: mid, ignore_case: true}").match("aMIDst"));
  EXPECT_FALSE(make("{contains: mid, ignore_case: true}").match("mi d"));
}

TEST(StringMatcherTest, SafeRegex) {
  const StringMatcher matcher = make("safe_regex: {regex: 'v[0-9]+'}");
  EXPECT_TRUE(matcher.match("v10"));
  EXPECT_FALSE(matcher.match("v10x"));
}

TEST(StringMatcherTest, Errors) {
  EXPECT_EQ("m.ignore_case: ignore_case has no effect for safe_regex",
            error("{safe_regex: {regex: 'a'}, ignore_case: true}"));
  EXPECT_TRUE(absl::StartsWith(error("safe_regex: {regex: '(a'}"), "m.safe_regex.regex: invalid"));
}

}  // namespace
}  // namespace waystone::router
