#include "source/common/router/header_matcher.h"

#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"

namespace waystone::router {
namespace {

HeaderMatcher make(absl::string_view yaml) {
  envoy::config::route::v3::HeaderMatcher config;
  const absl::Status loaded = protobuf::loadFromYaml(yaml, config);
  EXPECT_TRUE(loaded.ok()) << loaded;
  auto matcher = HeaderMatcher::create(config, 100, "h");
  EXPECT_TRUE(matcher.ok()) << matcher.status();
  return *matcher;
}

const http::HeaderMap kHeaders{{"x-env", "prod"}, {"x-num", "42"}, {"x-multi", "a"},
                               {"x-multi", "b"},  {"x-empty", ""}, {":method", "POST"}};

bool matches(absl::string_view yaml) { return make(yaml).matches(kHeaders); }

TEST(HeaderMatcherTest, StringMatch) {
  EXPECT_TRUE(matches("{name: x-env, string_match: {exact: prod}}"));
  EXPECT_FALSE(matches("{name: x-env, string_match: {exact: dev}}"));
  EXPECT_TRUE(matches("{name: X-Env, string_match: {prefix: pr}}"));  // names are case-insensitive
  EXPECT_FALSE(matches("{name: x-env, string_match: {prefix: od}}"));
  EXPECT_TRUE(matches("{name: x-env, string_match: {suffix: od}}"));
  EXPECT_FALSE(matches("{name: x-env, string_match: {suffix: pr}}"));
  EXPECT_TRUE(matches("{name: x-env, string_match: {contains: ro}}"));
  EXPECT_FALSE(matches("{name: x-env, string_match: {contains: x}}"));
  EXPECT_TRUE(matches("{name: x-env, string_match: {safe_regex: {regex: 'p.*d'}}}"));
  EXPECT_FALSE(matches("{name: x-env, string_match: {safe_regex: {regex: 'p'}}}"));
  EXPECT_TRUE(matches("{name: ':method', string_match: {exact: POST}}"));
}

TEST(HeaderMatcherTest, DeprecatedDirectFields) {
  EXPECT_TRUE(matches("{name: x-env, exact_match: prod}"));
  EXPECT_FALSE(matches("{name: x-env, exact_match: dev}"));
  EXPECT_TRUE(matches("{name: x-env, prefix_match: pr}"));
  EXPECT_FALSE(matches("{name: x-env, prefix_match: od}"));
  EXPECT_TRUE(matches("{name: x-env, suffix_match: od}"));
  EXPECT_FALSE(matches("{name: x-env, suffix_match: pr}"));
  EXPECT_TRUE(matches("{name: x-env, contains_match: ro}"));
  EXPECT_FALSE(matches("{name: x-env, contains_match: zz}"));
  EXPECT_TRUE(matches("{name: x-env, safe_regex_match: {regex: '[a-z]+'}}"));
  EXPECT_FALSE(matches("{name: x-env, safe_regex_match: {regex: '[0-9]+'}}"));
  // An empty exact_match only asks for the header to be present (Envoy).
  EXPECT_TRUE(matches("{name: x-env, exact_match: ''}"));
  EXPECT_FALSE(matches("{name: x-missing, exact_match: ''}"));
}

TEST(HeaderMatcherTest, NoSpecifierMeansPresentWithAnyValue) {
  EXPECT_TRUE(matches("{name: x-empty}"));
  EXPECT_FALSE(matches("{name: x-missing}"));
}

TEST(HeaderMatcherTest, PresentMatch) {
  EXPECT_TRUE(matches("{name: x-env, present_match: true}"));
  EXPECT_FALSE(matches("{name: x-missing, present_match: true}"));
  EXPECT_TRUE(matches("{name: x-missing, present_match: false}"));
  EXPECT_FALSE(matches("{name: x-env, present_match: false}"));
}

TEST(HeaderMatcherTest, RangeMatch) {
  EXPECT_TRUE(matches("{name: x-num, range_match: {start: 42, end: 43}}"));
  EXPECT_FALSE(matches("{name: x-num, range_match: {start: 0, end: 42}}"));   // end is exclusive
  EXPECT_FALSE(matches("{name: x-env, range_match: {start: 0, end: 100}}"));  // not a number
  EXPECT_TRUE(matches("{name: x-num, range_match: {start: -5, end: 100}}"));
}

TEST(HeaderMatcherTest, InvertMatch) {
  EXPECT_FALSE(matches("{name: x-env, string_match: {exact: prod}, invert_match: true}"));
  EXPECT_TRUE(matches("{name: x-env, string_match: {exact: dev}, invert_match: true}"));
  // Absent header: an inverted value matcher matches, an inverted present_match does not.
  EXPECT_TRUE(matches("{name: x-missing, string_match: {exact: dev}, invert_match: true}"));
  EXPECT_FALSE(matches("{name: x-missing, present_match: true, invert_match: true}"));
  EXPECT_TRUE(matches("{name: x-env, present_match: false, invert_match: true}"));
}

TEST(HeaderMatcherTest, TreatMissingHeaderAsEmpty) {
  EXPECT_FALSE(matches("{name: x-missing, string_match: {exact: ''}}"));
  EXPECT_TRUE(
      matches("{name: x-missing, string_match: {exact: ''}, treat_missing_header_as_empty: true}"));
  EXPECT_FALSE(
      matches("{name: x-missing, string_match: {exact: a}, treat_missing_header_as_empty: true}"));
}

TEST(HeaderMatcherTest, MultipleValuesAreJoinedWithComma) {
  EXPECT_TRUE(matches("{name: x-multi, string_match: {exact: 'a,b'}}"));
  EXPECT_FALSE(matches("{name: x-multi, string_match: {exact: a}}"));
}

TEST(HeaderMatcherTest, MatchAllAndErrors) {
  const std::vector<HeaderMatcher> both = {make("{name: x-env, exact_match: prod}"),
                                           make("{name: x-num, exact_match: '42'}")};
  EXPECT_TRUE(HeaderMatcher::matchAll(both, kHeaders));
  const std::vector<HeaderMatcher> one_fails = {make("{name: x-env, exact_match: prod}"),
                                                make("{name: x-num, exact_match: '41'}")};
  EXPECT_FALSE(HeaderMatcher::matchAll(one_fails, kHeaders));
  EXPECT_TRUE(HeaderMatcher::matchAll({}, kHeaders));

  envoy::config::route::v3::HeaderMatcher config;
  ASSERT_TRUE(protobuf::loadFromYaml("{name: a, range_match: {start: 5, end: 5}}", config).ok());
  auto bad = HeaderMatcher::create(config, 100, "headers[3]");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ("headers[3].range_match: start must be less than end", bad.status().message());
}

}  // namespace
}  // namespace waystone::router
