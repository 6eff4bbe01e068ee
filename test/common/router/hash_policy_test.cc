#include "source/common/router/hash_policy.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"
#include "source/common/router/hash_util.h"

namespace waystone::router {
namespace {

absl::StatusOr<HashPolicy> make(absl::string_view yaml) {
  envoy::config::route::v3::RouteAction action;
  const absl::Status loaded = protobuf::loadFromYaml(yaml, action);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return HashPolicy::create(action.hash_policy(), 100, "route.hash_policy");
}

uint64_t rotl1(uint64_t value) { return (value << 1) | (value >> 63); }

TEST(HashPolicyTest, HeaderHashIsStableAndOrderIndependent) {
  auto policy = make("hash_policy: [{header: {header_name: X-User}}]");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const http::HeaderMap headers{{"x-user", "alice"}};
  // The same value everywhere, every time: xxHash64 of the value.
  EXPECT_EQ(HashUtil::xxHash64("alice"), policy->generateHash(headers, "").value());
  EXPECT_NE(policy->generateHash(http::HeaderMap{{"x-user", "bob"}}, "").value(),
            policy->generateHash(headers, "").value());
  EXPECT_EQ(policy->generateHash(http::HeaderMap{{"x-user", "a"}, {"x-user", "b"}}, ""),
            policy->generateHash(http::HeaderMap{{"x-user", "b"}, {"x-user", "a"}}, ""));
  EXPECT_FALSE(policy->generateHash(http::HeaderMap{{"x-other", "a"}}, "").has_value());
}

TEST(HashPolicyTest, HeaderRegexRewrite) {
  auto policy = make(R"(
hash_policy:
- header:
    header_name: ':path'
    regex_rewrite: {pattern: {regex: '\?.*'}, substitution: ''}
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(HashUtil::xxHash64("/a/b"),
            policy->generateHash(http::HeaderMap{{":path", "/a/b?x=1"}}, "").value());
}

TEST(HashPolicyTest, SourceIpAndQueryParameter) {
  auto policy = make("hash_policy: [{connection_properties: {source_ip: true}}]");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(HashUtil::xxHash64("10.0.0.1"), policy->generateHash({}, "10.0.0.1").value());
  EXPECT_FALSE(policy->generateHash({}, "").has_value());

  auto query = make("hash_policy: [{query_parameter: {name: session}}]");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(HashUtil::xxHash64("s1"),
            query->generateHash(http::HeaderMap{{":path", "/a?x=1&session=s1"}}, "").value());
  EXPECT_FALSE(query->generateHash(http::HeaderMap{{":path", "/a?x=1"}}, "").has_value());
}

TEST(HashPolicyTest, Cookie) {
  auto policy = make("hash_policy: [{cookie: {name: sid, ttl: 60s, path: /app}}]");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(HashUtil::xxHash64("abc"),
            policy->generateHash(http::HeaderMap{{"cookie", "a=1; sid=abc; b=2"}}, "").value());
  EXPECT_EQ(HashUtil::xxHash64("q"),
            policy->generateHash(http::HeaderMap{{"cookie", "x=1"}, {"cookie", "sid=\"q\""}}, "")
                .value());
  // Absent cookie with a ttl: the router is asked to set one, and its value is hashed.
  HashPolicy::CookieSpec asked;
  const auto add_cookie = [&asked](const HashPolicy::CookieSpec& cookie) {
    asked = cookie;
    return std::string("generated");
  };
  EXPECT_EQ(HashUtil::xxHash64("generated"),
            policy->generateHash(http::HeaderMap{}, "", add_cookie).value());
  EXPECT_EQ("sid", asked.name);
  EXPECT_EQ("/app", asked.path);
  EXPECT_EQ(std::chrono::seconds(60), asked.ttl);
  EXPECT_FALSE(policy->generateHash(http::HeaderMap{}, "").has_value());

  auto no_ttl = make("hash_policy: [{cookie: {name: sid}}]");
  ASSERT_TRUE(no_ttl.ok());
  bool called = false;
  EXPECT_FALSE(no_ttl
                   ->generateHash(http::HeaderMap{}, "",
                                  [&called](const auto&) {
                                    called = true;
                                    return std::string("x");
                                  })
                   .has_value());
  EXPECT_FALSE(called);
}

TEST(HashPolicyTest, CombinationAndTerminal) {
  auto policy = make(R"(
hash_policy:
- header: {header_name: x-a}
- header: {header_name: x-b}
)");
  ASSERT_TRUE(policy.ok());
  const http::HeaderMap both{{"x-a", "1"}, {"x-b", "2"}};
  EXPECT_EQ(rotl1(HashUtil::xxHash64("1")) ^ HashUtil::xxHash64("2"),
            policy->generateHash(both, "").value());
  // Only the second present: just its hash.
  EXPECT_EQ(HashUtil::xxHash64("2"), policy->generateHash(http::HeaderMap{{"x-b", "2"}}, ""));

  auto terminal = make(R"(
hash_policy:
- header: {header_name: x-a}
  terminal: true
- header: {header_name: x-b}
)");
  ASSERT_TRUE(terminal.ok());
  EXPECT_EQ(HashUtil::xxHash64("1"), terminal->generateHash(both, "").value());
  // The terminal policy produced nothing, so evaluation continues.
  EXPECT_EQ(HashUtil::xxHash64("2"), terminal->generateHash(http::HeaderMap{{"x-b", "2"}}, ""));
}

TEST(HashPolicyTest, Errors) {
  auto filter_state = make("hash_policy: [{header: {header_name: a}}, {filter_state: {key: k}}]");
  ASSERT_FALSE(filter_state.ok());
  EXPECT_EQ("route.hash_policy[1].filter_state: filter_state hash policies are not supported",
            filter_state.status().message());
  auto bad_regex = make(R"(
hash_policy:
- header:
    header_name: x
    regex_rewrite: {pattern: {regex: '('}, substitution: ''}
)");
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_TRUE(absl::StartsWith(bad_regex.status().message(),
                               "route.hash_policy[0].header.regex_rewrite.pattern.regex: invalid "
                               "RE2"))
      << bad_regex.status();
}

}  // namespace
}  // namespace waystone::router
