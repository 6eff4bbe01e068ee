#include "source/common/formatter/substitution_format_string.h"

#include <string>

#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"

namespace waystone::formatter {
namespace {

using envoy::config::core::v3::SubstitutionFormatString;

class SubstitutionFormatStringTest : public testing::Test {
 protected:
  SubstitutionFormatString load(absl::string_view yaml) {
    SubstitutionFormatString config;
    absl::Status status = protobuf::loadFromYaml(yaml, config);
    EXPECT_TRUE(status.ok()) << status;
    return config;
  }

  std::string format(absl::string_view yaml) {
    auto formatter = SubstitutionFormatStringUtils::fromProto(load(yaml), "fs");
    EXPECT_TRUE(formatter.ok()) << formatter.status();
    return formatter.ok() ? (*formatter)->format(context_, info_) : "<error>";
  }

  std::string error(absl::string_view yaml, bool text_only = false) {
    auto formatter = text_only ? SubstitutionFormatStringUtils::textFromProto(load(yaml), "fs")
                               : SubstitutionFormatStringUtils::fromProto(load(yaml), "fs");
    EXPECT_FALSE(formatter.ok());
    return formatter.ok() ? "" : std::string(formatter.status().message());
  }

  http::RequestHeaderMap request_{{":authority", "a:1"}};
  Context context_{&request_};
  stream_info::StreamInfo info_;
};

TEST_F(SubstitutionFormatStringTest, TextForms) {
  EXPECT_EQ(format("text_format_source: {inline_string: '%REQ(:AUTHORITY)%'}"), "a:1");
  EXPECT_EQ(format("text_format_source: {inline_bytes: 'JVJFUSg6QVVUSE9SSVRZKSU='}"), "a:1");
  EXPECT_EQ(format("text_format: 'host %REQ(:AUTHORITY)% %UPSTREAM_HOST%'"), "host a:1 -");
  EXPECT_EQ(format("{text_format: 'host %UPSTREAM_HOST%', omit_empty_values: true}"), "host ");
}

TEST_F(SubstitutionFormatStringTest, JsonForm) {
  EXPECT_EQ(format("json_format: {authority: '%REQ(:AUTHORITY)%', code: '%RESPONSE_CODE%'}"),
            "{\"authority\":\"a:1\",\"code\":0}\n");
}

TEST_F(SubstitutionFormatStringTest, Refusals) {
  EXPECT_EQ(error("text_format_source: {inline_string: '%BAD%'}"),
            "fs.text_format_source.inline_string: unknown command \"%BAD%\" at position 0 of "
            "\"%BAD%\"");
  EXPECT_EQ(error("json_format: {a: '%BAD%'}"),
            "fs.json_format.a: unknown command \"%BAD%\" at position 0 of \"%BAD%\"");
  EXPECT_EQ(error("json_format: {a: '%REQ(:AUTHORITY)%'}", true),
            "fs.json_format: not supported here, the value must be text (use "
            "text_format_source.inline_string)");
  EXPECT_EQ(error("text_format_source: {filename: /etc/hosts}"),
            "fs.text_format_source.filename: not supported (use inline_string)");
  EXPECT_EQ(error(R"EOF(
text_format_source: {inline_string: "%CEL(x)%"}
formatters:
- name: envoy.formatter.cel
)EOF"),
            "fs.formatters[0]: formatter extensions are not supported (\"envoy.formatter.cel\"); "
            "only the built-in command operators are");
  EXPECT_EQ(error("omit_empty_values: true"),
            "fs: one of text_format_source, text_format or json_format is required");
}

}  // namespace
}  // namespace waystone::formatter
