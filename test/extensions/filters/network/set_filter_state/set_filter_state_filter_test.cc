// The network set_filter_state filter, built from config the way xDS delivers it (a
// typed_config through the network filter registry), on a real accepted loopback connection.

#include "source/extensions/filters/network/set_filter_state/set_filter_state_filter.h"

#include <memory>
#include <string>

#include "envoy/config/listener/v3/listener_components.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener_impl.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "source/server/filter_registry.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/common/network/network_test_util.h"

namespace waystone::extensions::network_filters::set_filter_state {
namespace {

using stream_info::FilterState;

constexpr absl::string_view kPath = "listeners[1].filter_chains[2].filters[0].typed_config";

// istiod's connect_authority network filter, first on main_internal's direct-tcp and
// direct-http chains (pilot/pkg/xds/filters ConnectAuthorityNetworkFilter; reference §3.2):
// re-exports the destination restored by the original_dst listener filter to the next hop.
constexpr absl::string_view kDirectConnectAuthority = R"EOF(
name: connect_authority
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config
  on_new_connection:
  - object_key: envoy.filters.listener.original_dst.local_ip
    format_string:
      text_format_source:
        inline_string: "%FILTER_STATE(envoy.filters.listener.original_dst.local_ip:PLAIN)%"
    shared_with_upstream: ONCE
)EOF";

// The inner double-HBONE listener's propagate_endpoint_metadata, as the reference describes it
// (§3.4; reconstructed, not captured): endpoint metadata passed through by internal_upstream
// becomes filter state shared transitively with both later hops.
constexpr absl::string_view kPropagateEndpointMetadata = R"EOF(
name: propagate_endpoint_metadata
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config
  on_new_connection:
  - object_key: envoy.filters.listener.original_dst.local_ip
    format_string:
      text_format_source:
        inline_string: "%DYNAMIC_METADATA(envoy.filters.listener.original_dst:local)%"
    shared_with_upstream: TRANSITIVE
  - object_key: istio.double_hbone.hbone_target_address
    factory_key: envoy.string
    format_string:
      text_format_source:
        inline_string: "%DYNAMIC_METADATA(istio:double_hbone:hbone_target_address)%"
    shared_with_upstream: TRANSITIVE
)EOF";

// Drives one filter as the listener's ActiveConnection would.
class Callbacks : public network::ReadFilterCallbacks {
 public:
  Callbacks(network::Connection& connection, event::Dispatcher& dispatcher)
      : connection_(connection), dispatcher_(dispatcher) {}
  network::Connection& connection() override { return connection_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  void continueReading() override {}

 private:
  network::Connection& connection_;
  event::Dispatcher& dispatcher_;
};

class SetFilterStateNetworkFilterTest : public testing::Test, public network::ListenerCallbacks {
 protected:
  void SetUp() override {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    auto manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    cluster_manager_ = std::move(*manager);
    auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, dispatcher_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    worker_cluster_managers_ = std::move(*workers);

    auto socket = network::ListenSocket::create(*network::address::parseIpAndPort("127.0.0.1:0"),
                                                network::ListenSocketOptions());
    ASSERT_TRUE(socket.ok()) << socket.status();
    socket_ = std::move(*socket);
    listener_ = std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this);
    client_ = network::createClientConnection(dispatcher_, socket_->localAddress(), nullptr);
    client_->addConnectionCallbacks(client_callbacks_);
    client_->connect();
    ASSERT_TRUE(network::test::runUntil(dispatcher_, [&] {
      return server_ != nullptr &&
             client_callbacks_.count(network::ConnectionEvent::Connected) == 1;
    }));
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->close(network::ConnectionCloseType::NoFlush);
    }
    client_->close(network::ConnectionCloseType::NoFlush);
  }

  // network::ListenerCallbacks
  void onAccept(network::ConnectionPtr&& connection) override { server_ = std::move(connection); }

  absl::StatusOr<network::FilterFactoryCb> factory(absl::string_view yaml) {
    envoy::config::listener::v3::Filter filter;
    absl::Status status = protobuf::loadFromYaml(yaml, filter);
    EXPECT_TRUE(status.ok()) << status;
    const server::NetworkFilterConfigFactory* factory =
        server::FilterRegistry::get().networkFilter(protobuf::typeUrlOf(filter.typed_config()));
    EXPECT_NE(factory, nullptr);
    if (factory == nullptr) {
      return absl::NotFoundError("no factory");
    }
    server::FactoryContext context{*cluster_manager_, store_, {}, *worker_cluster_managers_};
    return (*factory)(filter.typed_config(), context, std::string(kPath));
  }

  // Creates the filter for the accepted connection and runs onNewConnection.
  void run(absl::string_view yaml) {
    auto cb = factory(yaml);
    ASSERT_TRUE(cb.ok()) << cb.status();
    filter_ = (*cb)();
    callbacks_ = std::make_unique<Callbacks>(*server_, dispatcher_);
    filter_->initializeReadFilterCallbacks(*callbacks_);
    EXPECT_EQ(filter_->onNewConnection(), network::FilterStatus::Continue);
  }

  FilterState& state() { return *server_->streamInfo().filter_state; }

  std::string plain(absl::string_view key) {
    const FilterState::Object* object = state().getData(key);
    return object == nullptr ? "<absent>" : object->serializeAsString().value_or("<no string>");
  }

  event::DispatcherImpl dispatcher_{"test"};
  stats::Store store_;
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> worker_cluster_managers_;
  std::unique_ptr<network::ListenSocket> socket_;
  std::unique_ptr<network::ListenerImpl> listener_;
  network::test::RecordingCallbacks client_callbacks_;
  network::ClientConnectionPtr client_;
  network::ConnectionPtr server_;
  std::unique_ptr<Callbacks> callbacks_;
  network::ReadFilterPtr filter_;
};

