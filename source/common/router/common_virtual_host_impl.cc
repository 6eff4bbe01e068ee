#include "source/common/router/common_virtual_host_impl.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {

absl::StatusOr<std::shared_ptr<const CommonVirtualHostImpl>> CommonVirtualHostImpl::create(
    const envoy::config::route::v3::VirtualHost& config,
    std::shared_ptr<const CommonConfigImpl> global, absl::string_view path) {
  const ConfigOptions& options = global->options();
  std::shared_ptr<CommonVirtualHostImpl> vhost(new CommonVirtualHostImpl());
  vhost->name_ = config.name();

  // Features that would change who gets served what if silently ignored are refused.
  if (config.has_matcher()) {
    return ConfigUtility::error(ConfigUtility::field(path, "matcher"),
                                "the matcher API in virtual hosts is not supported");
  }
  if (config.require_tls() != envoy::config::route::v3::VirtualHost::NONE) {
    return ConfigUtility::error(ConfigUtility::field(path, "require_tls"),
                                "require_tls is not supported");
  }
  if (config.has_retry_policy_typed_config()) {
    return ConfigUtility::error(ConfigUtility::field(path, "retry_policy_typed_config"),
                                "retry policy extensions are not supported");
  }

  auto request_headers =
      HeaderParser::create(config.request_headers_to_add(), config.request_headers_to_remove(),
                           path, "request_headers_to_add", "request_headers_to_remove");
  if (!request_headers.ok()) {
    return request_headers.status();
  }
  vhost->request_headers_ = std::move(*request_headers);
  auto response_headers =
      HeaderParser::create(config.response_headers_to_add(), config.response_headers_to_remove(),
                           path, "response_headers_to_add", "response_headers_to_remove");
  if (!response_headers.ok()) {
    return response_headers.status();
  }
  vhost->response_headers_ = std::move(*response_headers);
  auto per_filter_configs = PerFilterConfigs::create(
      config.typed_per_filter_config(), ConfigUtility::field(path, "typed_per_filter_config"));
  if (!per_filter_configs.ok()) {
    return per_filter_configs.status();
  }
  vhost->per_filter_configs_ = std::move(*per_filter_configs);
  if (config.has_retry_policy()) {
    auto retry_policy = RetryPolicy::create(config.retry_policy(), options.max_regex_program_size,
                                            ConfigUtility::field(path, "retry_policy"));
    if (!retry_policy.ok()) {
      return retry_policy.status();
    }
    vhost->retry_policy_ = std::move(*retry_policy);
  }
  auto mirror_policies = RequestMirrorPolicy::createAll(
      config.request_mirror_policies(), ConfigUtility::field(path, "request_mirror_policies"));
  if (!mirror_policies.ok()) {
    return mirror_policies.status();
  }
  vhost->mirror_policies_ = std::move(*mirror_policies);
  vhost->include_attempt_count_request_ = config.include_request_attempt_count();
  vhost->include_attempt_count_response_ = config.include_attempt_count_in_response();
  vhost->global_ = std::move(global);
  return std::shared_ptr<const CommonVirtualHostImpl>(std::move(vhost));
}

}  // namespace waystone::router
