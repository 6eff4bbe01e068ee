// The HTTP set_filter_state filter, built from config the way xDS delivers it (a typed_config
// through the HTTP filter registry), run by the real FilterManager on a request.

#include "source/extensions/filters/http/set_filter_state/set_filter_state_filter.h"

#include <memory>
#include <string>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/filter_manager.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "source/server/http_filter_registry.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/common/formatter/fake_connection_info.h"

namespace waystone::extensions::http_filters::set_filter_state {
namespace {

using stream_info::FilterState;
using HttpFilterProto =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter;

constexpr absl::string_view kPath =
    "listeners[0].filter_chains[0].filters[0].typed_config"
    ".http_filters[2].typed_config";

// istiod's connect_authority filter on the connect_terminate listener (HTTP filter 3 of 4), as
// it sends it to proxies of Istio >= 1.29.2 (docs: /work/shared/reference/istio-waypoint-xds.md
// §3.1).
constexpr absl::string_view kConnectAuthority = R"EOF(
name: connect_authority
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: envoy.filters.listener.original_dst.local_ip
    format_string:
      text_format_source:
        inline_string: "%REQ(:AUTHORITY)%"
    shared_with_upstream: ONCE
  - object_key: io.istio.connect_authority
    factory_key: istio.hashable_string
    format_string:
      text_format_source:
        inline_string: "%REQ(:AUTHORITY)%"
    shared_with_upstream: ONCE
  - object_key: envoy.filters.listener.original_dst.remote_ip
    format_string:
      text_format_source:
        inline_string: "%DOWNSTREAM_REMOTE_ADDRESS%"
    shared_with_upstream: ONCE
  - object_key: io.istio.peer_principal
    factory_key: istio.hashable_string
    format_string:
      text_format_source:
        inline_string: "%DOWNSTREAM_PEER_URI_SAN%"
    shared_with_upstream: ONCE
  - object_key: io.istio.local_principal
    factory_key: istio.hashable_string
    format_string:
      text_format_source:
        inline_string: "%DOWNSTREAM_LOCAL_URI_SAN%"
    shared_with_upstream: ONCE
)EOF";

// The same filter for proxies older than 1.29.2 (pilot/pkg/xds/filters ConnectAuthorityFilter):
// four entries, the principals as envoy.string.
constexpr absl::string_view kConnectAuthorityBefore1292 = R"EOF(
name: connect_authority
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: envoy.filters.listener.original_dst.local_ip
    format_string:
      text_format_source:
        inline_string: "%REQ(:AUTHORITY)%"
    shared_with_upstream: ONCE
  - object_key: envoy.filters.listener.original_dst.remote_ip
    format_string:
      text_format_source:
        inline_string: "%DOWNSTREAM_REMOTE_ADDRESS%"
    shared_with_upstream: ONCE
  - object_key: io.istio.peer_principal
    factory_key: envoy.string
    format_string:
      text_format_source:
        inline_string: "%DOWNSTREAM_PEER_URI_SAN%"
    shared_with_upstream: ONCE
  - object_key: io.istio.local_principal
    factory_key: envoy.string
    format_string:
      text_format_source:
        inline_string: "%DOWNSTREAM_LOCAL_URI_SAN%"
    shared_with_upstream: ONCE
)EOF";

// The stream's owner: the filter under test needs none of it, but the FilterManager does.
class Owner : public http::FilterManagerCallbacks {
 public:
  void encode1xxHeaders(http::ResponseHeaderMap&) override {}
  void encodeHeaders(http::ResponseHeaderMap&, bool) override {}
  void encodeData(buffer::Instance& data, bool) override { data.drain(data.length()); }
  void encodeTrailers(http::ResponseTrailerMap&) override {}
  void onDecoderFilterAboveWriteBufferHighWatermark() override {}
  void onDecoderFilterBelowWriteBufferLowWatermark() override {}
  void resetStream() override {}
  const router::Route* route() override { return nullptr; }
  void clearRouteCache() override {}
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  uint64_t streamId() const override { return 1; }
  bool isGrpcRequest() const override { return false; }

  event::DispatcherImpl dispatcher_{"test"};
};

// Records the filter state the next filter sees (the router, in the real chain).
class NextFilter : public http::PassThroughDecoderFilter {
 public:
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaderMap&, bool) override {
    seen = decoder_callbacks_->streamInfo().filter_state->hasData("io.istio.connect_authority");
    return http::FilterHeadersStatus::Continue;
  }
  bool seen = false;
};

