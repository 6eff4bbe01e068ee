#include "source/common/router/compiled_regex.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace waystone::router {
namespace {

TEST(CompiledRegexTest, FullMatchOnly) {
  auto regex = CompiledRegex::create("/api/v[0-9]+", 100, "r");
  ASSERT_TRUE(regex.ok()) << regex.status();
  EXPECT_TRUE((*regex)->fullMatch("/api/v12"));
  EXPECT_FALSE((*regex)->fullMatch("/api/v12/x"));
  EXPECT_FALSE((*regex)->fullMatch("x/api/v1"));
}

TEST(CompiledRegexTest, InvalidRegexNamesTheField) {
  envoy::type::matcher::v3::RegexMatcher matcher;
  matcher.set_regex("(abc");
  auto regex = CompiledRegex::create(matcher, 100, "match.safe_regex");
  ASSERT_FALSE(regex.ok());
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, regex.status().code());
  EXPECT_TRUE(absl::StartsWith(regex.status().message(), "match.safe_regex.regex: invalid RE2: "))
      << regex.status();
}

TEST(CompiledRegexTest, ProgramSizeLimitIsAParameter) {
  const std::string pattern = "(a|b|c|d|e|f|g)+[0-9]{1,20}";
  auto small = CompiledRegex::create(pattern, 10, "x");
  ASSERT_FALSE(small.ok());
  EXPECT_TRUE(absl::StrContains(small.status().message(), "exceeds the maximum program size 10"))
      << small.status();
  auto large = CompiledRegex::create(pattern, 10000, "x");
  EXPECT_TRUE(large.ok()) << large.status();
}

TEST(CompiledRegexTest, DeprecatedPerRegexLimitOverrides) {
  envoy::type::matcher::v3::RegexMatcher matcher;
  matcher.set_regex("[a-z]{1,50}");
  EXPECT_FALSE(CompiledRegex::create(matcher, 100, "x").ok());
  matcher.mutable_google_re2()->mutable_max_program_size()->set_value(100000);
  EXPECT_TRUE(CompiledRegex::create(matcher, 100, "x").ok());
}

TEST(CompiledRegexTest, ReplaceAllAndSubstitutionCheck) {
  auto regex = CompiledRegex::create("o+", 100, "r");
  ASSERT_TRUE(regex.ok());
  EXPECT_EQ("f0 b0", (*regex)->replaceAll("foo boo", "0"));
  auto groups = CompiledRegex::create("^/svc/([^/]+)/(.*)$", 100, "r");
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ("/2/1", (*groups)->replaceAll("/svc/1/2", "/\\2/\\1"));
  EXPECT_TRUE((*groups)->checkSubstitution("\\1", "s").ok());
  const absl::Status bad = (*groups)->checkSubstitution("\\3", "a.substitution");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.message(), "a.substitution: invalid substitution"));
}

}  // namespace
}  // namespace waystone::router
