#include "source/common/protobuf/pgv_validator.h"

#include <map>
#include <memory>
#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/core/v3/proxy_protocol.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/message_loader.h"

namespace waystone::protobuf {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using testing::HasSubstr;

// Loads `yaml` (which must parse) and returns the validation error ("" if valid).
std::string validationError(absl::string_view yaml, const LoadOptions& options = {}) {
  Bootstrap bootstrap;
  absl::Status loaded = loadFromYaml(yaml, bootstrap);
  EXPECT_TRUE(loaded.ok()) << loaded;
  absl::Status status = validate(bootstrap, options);
  return status.ok() ? "" : std::string(status.message());
}

constexpr absl::string_view kValidBootstrap = R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
  clusters:
  - name: c
    connect_timeout: 1s
)";

TEST(PgvValidatorTest, ValidBootstrapPasses) { EXPECT_EQ(validationError(kValidBootstrap), ""); }

TEST(PgvValidatorTest, PortAbove65535) {
  EXPECT_EQ(validationError(R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 0.0.0.0, port_value: 70000}}
)"),
            "static_resources.listeners[0].address.socket_address.port_value: value must be <= "
            "65535 (got 70000)");
}

TEST(PgvValidatorTest, EmptyClusterName) {
  EXPECT_EQ(validationError("static_resources: {clusters: [{name: a}, {connect_timeout: 1s}]}"),
            "static_resources.clusters[1].name: value must be at least 1 characters long (got "
            "\"\")");
}

TEST(PgvValidatorTest, MissingRequiredMessage) {
  EXPECT_EQ(validationError(R"(
static_resources:
  clusters:
  - name: c
    health_checks:
    - {timeout: 1s, interval: 1s, healthy_threshold: 1, tcp_health_check: {}}
)"),
            "static_resources.clusters[0].health_checks[0].unhealthy_threshold: value is required");
}

TEST(PgvValidatorTest, EnumOutOfRange) {
  EXPECT_EQ(validationError("static_resources: {clusters: [{name: c, type: 77}]}"),
            "static_resources.clusters[0].type: value must be a defined value of "
            "envoy.config.cluster.v3.Cluster.DiscoveryType (got 77)");
}

TEST(PgvValidatorTest, NegativeDuration) {
  EXPECT_EQ(validationError("static_resources: {clusters: [{name: c, connect_timeout: -1s}]}"),
            "static_resources.clusters[0].connect_timeout: value must be > 0 (got -1s)");
  EXPECT_EQ(validationError("static_resources: {clusters: [{name: c, connect_timeout: 0s}]}"),
            "static_resources.clusters[0].connect_timeout: value must be > 0 (got 0)");
}

TEST(PgvValidatorTest, RequiredOneof) {
  EXPECT_EQ(validationError(R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 0.0.0.0}}
)"),
            "static_resources.listeners[0].address.socket_address: one of [port_value, named_port] "
            "must be set (oneof port_specifier)");
}

TEST(PgvValidatorTest, WrapperValueRule) {
  EXPECT_EQ(validationError(R"(
static_resources:
  clusters:
  - name: c
    outlier_detection: {max_ejection_percent: 101}
)"),
            "static_resources.clusters[0].outlier_detection.max_ejection_percent: value must be <= "
            "100 (got 101)");
}

TEST(PgvValidatorTest, DoubleRangeOnWrapper) {
  EXPECT_EQ(validationError(R"(
static_resources:
  clusters:
  - name: c
    preconnect_policy: {per_upstream_preconnect_ratio: 0.5}
)"),
            "static_resources.clusters[0].preconnect_policy.per_upstream_preconnect_ratio: value "
            "must be >= 1 and <= 3 (got 0.5)");
}

TEST(PgvValidatorTest, RepeatedMinItemsInsideAnyAndMap) {
  EXPECT_EQ(validationError(R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 0.0.0.0, port_value: 1}}
    filter_chains:
    - filters:
      - name: rbac
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
          stat_prefix: r
          rules:
            policies:
              allow-all:
                permissions: []
                principals: [{any: true}]
)"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.rules.policies["
            "\"allow-all\"].permissions: value must contain at least 1 item(s) (got 0)");
}

TEST(PgvValidatorTest, AnyRequired) {
  EXPECT_EQ(validationError(R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 0.0.0.0, port_value: 1}}
    listener_filters: [{name: tls_inspector}]
)"),
            "");
  EXPECT_EQ(validationError(R"(
bootstrap_extensions: [{name: ext}]
)"),
            "bootstrap_extensions[0].typed_config: value is required");
}

