#include "source/common/router/virtual_host_impl.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {

absl::StatusOr<std::unique_ptr<const VirtualHostImpl>> VirtualHostImpl::create(
    const envoy::config::route::v3::VirtualHost& config,
    std::shared_ptr<const CommonConfigImpl> global, absl::string_view path) {
  auto common = CommonVirtualHostImpl::create(config, std::move(global), path);
  if (!common.ok()) {
    return common.status();
  }
  std::unique_ptr<VirtualHostImpl> vhost(new VirtualHostImpl(std::move(*common)));
  vhost->routes_.reserve(config.routes().size());
  for (int i = 0; i < config.routes().size(); ++i) {
    auto route = RouteEntryImpl::create(config.routes(i), vhost->common_,
                                        ConfigUtility::element(path, "routes", i));
    if (!route.ok()) {
      return route.status();
    }
    vhost->routes_.push_back(std::move(*route));
  }
  return std::unique_ptr<const VirtualHostImpl>(std::move(vhost));
}

RouteConstSharedPtr VirtualHostImpl::getRoute(const http::HeaderMap& headers,
                                              uint64_t random_value) const {
  for (const auto& route : routes_) {
    if (route->matches(headers, random_value)) {
      return route->pickRoute(headers, random_value);
    }
  }
  return nullptr;
}

}  // namespace waystone::router
