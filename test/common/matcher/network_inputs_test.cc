#include "source/common/matcher/network_inputs.h"

#include <memory>
#include <string>

#include "envoy/extensions/matching/common_inputs/network/v3/network_inputs.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/stream_info/filter_state_objects.h"
#include "test/common/matcher/test_connection_socket.h"

namespace waystone::matcher {
namespace {

namespace inputs = envoy::extensions::matching::common_inputs::network::v3;
using testing::HasSubstr;

class NetworkInputsTest : public testing::Test {
 protected:
  // The input for `config`, built through the factory map as the matcher builds it.
  DataInputPtr<network::ConnectionSocket> input(const google::protobuf::Message& config) {
    google::protobuf::Any any;
    any.PackFrom(config);
    auto it = factories_.find(config.GetDescriptor()->full_name());
    EXPECT_NE(it, factories_.end()) << config.GetDescriptor()->full_name();
    if (it == factories_.end()) {
      return nullptr;
    }
    auto created = it->second(any, "input.typed_config");
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? std::move(*created) : nullptr;
  }

  // The value `config`'s input reads from `socket`, or "<absent>".
  std::string read(const google::protobuf::Message& config,
                   const network::ConnectionSocket& socket) {
    DataInputPtr<network::ConnectionSocket> in = input(config);
    if (in == nullptr) {
      return "<no input>";
    }
    const InputValue value = in->get(socket);
    return value.present() ? std::string(value.value()) : "<absent>";
  }