TEST(PgvValidatorTest, TypedStructInsideAnyIsValidated) {
  const std::string yaml = R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 0.0.0.0, port_value: 1}}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/xds.type.v3.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          value: {stat_prefix: "", cluster: c)";
  EXPECT_EQ(validationError(yaml + "}\n"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix: "
            "value must be at least 1 characters long (got \"\")");
  // Unknown fields in a TypedStruct fail unless allowed.
  EXPECT_EQ(validationError(yaml + ", bogus: 1}\n"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.bogus: "
            "unknown field");
  LoadOptions lenient;
  lenient.allow_unknown_fields = true;
  EXPECT_THAT(validationError(yaml + ", bogus: 1}\n", lenient), HasSubstr("stat_prefix"));
}

TEST(PgvValidatorTest, RepeatedItemRules) {
  envoy::config::core::v3::ProxyProtocolPassThroughTLVs tlvs;
  tlvs.add_tlv_type(1);
  tlvs.add_tlv_type(255);
  EXPECT_TRUE(validate(tlvs).ok());
  tlvs.add_tlv_type(256);
  EXPECT_EQ(validate(tlvs).message(), "tlv_type[2]: value must be < 256 (got 256)");
}

TEST(PgvValidatorTest, HeaderNameAndValueRules) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key("x-ok");
  header.set_value("fine value");
  EXPECT_TRUE(validate(header).ok());
  header.set_value("bad\r\nvalue");
  EXPECT_THAT(std::string(validate(header).message()),
              HasSubstr("value: value must be a valid HTTP header value"));
  header.set_value("v");
  header.set_key("");
  EXPECT_THAT(std::string(validate(header).message()), HasSubstr("key: value must be at least 1"));
}

// Rules the Envoy protos do not exercise, on a schema built at run time (a dynamic message,
// which also checks that validation does not depend on generated classes).
constexpr absl::string_view kTestSchema = R"pb(
  name: "pgv_test.proto"
  package: "pgvtest"
  syntax: "proto3"
  dependency: "validate/validate.proto"
  dependency: "google/protobuf/duration.proto"
  message_type {
    name: "Numbers"
    field {
      name: "i32"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_INT32
      options {
        [validate.rules] { int32 { gt: 0 lt: 10 } }
      }
    }
    field {
      name: "i64"
      number: 2
      label: LABEL_OPTIONAL
      type: TYPE_INT64
      options {
        [validate.rules] { int64 { lt: 0 gt: 10 } }
      }
    }
    field {
      name: "u32"
      number: 3
      label: LABEL_OPTIONAL
      type: TYPE_UINT32
      options {
        [validate.rules] { uint32 { in: [ 1, 2, 3 ] } }
      }
    }
    field {
      name: "u64"
      number: 4
      label: LABEL_OPTIONAL
      type: TYPE_UINT64
      options {
        [validate.rules] { uint64 { not_in: [ 5 ] } }
      }
    }
    field {
      name: "f"
      number: 5
      label: LABEL_OPTIONAL
      type: TYPE_FLOAT
      options {
        [validate.rules] { float { gte: 0.5 } }
      }
    }
    field {
      name: "d"
      number: 6
      label: LABEL_OPTIONAL
      type: TYPE_DOUBLE
      options {
        [validate.rules] { double { const: 2.5 } }
      }
    }
    field {
      name: "s32"
      number: 7
      label: LABEL_OPTIONAL
      type: TYPE_SINT32
      options {
        [validate.rules] { sint32 { lte: -1 ignore_empty: true } }
      }
    }
  }
  message_type {
    name: "Strings"
    field {
      name: "affix"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { prefix: "ab" suffix: "yz" } }
      }
    }
    field {
      name: "choice"
      number: 2
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { in: [ "x", "y" ] } }
      }
    }
    field {
      name: "host"
      number: 3
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { hostname: true } }
      }
    }
    field {
      name: "ip"
      number: 4
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { ip: true } }
      }
    }
    field {
      name: "pattern"
      number: 5
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { pattern: "^[a-z]+$" } }
      }
    }
    field {
      name: "chars"
      number: 6
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { len: 3 } }
      }
    }
    field {
      name: "uniq"
      number: 7
      label: LABEL_REPEATED
      type: TYPE_STRING
      options {
        [validate.rules] { repeated { unique: true max_items: 3 } }
      }
    }
    field {
      name: "raw"
      number: 8
      label: LABEL_OPTIONAL
      type: TYPE_BYTES
      options {
        [validate.rules] { bytes { max_len: 2 } }
      }
    }
    field {
      name: "banned"
      number: 9
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { not_in: [ "bad" ] } }
      }
    }
    field {
      name: "optional_min"
      number: 10
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { min_len: 3 ignore_empty: true } }
      }
    }
    field {
      name: "max"
      number: 11
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { max_bytes: 4 } }
      }
    }
  }
  message_type {
    name: "Containers"
    field {
      name: "m"
      number: 1
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".pgvtest.Containers.MEntry"
      options {
        [validate.rules] {
          map {
            min_pairs: 1
            keys { string { min_len: 2 } }
            values { int32 { gt: 0 } }
          }
        }
      }
    }
    field {
      name: "skipped"
      number: 2
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".pgvtest.Inner"
      options {
        [validate.rules] { message { skip: true } }
      }
    }
    field {
      name: "disabled"
      number: 3
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".pgvtest.Disabled"
    }
    field {
      name: "dur"
      number: 4
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Duration"
      options {
        [validate.rules] {
          duration {
            required: true
            lt { seconds: 10 }
          }
        }
      }
    }
    field {
      name: "inner"
      number: 5
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".pgvtest.Inner"
    }
    nested_type {
      name: "MEntry"
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
      field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
      options { map_entry: true }
    }
  }
  message_type {
    name: "Inner"
    field {
      name: "s"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { min_len: 1 } }
      }
    }
  }
  message_type {
    name: "Disabled"
    field {
      name: "s"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      options {
        [validate.rules] { string { min_len: 1 } }
      }
    }
    options {
      [validate.disabled]: true
    }
  }
)pb";

