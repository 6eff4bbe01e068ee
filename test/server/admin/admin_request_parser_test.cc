#include "source/server/admin/admin_request_parser.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace waystone::server::admin {
namespace {

using Query = std::multimap<std::string, std::string>;

struct Parsed {
  std::string path;
  Query query;
};

Parsed parse(absl::string_view target) {
  Parsed parsed;
  parseRequestTarget(target, parsed.path, parsed.query);
  return parsed;
}

// The values of `key` in insertion order (std::multimap keeps equal keys in insertion order).
std::vector<std::string> valuesOf(const Query& query, const std::string& key) {
  std::vector<std::string> out;
  auto [begin, end] = query.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    out.push_back(it->second);
  }
  return out;
}

TEST(AdminRequestParserTest, PathWithoutQuery) {
  Parsed parsed = parse("/stats");
  EXPECT_EQ(parsed.path, "/stats");
  EXPECT_TRUE(parsed.query.empty());
}

TEST(AdminRequestParserTest, SplitsPathAndQuery) {
  Parsed parsed = parse("/stats?format=json&filter=server");
  EXPECT_EQ(parsed.path, "/stats");
  EXPECT_EQ(parsed.query, (Query{{"filter", "server"}, {"format", "json"}}));
}

TEST(AdminRequestParserTest, EmptyQueryAfterQuestionMark) {
  Parsed parsed = parse("/ready?");
  EXPECT_EQ(parsed.path, "/ready");
  EXPECT_TRUE(parsed.query.empty());
}

TEST(AdminRequestParserTest, EmptyPairsAreSkipped) {
  Parsed parsed = parse("/stats?&&usedonly&&");
  EXPECT_EQ(parsed.query, (Query{{"usedonly", ""}}));
}

TEST(AdminRequestParserTest, ParameterWithoutValueMapsToEmpty) {
  Parsed parsed = parse("/stats?usedonly&format=json");
  ASSERT_EQ(parsed.query.count("usedonly"), 1u);
  EXPECT_EQ(parsed.query.find("usedonly")->second, "");
  EXPECT_EQ(valuesOf(parsed.query, "format"), std::vector<std::string>{"json"});
}

TEST(AdminRequestParserTest, ParameterWithEmptyValue) {
  Parsed parsed = parse("/stats?filter=");
  EXPECT_EQ(parsed.query, (Query{{"filter", ""}}));
}

TEST(AdminRequestParserTest, OnlyTheFirstEqualsSplits) {
  Parsed parsed = parse("/logging?a=b=c");
  EXPECT_EQ(parsed.query, (Query{{"a", "b=c"}}));
}

TEST(AdminRequestParserTest, RepeatedParametersKeepEveryValueInOrder) {
  Parsed parsed = parse("/stats?filter=a&format=text&filter=b&filter=c");
  EXPECT_EQ(parsed.query.count("filter"), 3u);
  EXPECT_EQ(valuesOf(parsed.query, "filter"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(valuesOf(parsed.query, "format"), std::vector<std::string>{"text"});
}

TEST(AdminRequestParserTest, PercentDecodesValuesKeysAndPath) {
  Parsed parsed = parse("/st%61ts?fil%74er=%5Eserver%2E%28a%7Cb%29&x=%2f%2F");
  EXPECT_EQ(parsed.path, "/stats");
  EXPECT_EQ(parsed.query, (Query{{"filter", "^server.(a|b)"}, {"x", "//"}}));
}

TEST(AdminRequestParserTest, EncodedSeparatorsDoNotSplit) {
  // %26 and %3D are data, not '&' and '=' delimiters.
  Parsed parsed = parse("/stats?filter=a%26b%3Dc");
  EXPECT_EQ(parsed.query, (Query{{"filter", "a&b=c"}}));
}

TEST(AdminRequestParserTest, PlusStaysPlus) {
  // Envoy's admin does not treat '+' as a space: regexes such as "a+" must survive.
  Parsed parsed = parse("/stats?filter=cluster.a+b&regex=x+");
  EXPECT_EQ(parsed.query, (Query{{"filter", "cluster.a+b"}, {"regex", "x+"}}));
}

TEST(AdminRequestParserTest, RawRegexCharactersAreKept) {
  Parsed parsed = parse("/stats?filter=^cluster\\.(a|b)$");
  EXPECT_EQ(parsed.path, "/stats");
  EXPECT_EQ(parsed.query, (Query{{"filter", "^cluster\\.(a|b)$"}}));
}

TEST(PercentDecodeTest, ValidEscapes) {
  EXPECT_EQ(percentDecode("%41%62%7e%7E"), "Ab~~");
  EXPECT_EQ(percentDecode("a%20b"), "a b");
  EXPECT_EQ(percentDecode("%25"), "%");
  EXPECT_EQ(percentDecode(""), "");
  EXPECT_EQ(percentDecode("plain"), "plain");
}

TEST(PercentDecodeTest, DecodesToArbitraryBytes) {
  EXPECT_EQ(percentDecode("%00%FF"), std::string("\0\xff", 2));
}

TEST(PercentDecodeTest, InvalidEscapesAreKeptLiterally) {
  EXPECT_EQ(percentDecode("%zz"), "%zz");
  EXPECT_EQ(percentDecode("%4z"), "%4z");
  EXPECT_EQ(percentDecode("%z4"), "%z4");
  EXPECT_EQ(percentDecode("100%"), "100%");
}

TEST(PercentDecodeTest, TruncatedEscapesAreKeptLiterally) {
  EXPECT_EQ(percentDecode("%4"), "%4");
  EXPECT_EQ(percentDecode("a%4"), "a%4");
  EXPECT_EQ(percentDecode("%"), "%");
}

TEST(PercentDecodeTest, DecodingIsSinglePass) {
  // "%2541" is "%41" after one decode; it must not be decoded again into "A".
  EXPECT_EQ(percentDecode("%2541"), "%41");
}

TEST(PercentDecodeTest, InvalidEscapeThenValidEscape) {
  EXPECT_EQ(percentDecode("%%41"), "%A");
  EXPECT_EQ(percentDecode("%zz%41"), "%zzA");
}

TEST(AdminRequestParserTest, InvalidAndTruncatedEscapesInQuery) {
  Parsed parsed = parse("/stats?filter=%zz&other=%4");
  EXPECT_EQ(parsed.query, (Query{{"filter", "%zz"}, {"other", "%4"}}));
}

}  // namespace
}  // namespace waystone::server::admin
