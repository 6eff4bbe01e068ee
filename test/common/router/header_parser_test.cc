#include "source/common/router/header_parser.h"

#include "gtest/gtest.h"

#include "test/common/router/router_test_util.h"

namespace waystone::router {
namespace {

// The header fields of a VirtualHost, which has both lists.
HeaderParser make(absl::string_view yaml) {
  envoy::config::route::v3::VirtualHost vhost;
  const absl::Status loaded = protobuf::loadFromYaml(yaml, vhost);
  EXPECT_TRUE(loaded.ok()) << loaded;
  auto parser =
      HeaderParser::create(vhost.request_headers_to_add(), vhost.request_headers_to_remove(), "vh",
                           "request_headers_to_add", "request_headers_to_remove");
  EXPECT_TRUE(parser.ok()) << parser.status();
  return parser.ok() ? std::move(*parser) : HeaderParser();
}

std::string error(absl::string_view yaml) {
  envoy::config::route::v3::VirtualHost vhost;
  EXPECT_TRUE(protobuf::loadFromYaml(yaml, vhost).ok());
  auto parser =
      HeaderParser::create(vhost.request_headers_to_add(), vhost.request_headers_to_remove(), "vh",
                           "request_headers_to_add", "request_headers_to_remove");
  EXPECT_FALSE(parser.ok());
  return parser.ok() ? "" : std::string(parser.status().message());
}

http::HeaderMap apply(const HeaderParser& parser, http::HeaderMap headers) {
  TestHeaderValueContext context;
  parser.evaluateHeaders(headers, &headers, context);
  return headers;
}

TEST(HeaderParserTest, AppendActions) {
  const HeaderParser parser = make(R"(
request_headers_to_add:
- header: {key: x-append, value: new}
- header: {key: x-absent, value: new}
  append_action: ADD_IF_ABSENT
- header: {key: x-absent-missing, value: new}
  append_action: ADD_IF_ABSENT
- header: {key: x-overwrite, value: new}
  append_action: OVERWRITE_IF_EXISTS_OR_ADD
- header: {key: x-overwrite-missing, value: new}
  append_action: OVERWRITE_IF_EXISTS_OR_ADD
- header: {key: x-if-exists, value: new}
  append_action: OVERWRITE_IF_EXISTS
- header: {key: x-if-exists-missing, value: new}
  append_action: OVERWRITE_IF_EXISTS
)");
  const http::HeaderMap out = apply(parser, {{"x-append", "old"},
                                             {"x-absent", "old"},
                                             {"x-overwrite", "old1"},
                                             {"x-overwrite", "old2"},
                                             {"x-if-exists", "old"}});
  EXPECT_EQ((std::vector<absl::string_view>{"old", "new"}), out.getAll("x-append"));
  EXPECT_EQ((std::vector<absl::string_view>{"old"}), out.getAll("x-absent"));
  EXPECT_EQ((std::vector<absl::string_view>{"new"}), out.getAll("x-absent-missing"));
  EXPECT_EQ((std::vector<absl::string_view>{"new"}), out.getAll("x-overwrite"));
  EXPECT_EQ((std::vector<absl::string_view>{"new"}), out.getAll("x-overwrite-missing"));
  EXPECT_EQ((std::vector<absl::string_view>{"new"}), out.getAll("x-if-exists"));
  EXPECT_FALSE(out.has("x-if-exists-missing"));
}

TEST(HeaderParserTest, DeprecatedAppendBool) {
  const HeaderParser parser = make(R"(
request_headers_to_add:
- header: {key: x-a, value: new}
  append: true
- header: {key: x-b, value: new}
  append: false
)");
  const http::HeaderMap out = apply(parser, {{"x-a", "old"}, {"x-b", "old"}});
  EXPECT_EQ((std::vector<absl::string_view>{"old", "new"}), out.getAll("x-a"));
  EXPECT_EQ((std::vector<absl::string_view>{"new"}), out.getAll("x-b"));
}

TEST(HeaderParserTest, RemoveBeforeAddAndEmptyValues) {
  const HeaderParser parser = make(R"(
request_headers_to_remove: [X-Gone, x-replaced]
request_headers_to_add:
- header: {key: x-replaced, value: fresh}
- header: {key: x-empty, value: ''}
- header: {key: x-kept-empty, value: ''}
  keep_empty_value: true
- header: {key: x-empty-command, value: '%REQ(x-missing)%'}
)");
  const http::HeaderMap out =
      apply(parser, {{"x-gone", "1"}, {"x-replaced", "stale"}, {"x-other", "2"}});
  EXPECT_FALSE(out.has("x-gone"));
  EXPECT_EQ((std::vector<absl::string_view>{"fresh"}), out.getAll("x-replaced"));
  EXPECT_FALSE(out.has("x-empty"));
  EXPECT_TRUE(out.has("x-kept-empty"));
  EXPECT_FALSE(out.has("x-empty-command"));
  EXPECT_EQ("2", out.getValue("x-other"));
}

TEST(HeaderParserTest, ValuesAreFormatted) {
  const HeaderParser parser = make(R"(
request_headers_to_add:
- header: {key: x-client, value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%'}
- header: {key: x-copy, value: 'id-%REQ(x-id)%'}
)");
  const http::HeaderMap out = apply(parser, {{"x-id", "7"}});
  EXPECT_EQ("10.1.2.3", out.getValue("x-client"));
  EXPECT_EQ("id-7", out.getValue("x-copy"));
}

TEST(HeaderParserTest, ProtectedHeadersAreErrors) {
  EXPECT_EQ("vh.request_headers_to_remove[1]: :-prefixed or host headers may not be removed",
            error("request_headers_to_remove: [x-ok, ':path']"));
  EXPECT_EQ("vh.request_headers_to_remove[0]: :-prefixed or host headers may not be removed",
            error("request_headers_to_remove: [Host]"));
  EXPECT_EQ(
      "vh.request_headers_to_add[0].header.key: :-prefixed or host headers may not be modified",
      error("request_headers_to_add: [{header: {key: ':authority', value: x}}]"));
}

TEST(HeaderParserTest, ConfigErrors) {
  EXPECT_EQ(
      "vh.request_headers_to_add[1].header.value: unknown command %BOGUS% in header value "
      "\"%BOGUS%\"",
      error(R"(
request_headers_to_add:
- header: {key: x-a, value: a}
- header: {key: x-b, value: '%BOGUS%'}
)"));
  EXPECT_EQ(
      "vh.request_headers_to_add[0]: both append and append_action are set and it's not "
      "allowed",
      error(R"(
request_headers_to_add:
- header: {key: x-a, value: a}
  append: true
  append_action: OVERWRITE_IF_EXISTS
)"));
}

}  // namespace
}  // namespace waystone::router
