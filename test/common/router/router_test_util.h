#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "envoy/config/route/v3/route.pb.h"
#include "gtest/gtest.h"

#include "source/common/http/header_map.h"
#include "source/common/protobuf/utility.h"
#include "source/common/router/header_value_context.h"
#include "source/common/router/route_config.h"

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

// Fixed stream facts for header formatting.
class TestHeaderValueContext : public HeaderValueContext {
 public:
  absl::string_view downstreamRemoteAddress() const override { return remote_address; }
  absl::string_view downstreamRemoteAddressWithoutPort() const override { return remote_ip; }
  absl::string_view upstreamHost() const override { return upstream_host; }
  absl::string_view protocol() const override { return protocol_name; }
  absl::Time startTime() const override { return start_time; }

  std::string remote_address = "10.1.2.3:45678";
  std::string remote_ip = "10.1.2.3";
  std::string upstream_host;
  std::string protocol_name = "HTTP/1.1";
  absl::Time start_time = absl::FromUnixMillis(1700000000123);
};

}  // namespace waystone::router
