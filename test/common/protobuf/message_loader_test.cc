#include "source/common/protobuf/message_loader.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace waystone::protobuf {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using testing::HasSubstr;
using testing::StartsWith;

constexpr absl::string_view kListenerYaml = R"(
static_resources:
  listeners:
  - name: ingress
    address:
      socket_address: { address: 127.0.0.1, port_value: 10000 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    connect_timeout: 0.25s
    per_connection_buffer_limit_bytes: 32768
)";

std::string loadError(absl::string_view yaml, const LoadOptions& options = {}) {
  Bootstrap bootstrap;
  absl::Status status = loadFromYaml(yaml, bootstrap, options);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

std::string tempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void writeFile(const std::string& path, absl::string_view contents) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
  ASSERT_TRUE(file.good());
}

TEST(MessageLoaderTest, LoadsYamlWithTypedConfig) {
  Bootstrap bootstrap;
  ASSERT_TRUE(loadFromYaml(kListenerYaml, bootstrap).ok());
  const auto& listener = bootstrap.static_resources().listeners(0);
  EXPECT_EQ(listener.name(), "ingress");
  EXPECT_EQ(listener.address().socket_address().port_value(), 10000u);
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  ASSERT_TRUE(listener.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.stat_prefix(), "ingress_http");
  const auto& cluster = bootstrap.static_resources().clusters(0);
  EXPECT_EQ(cluster.connect_timeout().nanos(), 250000000);
  EXPECT_EQ(cluster.per_connection_buffer_limit_bytes().value(), 32768u);
}

TEST(MessageLoaderTest, YamlJsonRoundTrip) {
  Bootstrap from_yaml;
  ASSERT_TRUE(loadFromYaml(kListenerYaml, from_yaml).ok());
  const std::string json = toJson(from_yaml, /*pretty=*/true);
  Bootstrap from_json;
  absl::Status status = loadFromJson(json, from_json);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_yaml, from_json));
  // The printed JSON reads as YAML too, and gives the same message.
  Bootstrap from_json_as_yaml;
  ASSERT_TRUE(loadFromYaml(json, from_json_as_yaml).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_yaml, from_json_as_yaml));
}

TEST(MessageLoaderTest, ToJsonUsesProtoFieldNamesAndOmitsDefaults) {
  Bootstrap bootstrap;
  bootstrap.mutable_static_resources()->add_clusters()->set_name("c");
  EXPECT_EQ(toJson(bootstrap), R"({"static_resources":{"clusters":[{"name":"c"}]}})");
  EXPECT_THAT(toJson(bootstrap, true), HasSubstr("\n"));
}

TEST(MessageLoaderTest, TypeCoercion) {
  // Numbers as strings, quoted numbers for 64-bit fields, bools, durations.
  Bootstrap bootstrap;
  absl::Status status = loadFromYaml(R"(
static_resources:
  clusters:
  - name: "123"
    connect_timeout: 5s
    per_connection_buffer_limit_bytes: "4096"
    respect_dns_ttl: yes
    ignore_health_on_host_removal: true
    max_requests_per_connection: 0x10
stats_flush_interval: 1.5s
overload_manager:
  refresh_interval: 0.25s
)",
                                     bootstrap);
  ASSERT_TRUE(status.ok()) << status;
  const auto& cluster = bootstrap.static_resources().clusters(0);
  EXPECT_EQ(cluster.name(), "123");
  EXPECT_EQ(cluster.connect_timeout().seconds(), 5);
  EXPECT_EQ(cluster.per_connection_buffer_limit_bytes().value(), 4096u);
  EXPECT_TRUE(cluster.respect_dns_ttl());
  EXPECT_TRUE(cluster.ignore_health_on_host_removal());
  EXPECT_EQ(cluster.max_requests_per_connection().value(), 16u);
  EXPECT_EQ(bootstrap.stats_flush_interval().nanos(), 500000000);
}

