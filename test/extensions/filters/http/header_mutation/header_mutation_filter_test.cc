// The header_mutation filter's config (built from the proto as xDS delivers it) and its
// mutations, evaluated through the substitution formatter against a stream's StreamInfo. The
// filter in a running proxy is covered by test/integration/http (basic and
// header_formatter_integration_test).

#include "source/extensions/filters/http/header_mutation/header_mutation_filter.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "test/common/formatter/fake_connection_info.h"

namespace waystone::extensions::http_filters::header_mutation {
namespace {

using Proto = envoy::extensions::filters::http::header_mutation::v3::HeaderMutation;
using Values = std::vector<absl::string_view>;

constexpr absl::string_view kPath = "http_filters[1].typed_config";

absl::StatusOr<HeaderMutationConfigConstSharedPtr> create(absl::string_view yaml) {
  Proto proto;
  const absl::Status loaded = protobuf::loadFromYaml(yaml, proto);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return HeaderMutationConfig::create(proto, std::string(kPath));
}

HeaderMutationConfigConstSharedPtr mustCreate(absl::string_view yaml) {
  auto config = create(yaml);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : nullptr;
}

std::string error(absl::string_view yaml) {
  auto config = create(yaml);
  EXPECT_FALSE(config.ok()) << yaml;
  return config.ok() ? "" : std::string(config.status().message());
}

// A request's StreamInfo as the connection manager builds it: the connection's filter state as
// parent, the connection's TLS facts, the client's address.
class HeaderMutationFilterTest : public testing::Test {
 protected:
  HeaderMutationFilterTest() {
    tls_.peer_uri_sans = {"spiffe://cluster.local/ns/default/sa/client"};
    tls_.local_uri_san = "spiffe://cluster.local/ns/default/sa/waypoint";
    info_.downstream_ssl = &tls_;
    info_.filter_state = std::make_shared<stream_info::FilterState>(connection_state_);
    auto remote = network::address::parseIpAndPort("10.1.2.3:45678");
    EXPECT_TRUE(remote.ok());
    info_.downstream_remote_address = *remote;
  }

  void setConnectionString(absl::string_view key, std::string value) {
    const absl::Status status = connection_state_->setData(
        key, std::make_shared<stream_info::HashableString>(std::move(value)),
        stream_info::FilterState::StateType::ReadOnly);
    ASSERT_TRUE(status.ok()) << status;
  }

