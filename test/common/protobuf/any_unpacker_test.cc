#include "source/common/protobuf/any_unpacker.h"

#include <string>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "udpa/type/v1/typed_struct.pb.h"
#include "xds/type/v3/typed_struct.pb.h"

#include "source/common/protobuf/message_loader.h"

namespace waystone::protobuf {
namespace {

using envoy::extensions::filters::http::router::v3::Router;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using testing::HasSubstr;

constexpr absl::string_view kRouterUrl =
    "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

template <class TypedStruct>
google::protobuf::Any typedStruct(absl::string_view type_url, absl::string_view value_yaml) {
  TypedStruct typed_struct;
  typed_struct.set_type_url(std::string(type_url));
  EXPECT_TRUE(loadFromYaml(value_yaml, *typed_struct.mutable_value()).ok());
  google::protobuf::Any any;
  any.PackFrom(typed_struct);
  return any;
}

TEST(AnyUnpackerTest, PlainAny) {
  TcpProxy tcp_proxy;
  tcp_proxy.set_stat_prefix("tcp");
  tcp_proxy.set_cluster("backend");
  google::protobuf::Any any;
  any.PackFrom(tcp_proxy);
  EXPECT_EQ(typeUrlOf(any), "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
  EXPECT_FALSE(holdsTypedStruct(any));
  TcpProxy out;
  ASSERT_TRUE(unpackTo(any, out).ok());
  EXPECT_EQ(out.cluster(), "backend");
}

TEST(AnyUnpackerTest, PlainAnyOfWrongTypeNamesBoth) {
  google::protobuf::Any any;
  any.PackFrom(Router());
  TcpProxy out;
  absl::Status status = unpackTo(any, out, {}, "filters[0].typed_config");
  EXPECT_EQ(status.message(),
            "filters[0].typed_config: expected a config of type "
            "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, got "
            "envoy.extensions.filters.http.router.v3.Router");
}

TEST(AnyUnpackerTest, CorruptAnyValue) {
  google::protobuf::Any any;
  any.set_type_url(std::string(kRouterUrl));
  any.set_value("\xff\xff\xff");
  Router out;
  EXPECT_THAT(std::string(unpackTo(any, out).message()), HasSubstr("cannot decode"));
}

TEST(AnyUnpackerTest, UdpaTypedStruct) {
  auto any = typedStruct<udpa::type::v1::TypedStruct>(kRouterUrl,
                                                      "suppress_envoy_headers: true\n"
                                                      "start_child_span: true\n");
  EXPECT_TRUE(holdsTypedStruct(any));
  EXPECT_EQ(typeUrlOf(any), "envoy.extensions.filters.http.router.v3.Router");
  Router out;
  ASSERT_TRUE(unpackTo(any, out).ok());
  EXPECT_TRUE(out.suppress_envoy_headers());
  EXPECT_TRUE(out.start_child_span());
}

TEST(AnyUnpackerTest, XdsTypedStruct) {
  auto any = typedStruct<xds::type::v3::TypedStruct>(
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
      "stat_prefix: s\ncluster: c\nidle_timeout: 30s\nmax_connect_attempts: 3\n");
  EXPECT_EQ(typeUrlOf(any), "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
  TcpProxy out;
  absl::Status status = unpackTo(any, out);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(out.cluster(), "c");
  EXPECT_EQ(out.idle_timeout().seconds(), 30);
  EXPECT_EQ(out.max_connect_attempts().value(), 3u);
}

TEST(AnyUnpackerTest, MismatchedTypedStructNamesBothTypes) {
  auto any = typedStruct<xds::type::v3::TypedStruct>(kRouterUrl, "{}");
  TcpProxy out;
  absl::Status status = unpackTo(any, out);
  EXPECT_EQ(status.message(),
            "TypedStruct type_url \"type.googleapis.com/envoy.extensions.filters.http.router.v3."
            "Router\" does not name the expected type "
            "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
}

TEST(AnyUnpackerTest, TypedStructUnknownFieldsHonourOptions) {
  auto any = typedStruct<udpa::type::v1::TypedStruct>(kRouterUrl, "bogus: 1\n");
  Router out;
  absl::Status status = unpackTo(any, out, {}, "http_filters[0].typed_config");
  EXPECT_EQ(status.message(), "http_filters[0].typed_config.bogus: unknown field");
  LoadOptions lenient;
  lenient.allow_unknown_fields = true;
  EXPECT_TRUE(unpackTo(any, out, lenient).ok());
}

TEST(AnyUnpackerTest, TypedStructBadValueNamesField) {
  auto any = typedStruct<udpa::type::v1::TypedStruct>(kRouterUrl, "suppress_envoy_headers: 7\n");
  Router out;
  absl::Status status = unpackTo(any, out, {}, "f");
  EXPECT_EQ(status.message(), "f.suppress_envoy_headers: invalid value 7 for type TYPE_BOOL");
}

TEST(AnyUnpackerTest, TypedStructLoadedFromYamlDocument) {
  // The usual way a TypedStruct arrives: inside a config document.
  google::protobuf::Any any;
  ASSERT_TRUE(loadFromYaml(R"(
"@type": type.googleapis.com/udpa.type.v1.TypedStruct
type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
value: {suppress_envoy_headers: true}
)",
                           any)
                  .ok());
  Router out;
  ASSERT_TRUE(unpackTo(any, out).ok());
  EXPECT_TRUE(out.suppress_envoy_headers());
}

TEST(AnyUnpackerTest, TypeNameFromUrl) {
  EXPECT_EQ(typeNameFromUrl("type.googleapis.com/a.b.C"), "a.b.C");
  EXPECT_EQ(typeNameFromUrl("example.com/x/y/a.b.C"), "a.b.C");
  EXPECT_EQ(typeNameFromUrl("a.b.C"), "a.b.C");
}

TEST(AnyUnpackerTest, EmptyAnyIsAnError) {
  google::protobuf::Any any;
  Router out;
  EXPECT_THAT(std::string(unpackTo(any, out).message()), HasSubstr("got an empty Any"));
}

}  // namespace
}  // namespace waystone::protobuf