TEST(MessageLoaderTest, StructKeepsYamlTypes) {
  google::protobuf::Struct value;
  ASSERT_TRUE(loadFromYaml("i: 3\nf: 0.5\nb: false\ns: '3'\nn: ~\nl: [1, x]\n", value).ok());
  EXPECT_EQ(value.fields().at("i").number_value(), 3);
  EXPECT_EQ(value.fields().at("f").number_value(), 0.5);
  EXPECT_FALSE(value.fields().at("b").bool_value());
  EXPECT_EQ(value.fields().at("s").string_value(), "3");
  EXPECT_EQ(value.fields().at("n").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(value.fields().at("l").list_value().values(1).string_value(), "x");
}

TEST(MessageLoaderTest, BadValueNamesNestedRepeatedPath) {
  EXPECT_EQ(loadError(R"(
static_resources:
  listeners:
  - name: a
  - name: b
    address:
      socket_address: { address: 1.2.3.4, port_value: abc }
)"),
            "static_resources.listeners[1].address.socket_address.port_value: invalid value "
            "\"abc\" for type TYPE_UINT32");
}

TEST(MessageLoaderTest, BadEnumAndDurationNamePath) {
  EXPECT_EQ(loadError("static_resources: {clusters: [{name: c, type: NOPE}]}"),
            "static_resources.clusters[0].type: invalid value \"NOPE\" for type "
            "envoy.config.cluster.v3.Cluster.DiscoveryType");
  EXPECT_THAT(loadError("static_resources: {clusters: [{name: c, connect_timeout: 5}]}"),
              StartsWith("static_resources.clusters[0].connect_timeout: invalid value"));
}

TEST(MessageLoaderTest, UnknownFieldRejectedWithPath) {
  EXPECT_EQ(loadError("static_resources: {listeners: [{name: a, foo: 1}]}"),
            "static_resources.listeners[0].foo: unknown field");
  EXPECT_EQ(loadError("nope: 1"), "nope: unknown field");
}

TEST(MessageLoaderTest, UnknownFieldAllowed) {
  Bootstrap bootstrap;
  LoadOptions options;
  options.allow_unknown_fields = true;
  ASSERT_TRUE(
      loadFromYaml("static_resources: {listeners: [{name: a, foo: 1}]}", bootstrap, options).ok());
  EXPECT_EQ(bootstrap.static_resources().listeners(0).name(), "a");
}

TEST(MessageLoaderTest, ErrorsInsideAnyNameFullPath) {
  const std::string prefix = R"(
static_resources:
  listeners:
  - name: a
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: x
          http_filters:
          - name: router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
)";
  EXPECT_EQ(loadError(prefix + "              bogus: 1\n"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "http_filters[0].typed_config.bogus: unknown field");
  EXPECT_EQ(loadError(prefix + "              suppress_envoy_headers: maybe\n"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
            "http_filters[0].typed_config.suppress_envoy_headers: invalid value \"maybe\" for "
            "type TYPE_BOOL");
}

TEST(MessageLoaderTest, UnknownAnyTypeNamesPath) {
  EXPECT_THAT(loadError(R"(
static_resources:
  listeners:
  - name: a
    filter_chains:
    - filters:
      - name: x
        typed_config: {"@type": type.googleapis.com/no.such.Type}
)"),
              StartsWith("static_resources.listeners[0].filter_chains[0].filters[0].typed_config: "
                         "invalid value Invalid type URL, unknown type: no.such.Type"));
}

TEST(MessageLoaderTest, NonMappingRootRejected) {
  EXPECT_THAT(loadError("- a\n- b\n"), HasSubstr("must be an object"));
}

TEST(MessageLoaderTest, YamlSyntaxErrorNamesLine) {
  EXPECT_THAT(loadError("static_resources:\n  listeners: [\n"),
              StartsWith("YAML syntax error at line"));
}

TEST(MessageLoaderTest, EmptyYamlIsEmptyMessage) {
  Bootstrap bootstrap;
  bootstrap.mutable_admin();
  ASSERT_TRUE(loadFromYaml("", bootstrap).ok());
  EXPECT_FALSE(bootstrap.has_admin());
}

TEST(MessageLoaderTest, JsonSyntaxError) {
  Bootstrap bootstrap;
  absl::Status status = loadFromJson(R"({"static_resources": {)", bootstrap);
  EXPECT_THAT(std::string(status.message()), StartsWith("invalid JSON: "));
}

TEST(MessageLoaderTest, JsonDepthLimit) {
  std::string json = "{\"node\":{\"metadata\":{\"a\":";
  for (int i = 0; i < 150; ++i) {
    json += "[";
  }
  for (int i = 0; i < 150; ++i) {
    json += "]";
  }
  json += "}}}";
  Bootstrap bootstrap;
  absl::Status status = loadFromJson(json, bootstrap);
  EXPECT_THAT(std::string(status.message()), HasSubstr("nesting deeper than 100 levels"));
}

TEST(MessageLoaderTest, MergeYamlOverAppendsRepeatedAndReplacesScalars) {
  Bootstrap bootstrap;
  ASSERT_TRUE(loadFromYaml(R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  clusters: [{name: a, connect_timeout: 1s}]
)",
                           bootstrap)
                  .ok());
  ASSERT_TRUE(mergeYamlOver(R"(
admin: {address: {socket_address: {port_value: 9902}}}
static_resources:
  clusters: [{name: b}]
)",
                            bootstrap)
                  .ok());
  EXPECT_EQ(bootstrap.admin().address().socket_address().address(), "127.0.0.1");
  EXPECT_EQ(bootstrap.admin().address().socket_address().port_value(), 9902u);
  ASSERT_EQ(bootstrap.static_resources().clusters_size(), 2);
  EXPECT_EQ(bootstrap.static_resources().clusters(0).name(), "a");
  EXPECT_EQ(bootstrap.static_resources().clusters(1).name(), "b");
}