  formatter::test::FakeConnectionInfo tls_;
  stream_info::FilterStateSharedPtr connection_state_ =
      std::make_shared<stream_info::FilterState>();
  stream_info::StreamInfo info_;
};

TEST_F(HeaderMutationFilterTest, IstioXfccFromFilterState) {
  setConnectionString("io.istio.local_principal", "spiffe://cluster.local/ns/default/sa/waypoint");
  setConnectionString("io.istio.peer_principal", "spiffe://cluster.local/ns/default/sa/client");
  const auto config = mustCreate(R"(
mutations:
  request_mutations:
  - append:
      header:
        key: x-forwarded-client-cert
        value: 'By=%FILTER_STATE(io.istio.local_principal:PLAIN)%;URI=%FILTER_STATE(io.istio.peer_principal:PLAIN)%'
      append_action: OVERWRITE_IF_EXISTS_OR_ADD
)");
  ASSERT_NE(config, nullptr);
  http::HeaderMap headers{{"x-forwarded-client-cert", "By=spoofed"}};
  HeaderMutationFilter::apply(config->requestMutations(), headers, formatter::Context{&headers},
                              info_);
  EXPECT_EQ((Values{"By=spiffe://cluster.local/ns/default/sa/waypoint;"
                    "URI=spiffe://cluster.local/ns/default/sa/client"}),
            headers.getAll("x-forwarded-client-cert"));
}

TEST_F(HeaderMutationFilterTest, TlsAndStreamCommands) {
  const auto config = mustCreate(R"(
mutations:
  request_mutations:
  - append: {header: {key: x-peer, value: '%DOWNSTREAM_PEER_URI_SAN%'}}
  - append: {header: {key: x-local, value: '%DOWNSTREAM_LOCAL_URI_SAN%'}}
  - append: {header: {key: x-client, value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%'}}
  - append: {header: {key: x-percent, value: '100%%'}}
)");
  ASSERT_NE(config, nullptr);
  http::HeaderMap headers;
  HeaderMutationFilter::apply(config->requestMutations(), headers, formatter::Context{&headers},
                              info_);
  EXPECT_EQ("spiffe://cluster.local/ns/default/sa/client", headers.getValue("x-peer"));
  EXPECT_EQ("spiffe://cluster.local/ns/default/sa/waypoint", headers.getValue("x-local"));
  EXPECT_EQ("10.1.2.3", headers.getValue("x-client"));
  EXPECT_EQ("100%", headers.getValue("x-percent"));
}

TEST_F(HeaderMutationFilterTest, ResponseMutationsSeeRequestAndResponse) {
  const auto config = mustCreate(R"(
mutations:
  response_mutations:
  - append: {header: {key: x-echo, value: '%REQ(x-id)%:%RESP(x-upstream)%'}}
  - remove: x-upstream
)");
  ASSERT_NE(config, nullptr);
  const http::HeaderMap request{{"x-id", "7"}};
  http::HeaderMap response{{":status", "200"}, {"x-upstream", "u"}};
  HeaderMutationFilter::apply(config->responseMutations(), response,
                              formatter::Context{&request, &response}, info_);
  EXPECT_EQ("7:u", response.getValue("x-echo"));
  EXPECT_FALSE(response.has("x-upstream"));

  // A local reply before the request reached this filter: no request headers.
  http::HeaderMap local{{":status", "503"}, {"x-upstream", "v"}};
  HeaderMutationFilter::apply(config->responseMutations(), local,
                              formatter::Context{nullptr, &local}, info_);
  EXPECT_EQ(":v", local.getValue("x-echo"));
}

// Missing values contribute nothing (not the access log's "-"); an empty result is dropped
// unless keep_empty_value; mutations apply in order, each seeing the ones before.
TEST_F(HeaderMutationFilterTest, EmptyValuesAndOrder) {
  const auto config = mustCreate(R"(
mutations:
  request_mutations:
  - append: {header: {key: x-missing, value: '%FILTER_STATE(io.istio.peer_principal:PLAIN)%'}}
  - append:
      header: {key: x-kept, value: '%REQ(x-nope)%'}
      keep_empty_value: true
  - append: {header: {key: x-first, value: one}}
  - append: {header: {key: x-second, value: 'after-%REQ(x-first)%'}}
  - append:
      header: {key: x-first, value: two}
      append_action: ADD_IF_ABSENT
  - append:
      header: {key: x-overwrite, value: new}
      append_action: OVERWRITE_IF_EXISTS
)");
  ASSERT_NE(config, nullptr);
  http::HeaderMap headers;
  HeaderMutationFilter::apply(config->requestMutations(), headers, formatter::Context{&headers},
                              info_);
  EXPECT_FALSE(headers.has("x-missing"));
  EXPECT_EQ((Values{""}), headers.getAll("x-kept"));
  EXPECT_EQ((Values{"one"}), headers.getAll("x-first"));
  EXPECT_EQ("after-one", headers.getValue("x-second"));
  EXPECT_FALSE(headers.has("x-overwrite"));
}

TEST(HeaderMutationConfigTest, ErrorsNameTheField) {
  EXPECT_EQ(
      "http_filters[1].typed_config.mutations.request_mutations[1].append.header.value: unknown "
      "command \"%NOPE%\" at position 2 of \"a %NOPE%\"",
      error(R"(
mutations:
  request_mutations:
  - remove: x-a
  - append: {header: {key: x-b, value: 'a %NOPE%'}}
)"));
  EXPECT_TRUE(
      absl::StrContains(error(R"(
mutations:
  response_mutations:
  - append: {header: {key: x-b, value: '%FILTER_STATE(k:XML)%'}}
)"),
                        "response_mutations[0].append.header.value: %FILTER_STATE(k:XML)%"));
  EXPECT_EQ(
      "http_filters[1].typed_config.mutations.request_mutations[0].append.header.key: "
      "pseudo-headers and host cannot be mutated here",
      error(R"(
mutations:
  request_mutations:
  - append: {header: {key: ':path', value: /x}}
)"));
}

}  // namespace
}  // namespace waystone::extensions::http_filters::header_mutation