TEST_F(SetFilterStateNetworkFilterTest, RegisteredUnderItsTypeName) {
  EXPECT_NE(server::FilterRegistry::get().networkFilter(
                "envoy.extensions.filters.network.set_filter_state.v3.Config"),
            nullptr);
}

TEST_F(SetFilterStateNetworkFilterTest, DirectConnectAuthorityReexportsTheDestination) {
  // What connect_terminate shared ONCE arrives on main_internal's connection, no longer shared.
  FilterState previous_hop;
  auto local =
      stream_info::createFilterStateObject(stream_info::kOriginalDstLocalIp, "10.244.1.7:8080");
  ASSERT_TRUE(local.ok());
  ASSERT_TRUE(previous_hop
                  .setData(stream_info::kOriginalDstLocalIp, *local,
                           FilterState::StateType::Mutable,
                           FilterState::StreamSharing::SharedWithUpstreamConnectionOnce)
                  .ok());
  state().addSharedFromDownstream(previous_hop.objectsSharedWithUpstreamConnection());
  ASSERT_TRUE(state().objectsSharedWithUpstreamConnection().empty());

  run(kDirectConnectAuthority);

  // Set again, shared ONCE: connect_originate (the next hop) receives it.
  const auto shared = state().objectsSharedWithUpstreamConnection();
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].name, stream_info::kOriginalDstLocalIp);
  const auto* address = dynamic_cast<const stream_info::AddressObject*>(shared[0].object.get());
  ASSERT_NE(address, nullptr);
  EXPECT_EQ(address->address()->asString(), "10.244.1.7:8080");
}

TEST_F(SetFilterStateNetworkFilterTest, NothingToReexportIsSkipped) {
  // No destination in filter state: the formatter gives "-", which is not an IP:port, so the
  // value is skipped (debug log), as Envoy does.
  run(kDirectConnectAuthority);
  EXPECT_EQ(plain(stream_info::kOriginalDstLocalIp), "<absent>");
  EXPECT_TRUE(state().objectsSharedWithUpstreamConnection().empty());
}

TEST_F(SetFilterStateNetworkFilterTest, DoubleHboneEndpointMetadata) {
  auto& metadata = *server_->streamInfo().dynamic_metadata.mutable_filter_metadata();
  (*metadata["envoy.filters.listener.original_dst"].mutable_fields())["local"].set_string_value(
      "10.96.0.10:9080");
  (*(*metadata["istio"].mutable_fields())["double_hbone"]
        .mutable_struct_value()
        ->mutable_fields())["hbone_target_address"]
      .set_string_value("reviews.default.svc.cluster.local:9080");

  run(kPropagateEndpointMetadata);

  EXPECT_EQ(plain(stream_info::kOriginalDstLocalIp), "10.96.0.10:9080");
  EXPECT_EQ(plain("istio.double_hbone.hbone_target_address"),
            "reviews.default.svc.cluster.local:9080");
  // TRANSITIVE: shared with the next hop, and from there with the one after.
  FilterState next_hop;
  next_hop.addSharedFromDownstream(state().objectsSharedWithUpstreamConnection());
  EXPECT_EQ(next_hop.objectsSharedWithUpstreamConnection().size(), 2u);
}

TEST_F(SetFilterStateNetworkFilterTest, ConnectionAddressesAndNoHeaders) {
  run(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config
  on_new_connection:
  - object_key: envoy.filters.listener.original_dst.remote_ip
    format_string: {text_format_source: {inline_string: "%DOWNSTREAM_REMOTE_ADDRESS%"}}
  - object_key: envoy.network.transport_socket.original_dst_address
    read_only: true
    format_string: {text_format_source: {inline_string: "%DOWNSTREAM_LOCAL_ADDRESS%"}}
  - object_key: headers
    factory_key: envoy.string
    format_string: {text_format_source: {inline_string: "[%REQ(:authority)%]"}}
  - object_key: envoy.network.transport_socket.original_dst_address
    format_string: {text_format_source: {inline_string: "10.0.0.1:1"}}
)EOF");
  // The accepted connection's real addresses.
  EXPECT_EQ(plain(stream_info::kOriginalDstRemoteIp), client_->localAddress()->asString());
  EXPECT_EQ(plain(stream_info::kTransportSocketOriginalDstAddress),
            socket_->localAddress()->asString());
  // No request on a connection: header operators are missing.
  EXPECT_EQ(plain("headers"), "[-]");
  // Read-only: the later value for the same key was skipped.
  EXPECT_NE(plain(stream_info::kTransportSocketOriginalDstAddress), "10.0.0.1:1");
}

TEST_F(SetFilterStateNetworkFilterTest, ConfigErrorsNameTheField) {
  auto cb = factory(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config
  on_new_connection:
  - object_key: envoy.tcp_proxy.cluster
    format_string: {json_format: {cluster: "%FILTER_STATE(x:PLAIN)%"}}
)EOF");
  ASSERT_FALSE(cb.ok());
  EXPECT_EQ(cb.status().message(),
            std::string(kPath) +
                ".on_new_connection[0].format_string.json_format: not supported "
                "here, the value must be text (use "
                "text_format_source.inline_string)");
  cb = factory(R"EOF(
name: sfs
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config
  on_new_connection:
  - object_key: custom.key
    format_string: {text_format_source: {inline_string: "x"}}
)EOF");
  ASSERT_FALSE(cb.ok());
  EXPECT_EQ(cb.status().message(),
            std::string(kPath) +
                ".on_new_connection[0].object_key: \"custom.key\" does not have "
                "an object factory; set factory_key (e.g. envoy.string)");
}

}  // namespace
}  // namespace waystone::extensions::network_filters::set_filter_state
