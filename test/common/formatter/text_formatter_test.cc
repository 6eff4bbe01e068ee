#include "source/common/formatter/text_formatter.h"

#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/formatter/command_parser.h"
#include "source/common/network/address.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "test/common/formatter/fake_connection_info.h"

namespace waystone::formatter {
namespace {

using stream_info::FilterState;

network::address::InstanceConstSharedPtr ipPort(absl::string_view text) {
  auto address = network::address::parseIpAndPort(text);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.ok() ? *address : nullptr;
}

class TextFormatterTest : public testing::Test {
 protected:
  TextFormatterTest() {
    context_.request_headers = &request_;
    context_.response_headers = &response_;
    context_.response_trailers = &trailers_;
  }

  std::string format(absl::string_view format, bool omit_empty_values = false) {
    auto formatter = TextFormatter::create(format, "", omit_empty_values);
    EXPECT_TRUE(formatter.ok()) << formatter.status();
    return formatter.ok() ? (*formatter)->format(context_, info_) : "<error>";
  }

  // The message of a format that must not parse.
  std::string error(absl::string_view format) {
    auto formatter = TextFormatter::create(format, "");
    EXPECT_FALSE(formatter.ok()) << format;
    if (formatter.ok()) {
      return "";
    }
    EXPECT_EQ(formatter.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(formatter.status().message());
  }

  http::RequestHeaderMap request_{{":authority", "10.0.0.5:9080"},
                                  {":path", "/api"},
                                  {":method", "GET"},
                                  {"x-empty", ""},
                                  {"user-agent", "curl/8.0"}};
  http::ResponseHeaderMap response_{{":status", "200"}, {"x-upstream-time", "12"}};
  http::ResponseTrailerMap trailers_{{"grpc-status", "0"}};
  Context context_;
  stream_info::StreamInfo info_;
  test::FakeConnectionInfo ssl_;
};

// Parsing.

TEST_F(TextFormatterTest, LiteralAndPercentEscape) {
  EXPECT_EQ(format("plain text"), "plain text");
  EXPECT_EQ(format(""), "");
  EXPECT_EQ(format("100%% sure, %%REQ(x)%%"), "100% sure, %REQ(x)%");
  auto literal = TextFormatter::create("a %% b", "");
  ASSERT_TRUE(literal.ok());
  EXPECT_TRUE((*literal)->isLiteral());
  auto command = TextFormatter::create("a %PROTOCOL%", "");
  ASSERT_TRUE(command.ok());
  EXPECT_FALSE((*command)->isLiteral());
}

TEST_F(TextFormatterTest, ErrorsNameTheOperatorAndPosition) {
  EXPECT_EQ(error("abc %FOO%"), "unknown command \"%FOO%\" at position 4 of \"abc %FOO%\"");
  EXPECT_EQ(error("100%"),
            "'%' starts no command (expected %COMMAND%, %COMMAND(arg)% or %COMMAND(arg):N%; write "
            "%% for a literal '%') at position 3 of \"100%\"");
  EXPECT_EQ(error("x %req(a)%"),
            "'%' starts no command (expected %COMMAND%, %COMMAND(arg)% or %COMMAND(arg):N%; write "
            "%% for a literal '%') at position 2 of \"x %req(a)%\"");
  EXPECT_EQ(error("%PROTOCOL"),
            "unterminated command \"%PROTOCOL\" (no closing '%') at position 0 of \"%PROTOCOL\"");
  EXPECT_EQ(error("%PROTOCOL% %REQ(a"),
            "unterminated argument of \"%REQ(\" at position 11 of \"%PROTOCOL% %REQ(a\"");
  EXPECT_EQ(error("%REQ(a):x%"),
            "expected a length after ':' in \"%REQ\" at position 0 of \"%REQ(a):x%\"");
  EXPECT_EQ(error("%PROTOCOL(x)%"),
            "%PROTOCOL% takes no argument at position 0 of \"%PROTOCOL(x)%\"");
  EXPECT_EQ(error("%PROTOCOL:3%"),
            "%PROTOCOL% takes no length limit at position 0 of \"%PROTOCOL:3%\"");
  EXPECT_EQ(error("%REQ%"), "%REQ% needs an argument: %REQ(...)% at position 0 of \"%REQ%\"");
  EXPECT_EQ(error("%REQ()%"), "%REQ% needs an argument: %REQ(...)% at position 0 of \"%REQ()%\"");
  EXPECT_EQ(error("%REQ(a?b?c)%"),
            "%REQ(a?b?c)%: more than one alternative header in \"a?b?c\" at position 0 of "
            "\"%REQ(a?b?c)%\"");
  EXPECT_EQ(error("%REQ(bad name)%"),
            "%REQ(bad name)%: invalid header name in \"bad name\" at position 0 of \"%REQ(bad "
            "name)%\"");
  EXPECT_EQ(error("%FILTER_STATE(:PLAIN)%"),
            "%FILTER_STATE(:PLAIN)%: the filter state key must not be empty at position 0 of "
            "\"%FILTER_STATE(:PLAIN)%\"");
  EXPECT_EQ(error("%FILTER_STATE(k:JSON)%"),
            "%FILTER_STATE(k:JSON)%: unknown serialization \"JSON\" (expected PLAIN or TYPED) at "
            "position 0 of \"%FILTER_STATE(k:JSON)%\"");
  EXPECT_NE(error("%FILTER_STATE(k:FIELD:ip)%").find("FIELD is not supported"), std::string::npos);
  EXPECT_NE(error("%FILTER_STATE(k:PLAIN:x)%").find("unexpected \":x\" after PLAIN"),
            std::string::npos);
  EXPECT_NE(error("%DYNAMIC_METADATA(:key)%").find("the metadata namespace must not be empty"),
            std::string::npos);
  EXPECT_NE(error("%START_TIME(%Y%n)%").find("contains a newline (%n)"), std::string::npos);
  EXPECT_NE(error("%RESPONSE_CODE_DETAILS(X)%").find("expected ALLOW_WHITESPACES"),
            std::string::npos);
}

TEST_F(TextFormatterTest, ErrorsArePrefixedWithTheFieldPath) {
  auto formatter = TextFormatter::create("%NOPE%", "listeners[0].format");
  ASSERT_FALSE(formatter.ok());
  EXPECT_EQ(formatter.status().message(),
            "listeners[0].format: unknown command \"%NOPE%\" at position 0 of \"%NOPE%\"");
}

TEST_F(TextFormatterTest, ParsedOnceEvaluatedManyTimes) {
  auto formatter = TextFormatter::create("%REQ(:path)% %RESPONSE_CODE%", "");
  ASSERT_TRUE(formatter.ok());
  EXPECT_EQ((*formatter)->format(context_, info_), "/api 0");
  info_.response_code = 503;
  request_.setCopy(":path", "/other");
  EXPECT_EQ((*formatter)->format(context_, info_), "/other 503");
  std::string out = "prefix:";
  (*formatter)->formatTo(context_, info_, out);
  EXPECT_EQ(out, "prefix:/other 503");
}

// Headers.

TEST_F(TextFormatterTest, RequestHeaders) {
  EXPECT_EQ(format("%REQ(:AUTHORITY)%"), "10.0.0.5:9080");
  EXPECT_EQ(format("%REQ(User-Agent)%"), "curl/8.0");
  EXPECT_EQ(format("%REQ(x-missing)%"), "-");
  EXPECT_EQ(format("%REQ(x-missing?:path)%"), "/api");
  EXPECT_EQ(format("%REQ(:path?user-agent)%"), "/api");
  EXPECT_EQ(format("%REQ(x-missing?x-other)%"), "-");
  EXPECT_EQ(format("%REQ(user-agent):4%"), "curl");
  EXPECT_EQ(format("%REQ(user-agent):100%"), "curl/8.0");
  EXPECT_EQ(format("%REQ(user-agent):0%"), "");
  // Present but empty is "", not "-".
  EXPECT_EQ(format("[%REQ(x-empty)%]"), "[]");
  context_.request_headers = nullptr;
  EXPECT_EQ(format("%REQ(:path)%"), "-");
}

TEST_F(TextFormatterTest, ResponseHeadersAndTrailers) {
  EXPECT_EQ(format("%RESP(:status)% %RESP(X-UPSTREAM-TIME)% %RESP(x-none)%"), "200 12 -");
  EXPECT_EQ(format("%RESP(x-none?x-upstream-time):1%"), "1");
  EXPECT_EQ(format("%TRAILER(grpc-status)% %TRAILER(grpc-message)%"), "0 -");
  context_.response_headers = nullptr;
  context_.response_trailers = nullptr;
  EXPECT_EQ(format("%RESP(:status)% %TRAILER(grpc-status)%"), "- -");
}

// Addresses.

TEST_F(TextFormatterTest, DownstreamAddresses) {
  EXPECT_EQ(format("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_LOCAL_PORT%"), "- -");
  info_.downstream_remote_address = ipPort("10.1.2.3:45678");
  info_.downstream_local_address = ipPort("[fd00::5]:15008");
  EXPECT_EQ(format("%DOWNSTREAM_REMOTE_ADDRESS%"), "10.1.2.3:45678");
  EXPECT_EQ(format("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"), "10.1.2.3");
  EXPECT_EQ(format("%DOWNSTREAM_REMOTE_PORT%"), "45678");
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_ADDRESS%"), "[fd00::5]:15008");
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%"), "fd00::5");
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_PORT%"), "15008");
}

TEST_F(TextFormatterTest, PipeAddresses) {
  auto pipe = network::address::pipe("/tmp/waystone.sock");
  ASSERT_TRUE(pipe.ok());
  info_.downstream_local_address = *pipe;
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_ADDRESS%"), "/tmp/waystone.sock");
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%"), "/tmp/waystone.sock");
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_PORT%"), "-");
}

TEST_F(TextFormatterTest, Upstream) {
  EXPECT_EQ(format("%UPSTREAM_HOST% %UPSTREAM_CLUSTER% %UPSTREAM_CLUSTER_RAW%"), "- - -");
  info_.upstream_host_address = ipPort("10.0.0.9:8080");
  info_.upstream_cluster = "inbound-vip|9080|http|reviews.default.svc.cluster.local";
  EXPECT_EQ(format("%UPSTREAM_HOST% %UPSTREAM_CLUSTER%"),
            "10.0.0.9:8080 inbound-vip|9080|http|reviews.default.svc.cluster.local");
}

// TLS.

TEST_F(TextFormatterTest, DownstreamTlsWithoutTlsIsMissing) {
  EXPECT_EQ(format("%DOWNSTREAM_PEER_URI_SAN%|%DOWNSTREAM_LOCAL_URI_SAN%|%DOWNSTREAM_TLS_VERSION%|"
                   "%REQUESTED_SERVER_NAME%"),
            "-|-|-|-");
}

TEST_F(TextFormatterTest, DownstreamTls) {
  ssl_.peer_uri_sans = {"spiffe://cluster.local/ns/default/sa/sleep"};
  ssl_.local_uri_san = "spiffe://cluster.local/ns/default/sa/waypoint";
  ssl_.peer_dns_sans = {"a.example", "b.example"};
  ssl_.peer_sha256 = "abcdef";
  ssl_.server_name = "outbound.example";
  info_.downstream_ssl = &ssl_;
  EXPECT_EQ(format("%DOWNSTREAM_PEER_URI_SAN%"), "spiffe://cluster.local/ns/default/sa/sleep");
  EXPECT_EQ(format("%DOWNSTREAM_LOCAL_URI_SAN%"), "spiffe://cluster.local/ns/default/sa/waypoint");
  EXPECT_EQ(format("%DOWNSTREAM_TLS_VERSION% %DOWNSTREAM_TLS_CIPHER%"),
            "TLSv1.3 TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(format("%DOWNSTREAM_PEER_DNS_SAN%"), "a.example,b.example");
  EXPECT_EQ(format("%DOWNSTREAM_PEER_FINGERPRINT_256% %REQUESTED_SERVER_NAME%"),
            "abcdef outbound.example");
  // Istio certificates have no subject: missing.
  EXPECT_EQ(format("%DOWNSTREAM_PEER_SUBJECT%"), "-");
  // Several URI SANs are joined with ',' as Envoy does.
  ssl_.peer_uri_sans = {"spiffe://a/ns/x/sa/y", "spiffe://b/ns/x/sa/y"};
  EXPECT_EQ(format("%DOWNSTREAM_PEER_URI_SAN%"), "spiffe://a/ns/x/sa/y,spiffe://b/ns/x/sa/y");
  ssl_.peer_uri_sans.clear();
  EXPECT_EQ(format("%DOWNSTREAM_PEER_URI_SAN%"), "-");
}

// Filter state.

TEST_F(TextFormatterTest, FilterState) {
  ASSERT_TRUE(info_.filter_state
                  ->setData("io.istio.peer_principal",
                            std::make_shared<const stream_info::HashableString>(
                                "spiffe://cluster.local/ns/default/sa/sleep"),
                            FilterState::StateType::ReadOnly)
                  .ok());
  auto address =
      stream_info::createFilterStateObject(stream_info::kOriginalDstLocalIp, "10.0.0.5:9080");
  ASSERT_TRUE(address.ok());
  ASSERT_TRUE(
      info_.filter_state
          ->setData(stream_info::kOriginalDstLocalIp, *address, FilterState::StateType::Mutable)
          .ok());
  EXPECT_EQ(format("%FILTER_STATE(io.istio.peer_principal:PLAIN)%"),
            "spiffe://cluster.local/ns/default/sa/sleep");
  EXPECT_EQ(format("%FILTER_STATE(envoy.filters.listener.original_dst.local_ip:PLAIN)%"),
            "10.0.0.5:9080");
  // TYPED, the default: the JSON form, a quoted string.
  EXPECT_EQ(format("%FILTER_STATE(io.istio.peer_principal:TYPED)%"),
            "\"spiffe://cluster.local/ns/default/sa/sleep\"");
  EXPECT_EQ(format("%FILTER_STATE(io.istio.peer_principal)%"),
            "\"spiffe://cluster.local/ns/default/sa/sleep\"");
  EXPECT_EQ(format("%FILTER_STATE(io.istio.peer_principal:PLAIN):6%"), "spiffe");
  EXPECT_EQ(format("%FILTER_STATE(io.istio.peer_principal):7%"), "\"spiffe");
  EXPECT_EQ(format("%FILTER_STATE(missing:PLAIN)% %FILTER_STATE(missing)%"), "- -");
}

TEST_F(TextFormatterTest, FilterStateFromTheParent) {
  // A request's filter state reads through to its connection's.
  auto connection_state = std::make_shared<FilterState>();
  ASSERT_TRUE(connection_state
                  ->setData("k", std::make_shared<const stream_info::StringAccessor>("conn"),
                            FilterState::StateType::ReadOnly)
                  .ok());
  info_.filter_state = std::make_shared<FilterState>(connection_state);
  EXPECT_EQ(format("%FILTER_STATE(k:PLAIN)%"), "conn");
}

class NoStringObject : public FilterState::Object {};

TEST_F(TextFormatterTest, FilterStateWithoutAStringForm) {
  ASSERT_TRUE(info_.filter_state
                  ->setData("opaque", std::make_shared<const NoStringObject>(),
                            FilterState::StateType::ReadOnly)
                  .ok());
  EXPECT_EQ(format("%FILTER_STATE(opaque:PLAIN)% %FILTER_STATE(opaque)%"), "- -");
}

// Dynamic metadata: the examples of Envoy's documentation.

class DynamicMetadataTest : public TextFormatterTest {
 protected:
  DynamicMetadataTest() {
    auto* fields =
        (*info_.dynamic_metadata.mutable_filter_metadata())["com.test.my_filter"].mutable_fields();
    (*fields)["test_key"].set_string_value("foo");
    (*(*fields)["test_object"].mutable_struct_value()->mutable_fields())["inner_key"]
        .set_string_value("bar");
    (*fields)["count"].set_number_value(5);
    (*fields)["ratio"].set_number_value(0.25);
    (*fields)["on"].set_bool_value(true);
    auto* list = (*fields)["list"].mutable_list_value();
    list->add_values()->set_string_value("a");
    list->add_values()->set_number_value(1);
  }
};

TEST_F(DynamicMetadataTest, Values) {
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter)%"),
            "{\"count\":5,\"list\":[\"a\",1],\"on\":true,\"ratio\":0.25,\"test_key\":\"foo\","
            "\"test_object\":{\"inner_key\":\"bar\"}}");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:test_key)%"), "foo");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:test_object)%"),
            "{\"inner_key\":\"bar\"}");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:test_object:inner_key)%"), "bar");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:count)%"), "5");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:on)%"), "true");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:list)%"), "[\"a\",1]");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.unknown_filter)%"), "-");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:unknown_key)%"), "-");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:test_key:deeper)%"), "-");
  EXPECT_EQ(format("%DYNAMIC_METADATA(com.test.my_filter:test_object):12%"), "{\"inner_key\"");
}

