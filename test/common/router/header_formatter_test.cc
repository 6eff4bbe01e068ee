#include "source/common/router/header_formatter.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "test/common/router/router_test_util.h"

namespace waystone::router {
namespace {

std::string format(absl::string_view value, const http::HeaderMap* request = nullptr) {
  auto formatter = HeaderFormatter::create(value, "v");
  EXPECT_TRUE(formatter.ok()) << formatter.status();
  TestHeaderValueContext context;
  context.upstream_host = "10.9.8.7:8080";
  return formatter.ok() ? formatter->format(request, context) : "";
}

std::string error(absl::string_view value) {
  auto formatter = HeaderFormatter::create(value, "route.request_headers_to_add[0].header.value");
  EXPECT_FALSE(formatter.ok()) << value;
  return formatter.ok() ? "" : std::string(formatter.status().message());
}

TEST(HeaderFormatterTest, Literal) {
  EXPECT_EQ("plain", format("plain"));
  EXPECT_EQ("100%", format("100%%"));
  EXPECT_TRUE(HeaderFormatter::create("plain", "v")->isLiteral());
  EXPECT_FALSE(HeaderFormatter::create("%PROTOCOL%", "v")->isLiteral());
}

TEST(HeaderFormatterTest, StreamCommands) {
  EXPECT_EQ("client=10.1.2.3:45678", format("client=%DOWNSTREAM_REMOTE_ADDRESS%"));
  EXPECT_EQ("10.1.2.3", format("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"));
  EXPECT_EQ("10.9.8.7:8080", format("%UPSTREAM_HOST%"));
  EXPECT_EQ("HTTP/1.1 via 10.1.2.3",
            format("%PROTOCOL% via %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"));
}

TEST(HeaderFormatterTest, StartTime) {
  EXPECT_EQ("2023-11-14T22:13:20.123Z", format("%START_TIME%"));
  EXPECT_EQ("2023/11/14", format("%START_TIME(%Y/%m/%d)%"));
}

TEST(HeaderFormatterTest, RequestHeaders) {
  const http::HeaderMap request{{"x-id", "abcdef"}, {"x-alt", "alt"}, {":path", "/p"}};
  EXPECT_EQ("id=abcdef", format("id=%REQ(X-ID)%", &request));
  EXPECT_EQ("abc", format("%REQ(x-id):3%", &request));
  EXPECT_EQ("alt", format("%REQ(x-missing?x-alt)%", &request));
  EXPECT_EQ("abcdef", format("%REQ(x-id?x-alt)%", &request));
  EXPECT_EQ("/p", format("%REQ(:path)%", &request));
  EXPECT_EQ("[]", format("[%REQ(x-missing)%]", &request));
  EXPECT_EQ("[]", format("[%REQ(x-id)%]", nullptr));
}

TEST(HeaderFormatterTest, Errors) {
  EXPECT_EQ(
      "route.request_headers_to_add[0].header.value: unknown command %NOPE% in header value "
      "\"a %NOPE% b\"",
      error("a %NOPE% b"));
  EXPECT_TRUE(absl::StrContains(error("%PROTOCOL"), "unterminated command %PROTOCOL"));
  EXPECT_TRUE(absl::StrContains(error("50% off"), "expected a command name"));
  EXPECT_TRUE(absl::StrContains(error("%REQ%"), "%REQ% needs a header name"));
  EXPECT_TRUE(absl::StrContains(error("%REQ(x%"), "unterminated argument"));
  EXPECT_TRUE(absl::StrContains(error("%PROTOCOL(x)%"), "takes no argument"));
  EXPECT_TRUE(absl::StrContains(error("%PROTOCOL:3%"), "takes no length limit"));
}

}  // namespace
}  // namespace waystone::router