class SetFilterStateFilterTest : public testing::Test {
 protected:
  void SetUp() override {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    auto manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    cluster_manager_ = std::move(*manager);
    auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, owner_.dispatcher_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    worker_cluster_managers_ = std::move(*workers);

    // The downstream connection: what connect_terminate's stream sees.
    ssl_.peer_uri_sans = {"spiffe://cluster.local/ns/default/sa/sleep"};
    ssl_.local_uri_san = "spiffe://cluster.local/ns/default/sa/waypoint";
    info_.downstream_ssl = &ssl_;
    info_.downstream_remote_address = *network::address::parseIpAndPort("10.1.2.3:45678");
    info_.downstream_local_address = *network::address::parseIpAndPort("10.1.9.9:15008");
    connection_state_ = std::make_shared<FilterState>();
    info_.filter_state = std::make_shared<FilterState>(connection_state_);
  }

  // The filter factory, from an HttpFilter YAML through the registry (unpacking and PGV
  // validation included).
  absl::StatusOr<http::FilterFactoryCb> factory(absl::string_view yaml) {
    HttpFilterProto filter;
    absl::Status status = protobuf::loadFromYaml(yaml, filter);
    EXPECT_TRUE(status.ok()) << status;
    const server::HttpFilterConfigFactory* factory =
        server::HttpFilterRegistry::get().find(protobuf::typeUrlOf(filter.typed_config()));
    EXPECT_NE(factory, nullptr);
    if (factory == nullptr) {
      return absl::NotFoundError("no factory");
    }
    server::HttpFilterFactoryContext context{*worker_cluster_managers_, store_, {}, "test"};
    return (*factory)(filter.typed_config(), context, std::string(kPath));
  }

  std::string error(absl::string_view yaml) {
    auto cb = factory(yaml);
    EXPECT_FALSE(cb.ok());
    return cb.ok() ? "" : std::string(cb.status().message());
  }

  // Runs a request with `authority` through the configured filter, then NextFilter.
  void run(absl::string_view yaml, absl::string_view authority = "10.0.0.5:9080") {
    auto cb = factory(yaml);
    ASSERT_TRUE(cb.ok()) << cb.status();
    (*cb)(manager_);
    manager_.addStreamDecoderFilter(next_);
    auto headers = std::make_unique<http::RequestHeaderMap>();
    headers->addCopy(":method", "CONNECT");
    headers->addCopy(":authority", authority);
    manager_.decodeHeaders(std::move(headers), false);
  }

  std::string plain(absl::string_view key) {
    const FilterState::Object* object = info_.filter_state->getData(key);
    if (object == nullptr) {
      return "<absent>";
    }
    return object->serializeAsString().value_or("<no string>");
  }

  Owner owner_;
  stats::Store store_;
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> worker_cluster_managers_;
  formatter::test::FakeConnectionInfo ssl_;
  std::shared_ptr<FilterState> connection_state_;
  stream_info::StreamInfo info_;
  std::shared_ptr<NextFilter> next_ = std::make_shared<NextFilter>();
  http::FilterManager manager_{owner_, info_, 1024};
};

TEST_F(SetFilterStateFilterTest, RegisteredUnderItsTypeName) {
  EXPECT_NE(server::HttpFilterRegistry::get().find(
                "envoy.extensions.filters.http.set_filter_state.v3.Config"),
            nullptr);
}