class DynamicRulesTest : public testing::Test {
 protected:
  void SetUp() override {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(std::string(kTestSchema), &file));
    ASSERT_NE(pool_.BuildFile(file), nullptr);
  }

  // A message of `type` parsed from YAML (through the same loader as configs).
  std::unique_ptr<google::protobuf::Message> make(const std::string& type, absl::string_view yaml) {
    const auto* descriptor = pool_.FindMessageTypeByName("pgvtest." + type);
    EXPECT_NE(descriptor, nullptr);
    std::unique_ptr<google::protobuf::Message> message(factory_.GetPrototype(descriptor)->New());
    absl::Status status = loadFromYaml(yaml, *message);
    EXPECT_TRUE(status.ok()) << status;
    return message;
  }

  std::string check(const std::string& type, absl::string_view yaml) {
    auto message = make(type, yaml);
    absl::Status status = validate(*message);
    return status.ok() ? "" : std::string(status.message());
  }

  google::protobuf::DescriptorPool pool_{google::protobuf::DescriptorPool::generated_pool()};
  google::protobuf::DynamicMessageFactory factory_{&pool_};
};

constexpr absl::string_view kGoodNumbers = "{i32: 5, i64: -3, u32: 2, f: 0.5, d: 2.5}";

TEST_F(DynamicRulesTest, NumericRules) {
  EXPECT_EQ(check("Numbers", kGoodNumbers), "");
  EXPECT_EQ(check("Numbers", "{i32: 10, i64: -3, u32: 2, f: 1, d: 2.5}"),
            "i32: value must be > 0 and < 10 (got 10)");
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 5, u32: 2, f: 1, d: 2.5}"),
            "i64: value must be < 0 or > 10 (got 5)");
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 11, u32: 4, f: 1, d: 2.5}"),
            "u32: value must be in [1, 2, 3] (got 4)");
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 11, u32: 3, u64: 5, f: 1, d: 2.5}"),
            "u64: value must not be in [5] (got 5)");
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 11, u32: 3, f: 0.25, d: 2.5}"),
            "f: value must be >= 0.5 (got 0.25)");
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 11, u32: 3, f: 1, d: 2.6}"),
            "d: value must equal 2.5 (got 2.6)");
  // ignore_empty: 0 passes, any other value must satisfy the rule.
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 11, u32: 3, f: 1, d: 2.5, s32: 4}"),
            "s32: value must be <= -1 (got 4)");
  EXPECT_EQ(check("Numbers", "{i32: 1, i64: 11, u32: 3, f: 1, d: 2.5, s32: -4}"), "");
}

