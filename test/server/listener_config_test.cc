#include "source/server/listener_config.h"

#include <memory>
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"
#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "source/common/stats/store.h"

namespace waystone::server {
namespace {

using envoy::config::listener::v3::Listener;

network::address::InstanceConstSharedPtr ip(absl::string_view address, uint16_t port) {
  auto parsed = network::address::parseIp(address, port);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : nullptr;
}

TEST(ListenerConfigTest, StatPrefixForIpv4) {
  Listener proto;
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("0.0.0.0", 10000)), "0.0.0.0_10000");
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("127.0.0.1", 80)), "127.0.0.1_80");
}

TEST(ListenerConfigTest, StatPrefixForIpv6) {
  Listener proto;
  // Envoy's spelling: every ':' of "[::]:80" becomes '_', brackets stay.
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("::", 80)), "[__]_80");
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("::1", 15008)), "[__1]_15008");
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("fd00:1::2", 443)), "[fd00_1__2]_443");
}

TEST(ListenerConfigTest, StatPrefixFieldWins) {
  Listener proto;
  proto.set_stat_prefix("ingress");
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("0.0.0.0", 10000)), "ingress");
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, *ip("::", 10000)), "ingress");
}

TEST(ListenerConfigTest, StatPrefixForPipe) {
  Listener proto;
  auto pipe = network::address::pipe("/tmp/waystone.sock");
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_EQ(ListenerConfig::statPrefixFor(proto, **pipe), "/tmp/waystone.sock");
}

TEST(ListenerConfigTest, AccessorsAndDefaultBufferLimit) {
  stats::Store store;
  Listener proto;
  proto.set_name("main");
  auto address = ip("127.0.0.1", 8080);
  ListenerConfig::Parts parts;
  parts.filter_chains.push_back(
      FilterChain{"chain", nullptr, {[]() -> network::ReadFilterPtr { return nullptr; }}});
  ListenerConfig config(proto, address, std::move(parts),
                        store.createScope("listener.127.0.0.1_8080."));
  EXPECT_EQ(config.name(), "main");
  EXPECT_EQ(config.address(), address);
  ASSERT_EQ(config.filterChains().size(), 1u);
  EXPECT_EQ(config.filterChains()[0].filter_factories.size(), 1u);
  EXPECT_FALSE(config.isInternal());
  // Envoy's default listener_filters_timeout.
  EXPECT_EQ(config.listenerFiltersTimeout(), std::chrono::milliseconds(15000));
  // Envoy's default per-connection buffer limit.
  EXPECT_EQ(config.perConnectionBufferLimitBytes(), 1024u * 1024u);
}

TEST(ListenerConfigTest, ExplicitBufferLimit) {
  stats::Store store;
  Listener proto;
  proto.mutable_per_connection_buffer_limit_bytes()->set_value(16384);
  ListenerConfig config(proto, ip("127.0.0.1", 0), {}, store.createScope("listener.x."));
  EXPECT_EQ(config.perConnectionBufferLimitBytes(), 16384u);
}

TEST(ListenerConfigTest, StatsLiveUnderTheScope) {
  stats::Store store;
  Listener proto;
  auto address = ip("0.0.0.0", 10000);
  ListenerConfig config(
      proto, address, {},
      store.createScope("listener." + ListenerConfig::statPrefixFor(proto, *address) + "."));
  config.stats().downstream_cx_total.inc();
  config.stats().downstream_cx_active.inc();
  config.stats().no_filter_chain_match.add(3);
  EXPECT_EQ(store.counterFromString("listener.0.0.0.0_10000.downstream_cx_total").value(), 1u);
  EXPECT_EQ(store.gaugeFromString("listener.0.0.0.0_10000.downstream_cx_active").value(), 1u);
  EXPECT_EQ(store.counterFromString("listener.0.0.0.0_10000.no_filter_chain_match").value(), 3u);
  EXPECT_EQ(store.counterFromString("listener.0.0.0.0_10000.downstream_cx_destroy").value(), 0u);
}

}  // namespace
}  // namespace waystone::server