TEST_F(SetFilterStateFilterTest, IstioConnectAuthority) {
  run(kConnectAuthority);
  EXPECT_TRUE(next_->seen);  // set before the next filter runs

  // The destination and source as address objects (the original_dst listener filter of the
  // next hop restores them), the rest as hashable strings (they partition upstream pools).
  const auto* local = info_.filter_state->getDataReadOnly<stream_info::AddressObject>(
      stream_info::kOriginalDstLocalIp);
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->address()->asString(), "10.0.0.5:9080");
  const auto* remote = info_.filter_state->getDataReadOnly<stream_info::AddressObject>(
      stream_info::kOriginalDstRemoteIp);
  ASSERT_NE(remote, nullptr);
  EXPECT_EQ(remote->address()->asString(), "10.1.2.3:45678");
  for (absl::string_view key :
       {"io.istio.connect_authority", "io.istio.peer_principal", "io.istio.local_principal"}) {
    const auto* object = info_.filter_state->getDataReadOnly<stream_info::HashableString>(key);
    ASSERT_NE(object, nullptr) << key;
    EXPECT_TRUE(object->hash().has_value());
  }
  EXPECT_EQ(plain("io.istio.connect_authority"), "10.0.0.5:9080");
  EXPECT_EQ(plain("io.istio.peer_principal"), "spiffe://cluster.local/ns/default/sa/sleep");
  EXPECT_EQ(plain("io.istio.local_principal"), "spiffe://cluster.local/ns/default/sa/waypoint");
  // On the request, not on the connection: the next CONNECT stream sets its own.
  EXPECT_TRUE(connection_state_->entries().empty());

  // All five travel to the next (internal) connection once: there they are no longer shared.
  const auto shared = info_.filter_state->objectsSharedWithUpstreamConnection();
  EXPECT_EQ(shared.size(), 5u);
  FilterState next_hop;
  next_hop.addSharedFromDownstream(shared);
  EXPECT_EQ(next_hop.entries().size(), 5u);
  EXPECT_TRUE(next_hop.objectsSharedWithUpstreamConnection().empty());
  const auto* restored =
      next_hop.getDataReadOnly<stream_info::AddressObject>(stream_info::kOriginalDstLocalIp);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->address()->asString(), "10.0.0.5:9080");
}

TEST_F(SetFilterStateFilterTest, IstioConnectAuthorityBefore1292UsesPlainStrings) {
  run(kConnectAuthorityBefore1292, "[fd00::5]:8080");
  const auto* local = info_.filter_state->getDataReadOnly<stream_info::AddressObject>(
      stream_info::kOriginalDstLocalIp);
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->address()->asString(), "[fd00::5]:8080");
  const auto* peer =
      info_.filter_state->getDataReadOnly<stream_info::StringAccessor>("io.istio.peer_principal");
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->value(), "spiffe://cluster.local/ns/default/sa/sleep");
  EXPECT_FALSE(peer->hash().has_value());  // envoy.string: not hashable
  EXPECT_EQ(info_.filter_state->objectsSharedWithUpstreamConnection().size(), 4u);
}

TEST_F(SetFilterStateFilterTest, AHostnameAuthorityIsNotAnAddressAndIsSkipped) {
  // Double-HBONE: the inner CONNECT names a service, not an IP. The address object refuses it
  // (logged at debug, as Envoy does); the other values are still set.
  run(kConnectAuthority, "reviews.default.svc.cluster.local:9080");
  EXPECT_EQ(plain(stream_info::kOriginalDstLocalIp), "<absent>");
  EXPECT_EQ(plain("io.istio.connect_authority"), "reviews.default.svc.cluster.local:9080");
  EXPECT_EQ(plain(stream_info::kOriginalDstRemoteIp), "10.1.2.3:45678");
  EXPECT_TRUE(next_->seen);
}

TEST_F(SetFilterStateFilterTest, WithoutTlsThePrincipalsAreDash) {
  // Envoy renders a missing value as "-", and a string object takes it as is.
  info_.downstream_ssl = nullptr;
  run(kConnectAuthority);
  EXPECT_EQ(plain("io.istio.peer_principal"), "-");
  EXPECT_EQ(plain("io.istio.local_principal"), "-");
}

TEST_F(SetFilterStateFilterTest, SkipIfEmpty) {
  info_.downstream_ssl = nullptr;
  run(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: omitted
    factory_key: envoy.string
    skip_if_empty: true
    format_string: {text_format: "%DOWNSTREAM_PEER_URI_SAN%", omit_empty_values: true}
  - object_key: dash
    factory_key: envoy.string
    skip_if_empty: true
    format_string: {text_format: "%DOWNSTREAM_PEER_URI_SAN%"}
  - object_key: kept_empty
    factory_key: envoy.string
    format_string: {text_format: "%REQ(x-none)%", omit_empty_values: true}
  - object_key: fallback
    factory_key: envoy.string
    skip_if_empty: true
    format_string: {text_format: "%REQ(x-none)%", omit_empty_values: true}
  - object_key: fallback
    factory_key: envoy.string
    skip_if_empty: true
    format_string: {text_format: "%REQ(:authority)%", omit_empty_values: true}
)EOF");
  EXPECT_EQ(plain("omitted"), "<absent>");
  // Without omit_empty_values a missing value is "-", which is not empty.
  EXPECT_EQ(plain("dash"), "-");
  EXPECT_EQ(plain("kept_empty"), "");
  // skip_if_empty lets a later entry supply an alternative for the same key.
  EXPECT_EQ(plain("fallback"), "10.0.0.5:9080");
}

