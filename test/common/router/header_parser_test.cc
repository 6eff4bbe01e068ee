#include "source/common/router/header_parser.h"

#include <memory>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "source/common/stream_info/filter_state_objects.h"
#include "test/common/formatter/fake_connection_info.h"
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

// Applies `parser` to request headers, as the router does: %REQ()% reads the headers being
// changed.
http::HeaderMap apply(const HeaderParser& parser, http::HeaderMap headers,
                      const stream_info::StreamInfo& info = testStreamInfo()) {
  parser.evaluateHeaders(headers, formatter::Context{&headers}, info);
  return headers;
}

// The value one request_headers_to_add entry gives header "x-v" on `request`.
std::string format(absl::string_view value, const http::HeaderMap& request = {},
                   const stream_info::StreamInfo& info = testStreamInfo()) {
  envoy::config::route::v3::VirtualHost vhost;
  auto* option = vhost.add_request_headers_to_add();
  option->mutable_header()->set_key("x-v");
  option->mutable_header()->set_value(std::string(value));
  option->set_keep_empty_value(true);
  auto parser =
      HeaderParser::create(vhost.request_headers_to_add(), vhost.request_headers_to_remove(), "vh",
                           "request_headers_to_add", "request_headers_to_remove");
  EXPECT_TRUE(parser.ok()) << parser.status();
  if (!parser.ok()) {
    return "<error>";
  }
  const http::HeaderMap out = apply(*parser, request, info);
  EXPECT_EQ(1u, out.getAll("x-v").size()) << value;
  return std::string(out.getValue("x-v"));
}

// A stream whose filter state has its connection's as parent, as the connection manager sets it
// up, over a TLS connection with a SPIFFE peer.
struct TlsStream {
  TlsStream() {
    tls.peer_uri_sans = {"spiffe://cluster.local/ns/default/sa/client"};
    tls.local_uri_san = "spiffe://cluster.local/ns/default/sa/waypoint";
    info.downstream_ssl = &tls;
    info.filter_state = std::make_shared<stream_info::FilterState>(connection_filter_state);
  }

  formatter::test::FakeConnectionInfo tls;
  stream_info::FilterStateSharedPtr connection_filter_state =
      std::make_shared<stream_info::FilterState>();
  stream_info::StreamInfo info = testStreamInfo();
};

void setString(stream_info::FilterState& state, absl::string_view key, std::string value) {
  const absl::Status status =
      state.setData(key, std::make_shared<stream_info::StringAccessor>(std::move(value)),
                    stream_info::FilterState::StateType::ReadOnly);
  ASSERT_TRUE(status.ok()) << status;
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

TEST(HeaderParserTest, Literals) {
  EXPECT_EQ("plain", format("plain"));
  EXPECT_EQ("100%", format("100%%"));
  EXPECT_EQ("%a%", format("%%a%%"));
}

TEST(HeaderParserTest, StreamCommands) {
  stream_info::StreamInfo info = testStreamInfo();
  auto upstream = network::address::parseIpAndPort("10.9.8.7:8080");
  ASSERT_TRUE(upstream.ok());
  info.upstream_host_address = *upstream;
  EXPECT_EQ("client=10.1.2.3:45678", format("client=%DOWNSTREAM_REMOTE_ADDRESS%", {}, info));
  EXPECT_EQ("10.1.2.3", format("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", {}, info));
  EXPECT_EQ("10.9.8.7:8080", format("%UPSTREAM_HOST%", {}, info));
  EXPECT_EQ("HTTP/1.1 via 10.1.2.3",
            format("%PROTOCOL% via %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", {}, info));
}

TEST(HeaderParserTest, StartTime) {
  EXPECT_EQ("2023-11-14T22:13:20.123Z", format("%START_TIME%"));
  EXPECT_EQ("2023/11/14", format("%START_TIME(%Y/%m/%d)%"));
}

TEST(HeaderParserTest, RequestHeaders) {
  const http::HeaderMap request{{"x-id", "abcdef"}, {"x-alt", "alt"}, {":path", "/p"}};
  EXPECT_EQ("id=abcdef", format("id=%REQ(X-ID)%", request));
  EXPECT_EQ("abc", format("%REQ(x-id):3%", request));
  EXPECT_EQ("alt", format("%REQ(x-missing?x-alt)%", request));
  EXPECT_EQ("abcdef", format("%REQ(x-id?x-alt)%", request));
  EXPECT_EQ("/p", format("%REQ(:path)%", request));
}

// Envoy's header formatter leaves a missing value out; it does not write the access log's "-".
TEST(HeaderParserTest, MissingValuesAreEmpty) {
  EXPECT_EQ("[]", format("[%REQ(x-missing)%]"));
  EXPECT_EQ("[]", format("[%UPSTREAM_HOST%]"));
  EXPECT_EQ("[]", format("[%FILTER_STATE(io.istio.peer_principal:PLAIN)%]"));
  EXPECT_EQ("[]", format("[%DOWNSTREAM_PEER_URI_SAN%]"));
}

TEST(HeaderParserTest, ResponseHeadersSeeRequestAndResponse) {
  envoy::config::route::v3::VirtualHost vhost;
  ASSERT_TRUE(protobuf::loadFromYaml(R"(
response_headers_to_add:
- header: {key: x-echo, value: '%REQ(x-id)%/%RESP(x-upstream)%/%RESP(:status)%'}
- header: {key: x-missing, value: '%RESP(x-nope)%'}
)",
                                     vhost)
                  .ok());
  auto parser =
      HeaderParser::create(vhost.response_headers_to_add(), vhost.response_headers_to_remove(),
                           "vh", "response_headers_to_add", "response_headers_to_remove");
  ASSERT_TRUE(parser.ok()) << parser.status();
  const http::HeaderMap request{{"x-id", "7"}};
  http::HeaderMap response{{":status", "200"}, {"x-upstream", "u"}};
  parser->evaluateHeaders(response, formatter::Context{&request, &response}, testStreamInfo());
  EXPECT_EQ("7/u/200", response.getValue("x-echo"));
  EXPECT_FALSE(response.has("x-missing"));
}