// Stream info fields.

TEST_F(TextFormatterTest, ResponseCodeAndDetailsAndFlags) {
  // No response yet: code 0 (Envoy's), details and flags missing.
  EXPECT_EQ(format("%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS%"), "0 - -");
  info_.response_code = 503;
  info_.response_code_details = "upstream connect error";
  info_.setResponseFlag(stream_info::NoHealthyUpstream);
  info_.setResponseFlag(stream_info::UpstreamConnectionFailure);
  EXPECT_EQ(format("%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS%"),
            "503 upstream_connect_error UH,UF");
  EXPECT_EQ(format("%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%"), "upstream connect error");
}

TEST_F(TextFormatterTest, BytesDurationProtocolRouteStreamId) {
  EXPECT_EQ(format("%PROTOCOL% %ROUTE_NAME% %STREAM_ID%"), "- - -");
  info_.bytes_received = 154;
  info_.bytes_sent = 1024;
  info_.duration = std::chrono::microseconds(226999);
  info_.protocol = "HTTP/2";
  info_.route_name = "default";
  info_.request_id = "cc21d9b0";
  EXPECT_EQ(format("%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %PROTOCOL% %ROUTE_NAME% %STREAM_ID%"),
            "154 1024 226 HTTP/2 default cc21d9b0");
}

