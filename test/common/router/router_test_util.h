#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "envoy/config/route/v3/route.pb.h"
#include "gtest/gtest.h"

#include "source/common/http/header_map.h"
#include "source/common/network/address.h"
#include "source/common/protobuf/utility.h"
#include "source/common/router/route_config.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::router {

// A RouteConfiguration from YAML; fails the test on a syntax error.
inline envoy::config::route::v3::RouteConfiguration parseRouteConfig(absl::string_view yaml) {
  envoy::config::route::v3::RouteConfiguration config;
  const absl::Status status = protobuf::loadFromYaml(yaml, config);
  EXPECT_TRUE(status.ok()) << status;
  return config;
}

inline absl::StatusOr<std::shared_ptr<const ConfigImpl>> createConfig(
    absl::string_view yaml, const ConfigOptions& options = {}) {
  return ConfigImpl::create(parseRouteConfig(yaml), options);
}

// A table that must build; fails the test (and returns nullptr) otherwise.
inline std::shared_ptr<const ConfigImpl> mustCreateConfig(absl::string_view yaml,
                                                          const ConfigOptions& options = {}) {
  auto config = createConfig(yaml, options);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : nullptr;
}

// The error message of a table that must fail to build ("" and a test failure if it builds).
inline std::string configError(absl::string_view yaml, const ConfigOptions& options = {}) {
  auto config = createConfig(yaml, options);
  EXPECT_FALSE(config.ok()) << "config unexpectedly valid:\n" << yaml;
  return config.ok() ? "" : std::string(config.status().message());
}

inline http::HeaderMap request(absl::string_view authority, absl::string_view path,
                               absl::string_view method = "GET") {
  http::HeaderMap headers;
  headers.addCopy(":method", method);
  headers.addCopy(":scheme", "http");
  headers.addCopy(":authority", authority);
  headers.addCopy(":path", path);
  return headers;
}

// Fixed stream facts for header formatting: client 10.1.2.3:45678 over HTTP/1.1, started at
// 2023-11-14T22:13:20.123Z, no upstream host yet.
inline stream_info::StreamInfo testStreamInfo() {
  stream_info::StreamInfo info;
  auto remote = network::address::parseIpAndPort("10.1.2.3:45678");
  EXPECT_TRUE(remote.ok()) << remote.status();
  info.downstream_remote_address = remote.ok() ? *remote : nullptr;
  info.protocol = "HTTP/1.1";
  info.start_time = absl::ToChronoTime(absl::FromUnixMillis(1700000000123));
  return info;
}

}  // namespace waystone::router