TEST_F(DynamicRulesTest, StringRules) {
  const std::map<std::string, std::string> good = {
      {"affix", "abxyz"}, {"choice", "x"},    {"host", "a-b.example.com"},
      {"ip", "'::1'"},    {"pattern", "abc"}, {"chars", "\"\xc3\xa9t\xc3\xa9\""},
      {"uniq", "[a, b]"}, {"raw", "AAA="},    {"max", "abcd"}};
  // The good document with one field replaced.
  auto with = [&good](const std::string& field, const std::string& value) {
    auto fields = good;
    fields[field] = value;
    std::string yaml;
    for (const auto& [name, text] : fields) {
      yaml += name + ": " + text + "\n";
    }
    return yaml;
  };
  EXPECT_EQ(check("Strings", with("choice", "'y'")), "");
  EXPECT_EQ(check("Strings", with("affix", "xbyz")),
            "affix: value must start with \"ab\" (got \"xbyz\")");
  EXPECT_EQ(check("Strings", with("affix", "abc")),
            "affix: value must end with \"yz\" (got \"abc\")");
  EXPECT_EQ(check("Strings", with("choice", "z")),
            "choice: value must be in [\"x\", \"y\"] (got \"z\")");
  EXPECT_EQ(check("Strings", with("host", "-bad.example")),
            "host: value must be a valid hostname (got \"-bad.example\")");
  EXPECT_EQ(check("Strings", with("ip", "1.2.3")),
            "ip: value must be a valid IP address (got \"1.2.3\")");
  EXPECT_EQ(check("Strings", with("pattern", "ABC")),
            "pattern: value must match the pattern ^[a-z]+$ (got \"ABC\")");
  EXPECT_EQ(check("Strings", with("chars", "abcd")),
            "chars: value must be exactly 3 characters long (got \"abcd\")");
  EXPECT_EQ(check("Strings", with("uniq", "[a, b, a]")),
            "uniq[2]: repeated value must contain unique items (\"a\" appears twice)");
  EXPECT_EQ(check("Strings", with("uniq", "[a, b, c, d]")),
            "uniq: value must contain at most 3 item(s) (got 4)");
  EXPECT_EQ(check("Strings", with("raw", "AAAA")),
            "raw: value must be at most 2 bytes long (got 3 bytes)");
  EXPECT_EQ(check("Strings", with("banned", "bad")),
            "banned: value must not be in [\"bad\"] (got \"bad\")");
  // ignore_empty: "" passes, any other value must satisfy the rule.
  EXPECT_EQ(check("Strings", with("optional_min", "''")), "");
  EXPECT_EQ(check("Strings", with("optional_min", "ab")),
            "optional_min: value must be at least 3 characters long (got \"ab\")");
  EXPECT_EQ(check("Strings", with("max", "abcde")),
            "max: value must be at most 4 bytes long (got \"abcde\")");
}

TEST_F(DynamicRulesTest, MapRules) {
  const std::string rest = "dur: 1s\n";
  EXPECT_EQ(check("Containers", "m: {ab: 1}\n" + rest), "");
  EXPECT_EQ(check("Containers", "m: {}\n" + rest),
            "m: value must contain at least 1 pair(s) (got 0)");
  EXPECT_EQ(check("Containers", "m: {a: 1}\n" + rest),
            "m[\"a\"]: key: value must be at least 2 characters long (got \"a\")");
  EXPECT_EQ(check("Containers", "m: {ab: 0}\n" + rest), "m[\"ab\"]: value must be > 0 (got 0)");
}

TEST_F(DynamicRulesTest, SkipDisabledDurationAndNestedPaths) {
  // Skipped and disabled messages are not looked into.
  EXPECT_EQ(check("Containers", "m: {ab: 1}\ndur: 1s\nskipped: {s: ''}\ndisabled: {s: ''}\n"), "");
  EXPECT_EQ(check("Containers", "m: {ab: 1}\n"), "dur: value is required");
  EXPECT_EQ(check("Containers", "m: {ab: 1}\ndur: 10s\n"), "dur: value must be < 10s (got 10s)");
  EXPECT_EQ(check("Containers", "m: {ab: 1}\ndur: 1s\ninner: [{s: a}, {s: ''}]\n"),
            "inner[1].s: value must be at least 1 characters long (got \"\")");
}

}  // namespace
}  // namespace waystone::protobuf