TEST_F(TextFormatterTest, DurationOfAStreamStillGoing) {
  info_.start_time_monotonic = std::chrono::steady_clock::now() - std::chrono::seconds(5);
  const int64_t millis = std::stoll(format("%DURATION%"));
  EXPECT_GE(millis, 5000);
  EXPECT_LT(millis, 60000);
}

TEST_F(TextFormatterTest, StartTime) {
  // 2016-04-15T20:17:00.310123456Z
  info_.start_time =
      std::chrono::system_clock::time_point(std::chrono::nanoseconds(1460751420310123456LL));
  EXPECT_EQ(format("[%START_TIME%]"), "[2016-04-15T20:17:00.310Z]");
  EXPECT_EQ(format("%START_TIME()%"), "2016-04-15T20:17:00.310Z");
  EXPECT_EQ(format("%START_TIME(%Y/%m/%dT%H:%M:%S%z)%"), "2016/04/15T20:17:00+0000");
  EXPECT_EQ(format("%START_TIME(%s)%"), "1460751420");
  EXPECT_EQ(format("%START_TIME(%s.%3f)%"), "1460751420.310");
  EXPECT_EQ(format("%START_TIME(%s.%6f)%"), "1460751420.310123");
  EXPECT_EQ(format("%START_TIME(%s.%9f)%"), "1460751420.310123456");
  EXPECT_EQ(format("%START_TIME(%f)%"), "310123456");
  EXPECT_EQ(format("%START_TIME(%1f|%%f|%%)%"), "3|%f|%");
  EXPECT_EQ(format("%START_TIME(%H:%M:%E3S)%"), "20:17:00.310");
}

