#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/route/v3/route.pb.h"

#include "source/common/router/config_options.h"
#include "source/common/router/header_parser.h"
#include "source/common/router/per_filter_configs.h"
#include "source/common/router/request_mirror_policy.h"

namespace waystone::router {

// The route-configuration-level settings every route refers to. Routes hold it through their
// virtual host by shared_ptr, so a route handed to a request stays valid after the table it came
// from is replaced. Immutable.
class CommonConfigImpl {
 public:
  static absl::StatusOr<std::shared_ptr<const CommonConfigImpl>> create(
      const envoy::config::route::v3::RouteConfiguration& config, const ConfigOptions& options);

  const std::string& name() const { return name_; }
  const ConfigOptions& options() const { return options_; }
  const HeaderParser& requestHeaderParser() const { return request_headers_; }
  const HeaderParser& responseHeaderParser() const { return response_headers_; }
  bool mostSpecificHeaderMutationsWins() const { return most_specific_header_mutations_wins_; }
  const PerFilterConfigs& perFilterConfigs() const { return per_filter_configs_; }
  const std::vector<RequestMirrorPolicy>& requestMirrorPolicies() const { return mirror_policies_; }
  uint32_t maxDirectResponseBodySizeBytes() const { return max_direct_response_body_size_; }
  bool ignorePathParametersInPathMatching() const { return ignore_path_parameters_; }

 private:
  CommonConfigImpl() = default;

  std::string name_;
  ConfigOptions options_;
  HeaderParser request_headers_;
  HeaderParser response_headers_;
  bool most_specific_header_mutations_wins_ = false;
  PerFilterConfigs per_filter_configs_;
  std::vector<RequestMirrorPolicy> mirror_policies_;
  uint32_t max_direct_response_body_size_ = kDefaultMaxDirectResponseBodySizeBytes;
  bool ignore_path_parameters_ = false;
};

}  // namespace waystone::router
