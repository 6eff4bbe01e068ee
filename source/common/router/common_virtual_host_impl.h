#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/router/common_config_impl.h"
#include "source/common/router/header_parser.h"
#include "source/common/router/per_filter_configs.h"
#include "source/common/router/request_mirror_policy.h"
#include "source/common/router/retry_policy.h"
#include "source/common/router/route.h"

namespace waystone::router {

// The parts of a virtual host its routes refer to (everything but the route list, so that
// routes can hold it by shared_ptr without a reference cycle). Immutable.
class CommonVirtualHostImpl : public VirtualHost {
 public:
  // `path` names the VirtualHost message ("virtual_hosts[2]").
  static absl::StatusOr<std::shared_ptr<const CommonVirtualHostImpl>> create(
      const envoy::config::route::v3::VirtualHost& config,
      std::shared_ptr<const CommonConfigImpl> global, absl::string_view path);

  // VirtualHost
  const std::string& name() const override { return name_; }
  const google::protobuf::Any* perFilterConfig(absl::string_view filter_name) const override {
    return per_filter_configs_.get(filter_name);
  }
  bool includeAttemptCountInRequest() const override { return include_attempt_count_request_; }
  bool includeAttemptCountInResponse() const override { return include_attempt_count_response_; }

  const CommonConfigImpl& globalConfig() const { return *global_; }
  const HeaderParser& requestHeaderParser() const { return request_headers_; }
  const HeaderParser& responseHeaderParser() const { return response_headers_; }
  // The virtual host's retry_policy, nullptr when it has none.
  const RetryPolicy* retryPolicy() const {
    return retry_policy_.has_value() ? &*retry_policy_ : nullptr;
  }
  // This virtual host's mirror policies, or the route configuration's when it has none.
  const std::vector<RequestMirrorPolicy>& requestMirrorPolicies() const {
    return mirror_policies_.empty() ? global_->requestMirrorPolicies() : mirror_policies_;
  }

 private:
  CommonVirtualHostImpl() = default;

  std::string name_;
  std::shared_ptr<const CommonConfigImpl> global_;
  HeaderParser request_headers_;
  HeaderParser response_headers_;
  PerFilterConfigs per_filter_configs_;
  std::optional<RetryPolicy> retry_policy_;
  std::vector<RequestMirrorPolicy> mirror_policies_;
  bool include_attempt_count_request_ = false;
  bool include_attempt_count_response_ = false;
};

}  // namespace waystone::router