TEST_F(TextFormatterTest, HostnameAndEnvironment) {
  char name[HOST_NAME_MAX + 1] = {};
  ASSERT_EQ(::gethostname(name, sizeof(name) - 1), 0);
  EXPECT_EQ(format("%HOSTNAME%"), name);
  ASSERT_EQ(::setenv("WAYSTONE_FORMATTER_TEST", "value-123", 1), 0);
  EXPECT_EQ(format("%ENVIRONMENT(WAYSTONE_FORMATTER_TEST)%"), "value-123");
  EXPECT_EQ(format("%ENVIRONMENT(WAYSTONE_FORMATTER_TEST):5%"), "value");
  EXPECT_EQ(format("%ENVIRONMENT(WAYSTONE_FORMATTER_TEST_UNSET)%"), "-");
}

TEST_F(TextFormatterTest, LocalReplyBody) {
  context_.local_reply_body = "upstream connect error";
  EXPECT_EQ(format("body=%LOCAL_REPLY_BODY%"), "body=upstream connect error");
}

TEST_F(TextFormatterTest, OperatorsWithoutDataYetAreMissing) {
  EXPECT_EQ(format("%UPSTREAM_TRANSPORT_FAILURE_REASON% %CONNECTION_TERMINATION_DETAILS% "
                   "%UPSTREAM_LOCAL_ADDRESS% %REQUEST_DURATION% %RESPONSE_DURATION%"),
            "- - - - -");
}

