#include "source/common/stats/json_stats_formatter.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

#include "source/common/stats/store.h"

namespace waystone::stats {
namespace {

using testing::HasSubstr;

// Parses with protobuf's JSON parser: an independent check that the output is valid JSON.
google::protobuf::Struct parse(const std::string& json) {
  google::protobuf::Struct result;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &result);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return result;
}

std::string render(const Store& store, const StatsRenderOptions& options) {
  absl::StatusOr<std::string> json = JsonStatsFormatter::render(store, options);
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : "";
}

TEST(JsonStatsFormatterTest, EnvoyShape) {
  Store store;
  store.counterFromString("cluster.b.upstream_cx_total").add(3);
  store.gaugeFromString("cluster.a.upstream_cx_active").set(2);
  store.textReadoutFromString("server.version").set("v\"1\"\n");
  store.histogramFromString("cluster.a.upstream_cx_length_ms").recordValue(7);
  store.histogramFromString("cluster.a.upstream_rq_time");
  const std::string json = render(store, {});
  EXPECT_EQ(json,
            "{\"stats\":["
            "{\"name\":\"server.version\",\"value\":\"v\\\"1\\\"\\n\"},"
            "{\"name\":\"cluster.a.upstream_cx_active\",\"value\":2},"
            "{\"name\":\"cluster.b.upstream_cx_total\",\"value\":3},"
            "{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100],"
            "\"computed_quantiles\":["
            "{\"name\":\"cluster.a.upstream_cx_length_ms\",\"values\":["
            "{\"interval\":null,\"cumulative\":7},{\"interval\":null,\"cumulative\":7},"
            "{\"interval\":null,\"cumulative\":7},{\"interval\":null,\"cumulative\":7},"
            "{\"interval\":null,\"cumulative\":7},{\"interval\":null,\"cumulative\":7},"
            "{\"interval\":null,\"cumulative\":7},{\"interval\":null,\"cumulative\":7},"
            "{\"interval\":null,\"cumulative\":7},{\"interval\":null,\"cumulative\":7}]},"
            "{\"name\":\"cluster.a.upstream_rq_time\",\"values\":["
            "{\"interval\":null,\"cumulative\":null},{\"interval\":null,\"cumulative\":null},"
            "{\"interval\":null,\"cumulative\":null},{\"interval\":null,\"cumulative\":null},"
            "{\"interval\":null,\"cumulative\":null},{\"interval\":null,\"cumulative\":null},"
            "{\"interval\":null,\"cumulative\":null},{\"interval\":null,\"cumulative\":null},"
            "{\"interval\":null,\"cumulative\":null},{\"interval\":null,\"cumulative\":null}]}"
            "]}}]}");
  const google::protobuf::Struct parsed = parse(json);
  const auto& stats = parsed.fields().at("stats").list_value();
  ASSERT_EQ(stats.values_size(), 4);
  EXPECT_EQ(stats.values(0).struct_value().fields().at("value").string_value(), "v\"1\"\n");
  EXPECT_EQ(stats.values(2).struct_value().fields().at("value").number_value(), 3);
}

TEST(JsonStatsFormatterTest, FiltersAndUsedOnly) {
  Store store;
  store.counterFromString("a.used").inc();
  store.counterFromString("a.unused");
  store.counterFromString("b.used").inc();
  store.histogramFromString("a.histogram");
  StatsRenderOptions options;
  options.used_only = true;
  options.filter = "^a\\.";
  const std::string json = render(store, options);
  EXPECT_EQ(json, "{\"stats\":[{\"name\":\"a.used\",\"value\":1}]}");
  parse(json);
  options.filter = "nothing matches";
  EXPECT_EQ(render(store, options), "{\"stats\":[]}");
  parse(render(store, options));
}

TEST(JsonStatsFormatterTest, NamesAreEscaped) {
  Store store;
  store.counterFromString(std::string("odd\"name\\\x01", 10)).inc();
  const std::string json = render(store, {});
  EXPECT_THAT(json, HasSubstr("\"odd\\\"name\\\\\\u0001\""));
  const google::protobuf::Struct parsed = parse(json);
  EXPECT_EQ(parsed.fields()
                .at("stats")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("name")
                .string_value(),
            std::string("odd\"name\\\x01", 10));
}

TEST(JsonStatsFormatterTest, InvalidRegexIsAnError) {
  Store store;
  StatsRenderOptions options;
  options.filter = "[";
  const absl::StatusOr<std::string> json = JsonStatsFormatter::render(store, options);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace waystone::stats
