#include "source/common/formatter/json_formatter.h"

#include <string>

#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stream_info/filter_state_objects.h"

namespace waystone::formatter {
namespace {

class JsonFormatterTest : public testing::Test {
 protected:
  JsonFormatterTest() { context_.request_headers = &request_; }

  std::string format(absl::string_view yaml, bool omit_empty_values = false) {
    google::protobuf::Struct config;
    absl::Status status = protobuf::loadFromYaml(yaml, config);
    EXPECT_TRUE(status.ok()) << status;
    auto formatter = JsonFormatter::create(config, "json_format", omit_empty_values);
    EXPECT_TRUE(formatter.ok()) << formatter.status();
    return formatter.ok() ? (*formatter)->format(context_, info_) : "<error>";
  }

  http::RequestHeaderMap request_{{":authority", "reviews:9080"}, {":path", "/p\"q"}};
  Context context_;
  stream_info::StreamInfo info_;
};

TEST_F(JsonFormatterTest, TypedValues) {
  info_.response_code = 200;
  info_.bytes_sent = 1234;
  info_.protocol = "HTTP/1.1";
  EXPECT_EQ(format(R"EOF(
status: "%RESPONSE_CODE%"
bytes: "%BYTES_SENT%"
protocol: "%PROTOCOL%"
authority: "%REQ(:authority)%"
)EOF"),
            "{\"authority\":\"reviews:9080\",\"bytes\":1234,\"protocol\":\"HTTP/1.1\","
            "\"status\":200}\n");
}

TEST_F(JsonFormatterTest, MissingValuesAreNullOrDashInText) {
  EXPECT_EQ(format(R"EOF(
host: "%UPSTREAM_HOST%"
port: "%DOWNSTREAM_REMOTE_PORT%"
mixed: "host=%UPSTREAM_HOST% path=%REQ(:path)%"
)EOF"),
            "{\"host\":null,\"mixed\":\"host=- path=/p\\\"q\",\"port\":null}\n");
}

TEST_F(JsonFormatterTest, OmitEmptyValues) {
  EXPECT_EQ(format(R"EOF(
host: "%UPSTREAM_HOST%"
path: "%REQ(:path)%"
mixed: "[%UPSTREAM_HOST%]"
nested: { host: "%UPSTREAM_HOST%" }
)EOF",
                   true),
            "{\"mixed\":\"[]\",\"nested\":{},\"path\":\"/p\\\"q\"}\n");
}

TEST_F(JsonFormatterTest, PortsAreNumbers) {
  info_.downstream_remote_address = *network::address::parseIpAndPort("10.0.0.1:40000");
  EXPECT_EQ(format("{ip: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', port: "
                   "'%DOWNSTREAM_REMOTE_PORT%', both: '%DOWNSTREAM_REMOTE_ADDRESS%'}"),
            "{\"both\":\"10.0.0.1:40000\",\"ip\":\"10.0.0.1\",\"port\":40000}\n");
}

TEST_F(JsonFormatterTest, NestingListsAndConstants) {
  info_.response_code = 404;
  EXPECT_EQ(format(R"EOF(
outer:
  inner: "%RESPONSE_CODE%"
  list: ["%RESPONSE_CODE%", "code %RESPONSE_CODE%", 3, true, null]
literal: "text with %% sign"
number: 1.5
)EOF"),
            "{\"literal\":\"text with % sign\",\"number\":1.5,\"outer\":{\"inner\":404,"
            "\"list\":[404,\"code 404\",3,true,null]}}\n");
}

TEST_F(JsonFormatterTest, DynamicMetadataAndFilterStateKeepTheirType) {
  auto* fields = (*info_.dynamic_metadata.mutable_filter_metadata())["envoy.filters.http.rbac"]
                     .mutable_fields();
  (*fields)["shadow_engine_result"].set_string_value("denied");
  (*fields)["hits"].set_number_value(2);
  ASSERT_TRUE(info_.filter_state
                  ->setData("k", std::make_shared<const stream_info::StringAccessor>("v"),
                            stream_info::FilterState::StateType::ReadOnly)
                  .ok());
  EXPECT_EQ(format(R"EOF(
all: "%DYNAMIC_METADATA(envoy.filters.http.rbac)%"
hits: "%DYNAMIC_METADATA(envoy.filters.http.rbac:hits)%"
typed: "%FILTER_STATE(k)%"
plain: "%FILTER_STATE(k:PLAIN)%"
)EOF"),
            "{\"all\":{\"hits\":2,\"shadow_engine_result\":\"denied\"},\"hits\":2,"
            "\"plain\":\"v\",\"typed\":\"v\"}\n");
}

TEST_F(JsonFormatterTest, StartTimeIsAString) {
  info_.start_time =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1460751420310LL));
  EXPECT_EQ(format("{t: '%START_TIME%'}"), "{\"t\":\"2016-04-15T20:17:00.310Z\"}\n");
}

TEST_F(JsonFormatterTest, ErrorsNameTheKey) {
  google::protobuf::Struct config;
  ASSERT_TRUE(protobuf::loadFromYaml("{outer: {list: [ok, '%NOPE%']}}", config).ok());
  auto formatter = JsonFormatter::create(config, "access_log[0].json_format");
  ASSERT_FALSE(formatter.ok());
  EXPECT_EQ(formatter.status().message(),
            "access_log[0].json_format.outer.list[1]: unknown command \"%NOPE%\" at position 0 of "
            "\"%NOPE%\"");
}

}  // namespace
}  // namespace waystone::formatter
