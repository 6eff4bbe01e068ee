#include "source/common/protobuf/yaml_to_json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace waystone::protobuf {
namespace {

using testing::HasSubstr;

std::string convert(const std::string& yaml, const LoadOptions& options = {}) {
  auto json = yamlToJson(yaml, options);
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : "";
}

std::string error(const std::string& yaml, const LoadOptions& options = {}) {
  auto json = yamlToJson(yaml, options);
  EXPECT_FALSE(json.ok()) << "unexpectedly converted to " << *json;
  return json.ok() ? "" : std::string(json.status().message());
}

TEST(YamlToJsonTest, PlainScalarsAreTyped) {
  EXPECT_EQ(convert("a: 1\nb: -7\nc: 1.5\nd: true\ne: no\nf: 1s\ng: 10.0.0.1\n"),
            R"({"a":1,"b":-7,"c":1.5,"d":true,"e":false,"f":"1s","g":"10.0.0.1"})");
}

TEST(YamlToJsonTest, QuotedScalarsStayStrings) {
  EXPECT_EQ(convert("a: '1'\nb: \"true\"\nc: \"null\"\nd: !!str 5\n"),
            R"({"a":"1","b":"true","c":"null","d":"5"})");
}

TEST(YamlToJsonTest, NullForms) {
  EXPECT_EQ(convert("a: ~\nb: null\nc:\n"), R"({"a":null,"b":null,"c":null})");
  EXPECT_EQ(convert(""), "null");
  EXPECT_EQ(convert("# only a comment\n"), "null");
}

TEST(YamlToJsonTest, IntegerForms) {
  EXPECT_EQ(convert("hex: 0x1F\nplus: +5\n"), R"({"hex":31,"plus":5})");
  // Beyond 2^53 a double would lose digits: protobuf accepts the decimal string for 64-bit ints.
  EXPECT_EQ(convert("big: 9223372036854775807\nhuge: 18446744073709551615\n"),
            R"({"big":"9223372036854775807","huge":"18446744073709551615"})");
  EXPECT_EQ(convert("edge: 9007199254740992\n"), R"({"edge":9007199254740992})");
}

TEST(YamlToJsonTest, FloatForms) {
  EXPECT_EQ(convert("a: 0.1\nb: 1e3\nc: .inf\nd: -.inf\ne: .nan\n"),
            R"({"a":0.1,"b":1000,"c":"Infinity","d":"-Infinity","e":"NaN"})");
}

TEST(YamlToJsonTest, StringsAreEscaped) {
  EXPECT_EQ(convert("a: \"q\\\"b\\\\c\\td\\u0001\"\nb: |\n  line1\n  line2\n"),
            R"({"a":"q\"b\\c\td\u0001","b":"line1\nline2\n"})");
}

TEST(YamlToJsonTest, SequencesAndNesting) {
  EXPECT_EQ(convert("a:\n- 1\n- x: [true, 'y']\n"), R"({"a":[1,{"x":[true,"y"]}]})");
}

TEST(YamlToJsonTest, AnchorsAndAliases) {
  EXPECT_EQ(convert("base: &b {x: 1}\nuse: *b\n"), R"({"base":{"x":1},"use":{"x":1}})");
}

TEST(YamlToJsonTest, MergeKeysOwnKeysWin) {
  EXPECT_EQ(convert("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n"),
            R"({"base":{"x":1,"y":2},"d":{"y":3,"x":1}})");
}

TEST(YamlToJsonTest, MergeKeyListEarlierSourceWins) {
  EXPECT_EQ(convert("a: &a {x: 1}\nb: &b {x: 2, z: 3}\nd:\n  <<: [*a, *b]\n"),
            R"({"a":{"x":1},"b":{"x":2,"z":3},"d":{"x":1,"z":3}})");
}

TEST(YamlToJsonTest, NestedMergeKeys) {
  EXPECT_EQ(convert("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nd: {<<: *b, z: 3}\n"),
            R"({"a":{"x":1},"b":{"y":2,"x":1},"d":{"z":3,"y":2,"x":1}})");
}

TEST(YamlToJsonTest, MergeKeyNeedsMapping) {
  EXPECT_THAT(error("d:\n  <<: 5\n"), HasSubstr("merge key '<<' needs a mapping"));
}

TEST(YamlToJsonTest, IgnoreTaggedKeysAreDropped) {
  EXPECT_EQ(convert("!ignore anchors:\n  - &port 80\nport: *port\n"), R"({"port":80})");
}

TEST(YamlToJsonTest, DuplicateKeyNamesLine) {
  EXPECT_EQ(error("a: 1\nb: 2\na: 3\n"), "YAML line 3, column 1: duplicate key \"a\"");
}

TEST(YamlToJsonTest, NonScalarKeyRejected) {
  EXPECT_THAT(error("? [1, 2]\n: x\n"), HasSubstr("mapping keys must be scalars"));
}

TEST(YamlToJsonTest, SyntaxErrorNamesLineAndColumn) {
  EXPECT_EQ(error("a: [1, 2\nb: 3"),
            "YAML syntax error at line 2, column 2: end of sequence flow not found");
  EXPECT_THAT(error("a:\n  - b: 1\n   c: 2\n"), HasSubstr("line 3, column 4"));
}

TEST(YamlToJsonTest, DepthLimit) {
  std::string deep;
  for (int i = 0; i < 120; ++i) {
    deep += "[";
  }
  for (int i = 0; i < 120; ++i) {
    deep += "]";
  }
  EXPECT_THAT(error("a: " + deep), HasSubstr("nesting deeper than 100 levels"));
  LoadOptions options;
  options.max_depth = 200;
  EXPECT_EQ(convert("a: " + deep, options).size(), 6 + 240u);
}

TEST(YamlToJsonTest, AliasExpansionIsBounded) {
  // "Billion laughs": each level doubles the expanded size.
  std::string yaml = "a0: &a0 [xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n";
  for (int i = 1; i < 40; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  LoadOptions options;
  options.max_bytes = 1 << 20;
  options.max_depth = 1000;
  EXPECT_THAT(error(yaml, options), HasSubstr("more than 1048576 bytes of JSON"));
}

TEST(YamlToJsonTest, InputSizeLimit) {
  LoadOptions options;
  options.max_bytes = 10;
  EXPECT_THAT(error("a: 12345678901234567890", options), HasSubstr("more than the limit of 10"));
}

TEST(AppendJsonStringTest, EscapesControlCharacters) {
  std::string out;
  appendJsonString(std::string("a\0b\x1f\"\n", 6), out);
  EXPECT_EQ(out, R"("a\u0000b\u001f\"\n")");
}

}  // namespace
}  // namespace waystone::protobuf
