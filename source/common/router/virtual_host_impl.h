#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/router/common_config_impl.h"
#include "source/common/router/common_virtual_host_impl.h"
#include "source/common/router/route.h"
#include "source/common/router/route_entry_impl.h"

namespace waystone::router {

// A virtual host: its shared settings and its routes, tried in order. Immutable.
class VirtualHostImpl {
 public:
  // `path` names the VirtualHost message ("virtual_hosts[2]").
  static absl::StatusOr<std::unique_ptr<const VirtualHostImpl>> create(
      const envoy::config::route::v3::VirtualHost& config,
      std::shared_ptr<const CommonConfigImpl> global, absl::string_view path);

  // The first matching route (after weighted/cluster_header resolution), or nullptr.
  RouteConstSharedPtr getRoute(const http::HeaderMap& headers, uint64_t random_value) const;

  const CommonVirtualHostImpl& common() const { return *common_; }
  const std::string& name() const { return common_->name(); }
  const std::vector<std::shared_ptr<const RouteEntryImpl>>& routes() const { return routes_; }

 private:
  explicit VirtualHostImpl(std::shared_ptr<const CommonVirtualHostImpl> common)
      : common_(std::move(common)) {}

  const std::shared_ptr<const CommonVirtualHostImpl> common_;
  std::vector<std::shared_ptr<const RouteEntryImpl>> routes_;
};

}  // namespace waystone::router
