#include "source/common/router/common_config_impl.h"

namespace waystone::router {

absl::StatusOr<std::shared_ptr<const CommonConfigImpl>> CommonConfigImpl::create(
    const envoy::config::route::v3::RouteConfiguration& config, const ConfigOptions& options) {
  std::shared_ptr<CommonConfigImpl> common(new CommonConfigImpl());
  common->name_ = config.name();
  common->options_ = options;
  auto request_headers =
      HeaderParser::create(config.request_headers_to_add(), config.request_headers_to_remove(), "",
                           "request_headers_to_add", "request_headers_to_remove");
  if (!request_headers.ok()) {
    return request_headers.status();
  }
  common->request_headers_ = std::move(*request_headers);
  auto response_headers =
      HeaderParser::create(config.response_headers_to_add(), config.response_headers_to_remove(),
                           "", "response_headers_to_add", "response_headers_to_remove");
  if (!response_headers.ok()) {
    return response_headers.status();
  }
  common->response_headers_ = std::move(*response_headers);
  common->most_specific_header_mutations_wins_ = config.most_specific_header_mutations_wins();
  auto per_filter_configs =
      PerFilterConfigs::create(config.typed_per_filter_config(), "typed_per_filter_config");
  if (!per_filter_configs.ok()) {
    return per_filter_configs.status();
  }
  common->per_filter_configs_ = std::move(*per_filter_configs);
  auto mirror_policies =
      RequestMirrorPolicy::createAll(config.request_mirror_policies(), "request_mirror_policies");
  if (!mirror_policies.ok()) {
    return mirror_policies.status();
  }
  common->mirror_policies_ = std::move(*mirror_policies);
  if (config.has_max_direct_response_body_size_bytes()) {
    common->max_direct_response_body_size_ = config.max_direct_response_body_size_bytes().value();
  }
  common->ignore_path_parameters_ = config.ignore_path_parameters_in_path_matching();
  return std::shared_ptr<const CommonConfigImpl>(std::move(common));
}

}  // namespace waystone::router