  const MatchTreeFactory<network::ConnectionSocket>::DataInputFactoryMap factories_ =
      networkInputFactories();
};

TEST_F(NetworkInputsTest, EveryNetworkInputIsRegistered) { EXPECT_EQ(factories_.size(), 10u); }

TEST_F(NetworkInputsTest, Addresses) {
  TestConnectionSocket socket("10.0.0.1:15008", "10.0.0.9:40000");
  EXPECT_EQ(read(inputs::DestinationIPInput(), socket), "10.0.0.1");
  EXPECT_EQ(read(inputs::DestinationPortInput(), socket), "15008");
  EXPECT_EQ(read(inputs::SourceIPInput(), socket), "10.0.0.9");
  EXPECT_EQ(read(inputs::SourcePortInput(), socket), "40000");
  EXPECT_EQ(read(inputs::DirectSourceIPInput(), socket), "10.0.0.9");

  // original_dst restores the destination and, on internal connections, the client: the
  // direct source stays the peer that connected.
  socket.restoreLocal("[fd00::42]:8080");
  socket.setRemote("192.168.7.7:5555");
  EXPECT_EQ(read(inputs::DestinationIPInput(), socket), "fd00::42");
  EXPECT_EQ(read(inputs::DestinationPortInput(), socket), "8080");
  EXPECT_EQ(read(inputs::SourceIPInput(), socket), "192.168.7.7");
  EXPECT_EQ(read(inputs::SourcePortInput(), socket), "5555");
  EXPECT_EQ(read(inputs::DirectSourceIPInput(), socket), "10.0.0.9");
}

TEST_F(NetworkInputsTest, PipeAddressesHaveNoValue) {
  TestConnectionSocket socket("pipe:/tmp/listener.sock", "pipe:/tmp/client.sock");
  EXPECT_EQ(read(inputs::DestinationIPInput(), socket), "<absent>");
  EXPECT_EQ(read(inputs::DestinationPortInput(), socket), "<absent>");
  EXPECT_EQ(read(inputs::SourceIPInput(), socket), "<absent>");
  EXPECT_EQ(read(inputs::SourcePortInput(), socket), "<absent>");
  EXPECT_EQ(read(inputs::DirectSourceIPInput(), socket), "<absent>");
  // A pipe peer is local.
  EXPECT_EQ(read(inputs::SourceTypeInput(), socket), "local");
}

TEST_F(NetworkInputsTest, SourceType) {
  EXPECT_EQ(read(inputs::SourceTypeInput(), TestConnectionSocket("10.0.0.1:80", "127.0.0.1:1")),
            "local");
  EXPECT_EQ(read(inputs::SourceTypeInput(), TestConnectionSocket("10.0.0.1:80", "127.9.9.9:1")),
            "local");
  EXPECT_EQ(read(inputs::SourceTypeInput(), TestConnectionSocket("[::1]:80", "[::1]:1")), "local");
  // Same IP as the local address, other port.
  EXPECT_EQ(read(inputs::SourceTypeInput(), TestConnectionSocket("10.0.0.1:80", "10.0.0.1:2")),
            "local");
  EXPECT_EQ(read(inputs::SourceTypeInput(), TestConnectionSocket("10.0.0.1:80", "10.0.0.2:2")),
            "<absent>");
  EXPECT_EQ(read(inputs::SourceTypeInput(), TestConnectionSocket("[fd00::1]:80", "[fd00::2]:2")),
            "<absent>");
  EXPECT_TRUE(isSameIpOrLoopback(TestConnectionSocket("[fd00::1]:80", "[fd00::1]:2")));
  EXPECT_FALSE(isSameIpOrLoopback(TestConnectionSocket("[fd00::1]:80", "[::2]:2")));
}

TEST_F(NetworkInputsTest, InspectorResults) {
  TestConnectionSocket socket("10.0.0.1:443", "10.0.0.2:1234");
  EXPECT_EQ(read(inputs::ServerNameInput(), socket), "<absent>");
  EXPECT_EQ(read(inputs::TransportProtocolInput(), socket), "raw_buffer");
  EXPECT_EQ(read(inputs::ApplicationProtocolInput(), socket), "<absent>");

  socket.setRequestedServerName("api.example.com");
  socket.setDetectedTransportProtocol("tls");
  socket.setRequestedApplicationProtocols({"h2"});
  EXPECT_EQ(read(inputs::ServerNameInput(), socket), "api.example.com");
  EXPECT_EQ(read(inputs::TransportProtocolInput(), socket), "tls");
  // Envoy quotes each protocol: istiod's maps are keyed "'h2c'" and "'http/1.1'".
  EXPECT_EQ(read(inputs::ApplicationProtocolInput(), socket), "'h2'");
  socket.setRequestedApplicationProtocols({"h2", "http/1.1"});
  EXPECT_EQ(read(inputs::ApplicationProtocolInput(), socket), "'h2','http/1.1'");

  socket.setDetectedTransportProtocol("");
  EXPECT_EQ(read(inputs::TransportProtocolInput(), socket), "<absent>");
}

class OpaqueObject : public stream_info::FilterState::Object {};

TEST_F(NetworkInputsTest, FilterState) {
  TestConnectionSocket socket("10.0.0.1:80", "10.0.0.2:1");
  inputs::FilterStateInput config;
  config.set_key("io.istio.connect_authority");
  EXPECT_EQ(read(config, socket), "<absent>");

  ASSERT_TRUE(socket.streamInfo()
                  .filter_state
                  ->setData("io.istio.connect_authority",
                            std::make_shared<stream_info::HashableString>("reviews:9080"),
                            stream_info::FilterState::StateType::ReadOnly)
                  .ok());
  EXPECT_EQ(read(config, socket), "reviews:9080");

  // Objects without a text form have no value.
  ASSERT_TRUE(socket.streamInfo()
                  .filter_state
                  ->setData("opaque", std::make_shared<OpaqueObject>(),
                            stream_info::FilterState::StateType::ReadOnly)
                  .ok());
  config.set_key("opaque");
  EXPECT_EQ(read(config, socket), "<absent>");
}

TEST_F(NetworkInputsTest, FilterStateKeyIsRequired) {
  inputs::FilterStateInput config;
  google::protobuf::Any any;
  any.PackFrom(config);
  auto created = factories_.at(config.GetDescriptor()->full_name())(any, "x.typed_config");
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.status().message(), HasSubstr("x.typed_config.key: must not be empty"));
}

}  // namespace
}  // namespace waystone::matcher