TEST(HeaderParserTest, FilterStateFallsBackToTheConnection) {
  TlsStream stream;
  setString(*stream.connection_filter_state, "io.istio.peer_principal", "spiffe://td/ns/a/sa/b");
  setString(*stream.info.filter_state, "request.key", "from-request");
  EXPECT_EQ("spiffe://td/ns/a/sa/b",
            format("%FILTER_STATE(io.istio.peer_principal:PLAIN)%", {}, stream.info));
  EXPECT_EQ("from-request", format("%FILTER_STATE(request.key:PLAIN)%", {}, stream.info));
  // The default serialization is TYPED: a string object is a JSON string.
  EXPECT_EQ("\"from-request\"", format("%FILTER_STATE(request.key)%", {}, stream.info));
  EXPECT_EQ("from", format("%FILTER_STATE(request.key:PLAIN):4%", {}, stream.info));
}

TEST(HeaderParserTest, DownstreamTlsIdentities) {
  TlsStream stream;
  EXPECT_EQ("spiffe://cluster.local/ns/default/sa/client",
            format("%DOWNSTREAM_PEER_URI_SAN%", {}, stream.info));
  EXPECT_EQ("spiffe://cluster.local/ns/default/sa/waypoint",
            format("%DOWNSTREAM_LOCAL_URI_SAN%", {}, stream.info));
}

// istiod's opt-in x-forwarded-client-cert value for waypoints.
TEST(HeaderParserTest, IstioXfcc) {
  TlsStream stream;
  setString(*stream.connection_filter_state, "io.istio.local_principal",
            "spiffe://cluster.local/ns/default/sa/waypoint");
  setString(*stream.connection_filter_state, "io.istio.peer_principal",
            "spiffe://cluster.local/ns/default/sa/client");
  const HeaderParser parser = make(R"(
request_headers_to_add:
- header:
    key: x-forwarded-client-cert
    value: 'By=%FILTER_STATE(io.istio.local_principal:PLAIN)%;URI=%FILTER_STATE(io.istio.peer_principal:PLAIN)%'
  append_action: OVERWRITE_IF_EXISTS_OR_ADD
)");
  const http::HeaderMap out =
      apply(parser, {{"x-forwarded-client-cert", "By=spoofed"}}, stream.info);
  EXPECT_EQ((std::vector<absl::string_view>{"By=spiffe://cluster.local/ns/default/sa/waypoint;"
                                            "URI=spiffe://cluster.local/ns/default/sa/client"}),
            out.getAll("x-forwarded-client-cert"));
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
      "vh.request_headers_to_add[1].header.value: unknown command \"%BOGUS%\" at position 0 of "
      "\"%BOGUS%\"",
      error(R"(
request_headers_to_add:
- header: {key: x-a, value: a}
- header: {key: x-b, value: '%BOGUS%'}
)"));
  EXPECT_EQ(
      "vh.request_headers_to_add[0].header.raw_value: unknown command \"%NOPE%\" at position 2 "
      "of \"a %NOPE% b\"",
      error("request_headers_to_add: [{header: {key: x-a, raw_value: 'YSAlTk9QRSUgYg=='}}]"));
  const std::string prefix = "vh.request_headers_to_add[0].header.value: ";
  auto value_error = [](absl::string_view value) {
    envoy::config::route::v3::VirtualHost vhost;
    auto* option = vhost.add_request_headers_to_add();
    option->mutable_header()->set_key("x-a");
    option->mutable_header()->set_value(std::string(value));
    auto parser =
        HeaderParser::create(vhost.request_headers_to_add(), vhost.request_headers_to_remove(),
                             "vh", "request_headers_to_add", "request_headers_to_remove");
    EXPECT_FALSE(parser.ok()) << value;
    return parser.ok() ? std::string() : std::string(parser.status().message());
  };
  EXPECT_TRUE(absl::StartsWith(value_error("%PROTOCOL"), prefix));
  EXPECT_TRUE(absl::StrContains(value_error("%PROTOCOL"), "unterminated command"));
  EXPECT_TRUE(absl::StrContains(value_error("50% off"), "'%' starts no command"));
  EXPECT_TRUE(absl::StrContains(value_error("%REQ(x%"), "unterminated argument"));
  EXPECT_TRUE(absl::StrContains(value_error("%PROTOCOL(x)%"), "takes no argument"));
  EXPECT_TRUE(absl::StrContains(value_error("%PROTOCOL:3%"), "takes no length limit"));
  EXPECT_TRUE(absl::StrContains(value_error("%FILTER_STATE(k:BOGUS)%"), "unknown serialization"));
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
