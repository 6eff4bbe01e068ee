#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"

#include "source/common/http/filter.h"
#include "source/common/stats/store.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::http_filters::router {

// Factory entry point used by the HTTP filter registry. `stat_prefix` is the connection
// manager's ("http.<prefix>.").
absl::StatusOr<http::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::http::router::v3::Router& proto,
    const upstream::WorkerClusterManagers& cluster_managers, stats::Store& store,
    const std::string& stat_prefix);

}  // namespace waystone::extensions::http_filters::router
