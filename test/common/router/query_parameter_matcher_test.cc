#include "source/common/router/query_parameter_matcher.h"

#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"

namespace waystone::router {
namespace {

QueryParameterMatcher make(absl::string_view yaml) {
  envoy::config::route::v3::QueryParameterMatcher config;
  EXPECT_TRUE(protobuf::loadFromYaml(yaml, config).ok());
  auto matcher = QueryParameterMatcher::create(config, 100, "q");
  EXPECT_TRUE(matcher.ok()) << matcher.status();
  return *matcher;
}

TEST(QueryParameterMatcherTest, StringMatch) {
  const QueryParameterMatcher matcher = make("{name: debug, string_match: {exact: '1'}}");
  EXPECT_TRUE(matcher.matches("/a?debug=1"));
  EXPECT_TRUE(matcher.matches("/a?x=2&debug=1"));
  EXPECT_FALSE(matcher.matches("/a?debug=2"));
  EXPECT_FALSE(matcher.matches("/a?debug=2&debug=1"));  // only the first value counts
  EXPECT_FALSE(matcher.matches("/a"));
  EXPECT_FALSE(matcher.matches("/a#debug=1"));
  const QueryParameterMatcher regex =
      make("{name: id, string_match: {safe_regex: {regex: '[0-9]+'}}}");
  EXPECT_TRUE(regex.matches("/a?id=123"));
  EXPECT_FALSE(regex.matches("/a?id=12a"));
}

TEST(QueryParameterMatcherTest, PresentMatch) {
  const QueryParameterMatcher matcher = make("{name: debug, present_match: true}");
  EXPECT_TRUE(matcher.matches("/a?debug"));
  EXPECT_TRUE(matcher.matches("/a?debug="));
  EXPECT_TRUE(matcher.matches("/a?debug=x"));
  EXPECT_FALSE(matcher.matches("/a?debugger=1"));
  EXPECT_FALSE(matcher.matches("/a"));
}

TEST(QueryParameterMatcherTest, MatchAll) {
  const std::vector<QueryParameterMatcher> matchers = {
      make("{name: a, present_match: true}"), make("{name: b, string_match: {prefix: x}}")};
  EXPECT_TRUE(QueryParameterMatcher::matchAll(matchers, "/p?a&b=xy"));
  EXPECT_FALSE(QueryParameterMatcher::matchAll(matchers, "/p?a&b=yx"));
  EXPECT_FALSE(QueryParameterMatcher::matchAll(matchers, "/p?b=xy"));
}

}  // namespace
}  // namespace waystone::router