TEST_F(TextFormatterTest, OmitEmptyValues) {
  EXPECT_EQ(format("[%REQ(x-missing)%][%UPSTREAM_HOST%][%REQ(:path)%]", true), "[][][/api]");
}

// Envoy's default access log format parses and renders with "-" where data is missing.
TEST_F(TextFormatterTest, EnvoyDefaultAccessLogFormat) {
  info_.start_time =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1460751420310LL));
  info_.protocol = "HTTP/2";
  info_.response_code = 204;
  info_.bytes_received = 154;
  info_.duration = std::chrono::milliseconds(226);
  info_.upstream_host_address = ipPort("10.0.2.1:80");
  request_.setCopy("x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
  EXPECT_EQ(format("[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
                   "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% "
                   "%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" "
                   "\"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
                   "\"%UPSTREAM_HOST%\"\n"),
            "[2016-04-15T20:17:00.310Z] \"GET /api HTTP/2\" 204 - 154 0 226 - \"-\" \"curl/8.0\" "
            "\"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"10.0.0.5:9080\" \"10.0.2.1:80\"\n");
}

TEST_F(TextFormatterTest, KnownCommandsAllParse) {
  const std::vector<std::string> commands = CommandParser::knownCommands();
  EXPECT_GT(commands.size(), 40u);
  for (const std::string& command : commands) {
    // Each command in the syntax it accepts: with an argument where one is needed.
    auto bare = TextFormatter::create(absl::StrCat("%", command, "%"), "");
    auto with_arg = TextFormatter::create(absl::StrCat("%", command, "(x)%"), "");
    EXPECT_TRUE(bare.ok() || with_arg.ok()) << command;
  }
}

}  // namespace
}  // namespace waystone::formatter
