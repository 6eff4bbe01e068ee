#include "source/common/http/http1/framing_validator.h"

#include <string>

#include "gtest/gtest.h"

namespace waystone::http::http1 {
namespace {

using Error = FramingValidator::Error;
using Section = FramingValidator::Section;

FramingValidator::Result scanAll(FramingValidator& validator, absl::string_view data) {
  return validator.scan(data);
}

TEST(FramingValidatorTest, SectionEndsExactlyAtTheEmptyLine) {
  FramingValidator validator(1024, 10);
  validator.begin(Section::RequestHead);
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const auto result = scanAll(validator, head + "body");
  EXPECT_EQ(Error::None, result.error);
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(head.size(), result.accepted);
  EXPECT_EQ(1u, validator.headerCount());
  EXPECT_EQ(head.size(), validator.headBytes());
  // Complete: nothing more is accepted until the next section begins.
  EXPECT_EQ(0u, validator.scan("x").accepted);
}

TEST(FramingValidatorTest, ByteByByteEqualsWhole) {
  const std::string head = "\r\nGET /a?b HTTP/1.1\nX: y\r\nZ:\r\n\n";
  FramingValidator whole(1024, 10);
  whole.begin(Section::RequestHead);
  const auto expected = whole.scan(head);
  ASSERT_TRUE(expected.complete);
  FramingValidator bytes(1024, 10);
  bytes.begin(Section::RequestHead);
  size_t accepted = 0;
  for (size_t i = 0; i < head.size(); ++i) {
    const auto result = bytes.scan(head.substr(i, 1));
    ASSERT_EQ(Error::None, result.error);
    accepted += result.accepted;
    EXPECT_EQ(i + 1 == head.size(), result.complete);
  }
  EXPECT_EQ(expected.accepted, accepted);
  // Leading empty lines do not count against the limit.
  EXPECT_EQ(head.size() - 2, bytes.headBytes());
}

TEST(FramingValidatorTest, LimitsFireOnTheByteThatCrossesThem) {
  FramingValidator validator(20, 10);
  validator.begin(Section::RequestHead);
  const auto result = validator.scan("GET / HTTP/1.1\r\nHost: hhhhhhhhhh\r\n\r\n");
  EXPECT_EQ(Error::HeadersTooLarge, result.error);
  EXPECT_EQ(20u, result.accepted);

  FramingValidator counted(1024, 1);
  counted.begin(Section::Trailers);
  EXPECT_EQ(Error::TooManyHeaders, counted.scan("a: 1\r\nb: 2\r\n\r\n").error);
}

TEST(FramingValidatorTest, ChunkSections) {
  FramingValidator validator(1024, 10);
  validator.begin(Section::ChunkSizeLine);
  auto result = validator.scan("1F ; name=\"quoted value\"\r\ndata");
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(26u, result.accepted);
  validator.begin(Section::ChunkDataEnd);
  result = validator.scan("\r\n5");
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(2u, result.accepted);
  validator.begin(Section::ChunkDataEnd);
  EXPECT_EQ(Error::Malformed, validator.scan("\n").error);
  validator.begin(Section::ChunkSizeLine);
  EXPECT_EQ(Error::Malformed, validator.scan("5 6\r\n").error);
}

TEST(FramingValidatorTest, ResponseHead) {
  FramingValidator validator(1024, 10);
  validator.begin(Section::ResponseHead);
  auto result = validator.scan("HTTP/1.1 200\r\n\r\n");
  EXPECT_TRUE(result.complete);
  validator.begin(Section::ResponseHead);
  result = validator.scan("HTTP/1.1 404 Not \xe9t\xe9 Found\r\nA: b\r\n\r\n");
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(Error::None, result.error);
  validator.begin(Section::ResponseHead);
  EXPECT_EQ(Error::Malformed, validator.scan("HTTP/1.1 20 OK\r\n").error);
}

TEST(FramingValidatorTest, ErrorsAreSticky) {
  FramingValidator validator(1024, 10);
  validator.begin(Section::Trailers);
  EXPECT_EQ(Error::ObsFold, validator.scan(" x\r\n").error);
  EXPECT_EQ(Error::ObsFold, validator.scan("a: b\r\n").error);
  validator.begin(Section::Trailers);
  EXPECT_TRUE(validator.scan("a: b\r\n\r\n").complete);
}

}  // namespace
}  // namespace waystone::http::http1