TEST_F(SetFilterStateFilterTest, ReadOnlyKeysAreNotReplaced) {
  // Set read-only on the connection (e.g. by a network filter): the request cannot replace it.
  ASSERT_TRUE(connection_state_
                  ->setData("io.istio.connect_authority",
                            std::make_shared<const stream_info::StringAccessor>("from-connection"),
                            FilterState::StateType::ReadOnly)
                  .ok());
  run(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: io.istio.connect_authority
    factory_key: istio.hashable_string
    format_string: {text_format: "%REQ(:AUTHORITY)%"}
  - object_key: locked
    factory_key: envoy.string
    read_only: true
    format_string: {text_format: "first"}
  - object_key: locked
    factory_key: envoy.string
    format_string: {text_format: "second"}
  - object_key: mutable
    factory_key: envoy.string
    format_string: {text_format: "first"}
  - object_key: mutable
    factory_key: envoy.string
    format_string: {text_format: "second"}
)EOF");
  EXPECT_EQ(plain("io.istio.connect_authority"), "from-connection");
  EXPECT_EQ(plain("locked"), "first");
  EXPECT_EQ(plain("mutable"), "second");
}

TEST_F(SetFilterStateFilterTest, LaterValuesSeeEarlierOnes) {
  run(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: first
    factory_key: envoy.string
    format_string: {text_format_source: {inline_string: "%REQ(:METHOD)%"}}
  - object_key: second
    factory_key: envoy.string
    shared_with_upstream: TRANSITIVE
    format_string: {text_format_source: {inline_string: "%FILTER_STATE(first:PLAIN)% to %REQ(:AUTHORITY)%"}}
)EOF");
  EXPECT_EQ(plain("second"), "CONNECT to 10.0.0.5:9080");
  // TRANSITIVE stays shared on the next hop too.
  FilterState next_hop;
  next_hop.addSharedFromDownstream(info_.filter_state->objectsSharedWithUpstreamConnection());
  EXPECT_EQ(next_hop.objectsSharedWithUpstreamConnection().size(), 1u);
}

TEST_F(SetFilterStateFilterTest, ConfigErrorsNameTheField) {
  const std::string path(kPath);
  EXPECT_EQ(error(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: envoy.string
    format_string: {text_format: "ok"}
  - object_key: my.key
    format_string: {text_format: "x"}
)EOF"),
            path +
                ".on_request_headers[1].object_key: \"my.key\" does not have an object "
                "factory; set factory_key (e.g. envoy.string)");
  EXPECT_EQ(error(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: my.key
    factory_key: no.such.factory
    format_string: {text_format: "x"}
)EOF"),
            path +
                ".on_request_headers[0].factory_key: unknown filter state object factory "
                "\"no.such.factory\"");
  EXPECT_EQ(error(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: my.key
    factory_key: envoy.string
    format_string: {json_format: {a: "%REQ(:AUTHORITY)%"}}
)EOF"),
            path +
                ".on_request_headers[0].format_string.json_format: not supported here, the "
                "value must be text (use text_format_source.inline_string)");
  EXPECT_EQ(error(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: my.key
    factory_key: envoy.string
    format_string: {text_format_source: {inline_string: "%REQ(:AUTHORITY)% %NOPE%"}}
)EOF"),
            path +
                ".on_request_headers[0].format_string.text_format_source.inline_string: "
                "unknown command \"%NOPE%\" at position 18 of \"%REQ(:AUTHORITY)% %NOPE%\"");
  // PGV rules of the proto, checked by the registry: a value needs a key and a format string.
  EXPECT_NE(error(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - factory_key: envoy.string
    format_string: {text_format: "x"}
)EOF")
                .find(path + ": "),
            std::string::npos);
  EXPECT_NE(error(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
  on_request_headers:
  - object_key: my.key
    factory_key: envoy.string
)EOF")
                .find(path + ": "),
            std::string::npos);
}

}  // namespace
}  // namespace waystone::extensions::http_filters::set_filter_state