TEST(MessageLoaderTest, MergeYamlOverErrorLeavesTargetUntouched) {
  Bootstrap bootstrap;
  bootstrap.mutable_static_resources()->add_clusters()->set_name("a");
  EXPECT_FALSE(mergeYamlOver("static_resources: {clusters: [{nam: b}]}", bootstrap).ok());
  ASSERT_EQ(bootstrap.static_resources().clusters_size(), 1);
}

TEST(MessageLoaderTest, LoadFromFileByExtension) {
  const std::string yaml_path = tempPath("loader.yaml");
  writeFile(yaml_path, "static_resources: {clusters: [{name: from_yaml}]}");
  const std::string json_path = tempPath("loader.json");
  writeFile(json_path, R"({"static_resources": {"clusters": [{"name": "from_json"}]}})");
  const std::string text_path = tempPath("loader.pb_text");
  writeFile(text_path, R"(static_resources { clusters { name: "from_text" } })");
  Bootstrap bootstrap;
  ASSERT_TRUE(loadFromFile(yaml_path, bootstrap).ok());
  EXPECT_EQ(bootstrap.static_resources().clusters(0).name(), "from_yaml");
  ASSERT_TRUE(loadFromFile(json_path, bootstrap).ok());
  EXPECT_EQ(bootstrap.static_resources().clusters(0).name(), "from_json");
  ASSERT_TRUE(loadFromFile(text_path, bootstrap).ok());
  EXPECT_EQ(bootstrap.static_resources().clusters(0).name(), "from_text");
}

TEST(MessageLoaderTest, LoadFromFileWithoutKnownExtensionTriesJsonThenYaml) {
  const std::string json_path = tempPath("loader_json.conf");
  writeFile(json_path, R"({"static_resources": {"clusters": [{"name": "j"}]}})");
  const std::string yaml_path = tempPath("loader_yaml.conf");
  writeFile(yaml_path, "static_resources:\n  clusters:\n  - name: yaml_named\n");
  Bootstrap bootstrap;
  ASSERT_TRUE(loadFromFile(json_path, bootstrap).ok());
  EXPECT_EQ(bootstrap.static_resources().clusters(0).name(), "j");
  ASSERT_TRUE(loadFromFile(yaml_path, bootstrap).ok());
  EXPECT_EQ(bootstrap.static_resources().clusters(0).name(), "yaml_named");
  // Looks like JSON but is broken: the JSON error is reported, not a YAML one.
  const std::string broken = tempPath("loader_broken.conf");
  writeFile(broken, R"({"static_resources": {"clusters": [{"name": 5}]}})");
  absl::Status status = loadFromFile(broken, bootstrap);
  EXPECT_THAT(std::string(status.message()), StartsWith("static_resources.clusters[0].name:"));
}

TEST(MessageLoaderTest, MissingFileNamesPath) {
  Bootstrap bootstrap;
  absl::Status status = loadFromFile("/nonexistent/dir/envoy.yaml", bootstrap);
  EXPECT_EQ(status.message(),
            "cannot read config file '/nonexistent/dir/envoy.yaml': No such file or directory");
  status = loadFromFile(std::getenv("TEST_TMPDIR") != nullptr ? std::getenv("TEST_TMPDIR") : "/tmp",
                        bootstrap);
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a regular file"));
}

TEST(MessageLoaderTest, FileSizeLimit) {
  const std::string path = tempPath("loader_big.yaml");
  writeFile(path, std::string(2048, ' ') + "admin: {}\n");
  LoadOptions options;
  options.max_bytes = 1024;
  Bootstrap bootstrap;
  absl::Status status = loadFromFile(path, bootstrap, options);
  EXPECT_THAT(std::string(status.message()), HasSubstr("more than the limit of 1024"));
}

}  // namespace
}  // namespace waystone::protobuf
