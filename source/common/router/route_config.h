#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route.pb.h"

#include "source/common/router/common_config_impl.h"
#include "source/common/router/config.h"
#include "source/common/router/config_options.h"
#include "source/common/router/virtual_host_impl.h"

namespace waystone::router {

// The route table built from one envoy.config.route.v3.RouteConfiguration.
//
// Virtual host selection by :authority, case-insensitively, in Envoy's order: an exact domain;
// then the longest suffix wildcard ("*.example.com", "*-bar.example.com"); then the longest prefix
// wildcard ("foo.*", "foo-*"); then "*". A wildcard never matches an empty part. The port of the
// :authority is ignored when ignore_port_in_host_matching is set or when no domain of the table
// names a port; otherwise "host:port" is matched as written (so tables that list "a.com" and
// "a.com:80", as Istio's do, keep working).
//
// Building validates the whole configuration (protoc-gen-validate rules, then semantics) and
// fails on the first error, naming its field path:
//   virtual_hosts[1].routes[0].match.safe_regex.regex: invalid RE2: missing ): (a
class ConfigImpl : public Config {
 public:
  static absl::StatusOr<std::shared_ptr<const ConfigImpl>> create(
      const envoy::config::route::v3::RouteConfiguration& config,
      const ConfigOptions& options = {});

  // Config
  RouteConstSharedPtr route(const http::HeaderMap& headers, uint64_t random_value) const override;
  const std::string& name() const override { return common_->name(); }
  const std::vector<std::string>& internalOnlyHeaders() const override {
    return internal_only_headers_;
  }

  // The virtual host for a request / an :authority value, or nullptr.
  const VirtualHostImpl* findVirtualHost(const http::HeaderMap& headers) const;
  const VirtualHostImpl* findVirtualHost(absl::string_view authority) const;

 private:
  // Wildcard domains by the length of their fixed part, longest first.
  using WildcardMap =
      std::map<size_t, absl::flat_hash_map<std::string, const VirtualHostImpl*>, std::greater<>>;

  ConfigImpl() = default;
  // `owners` maps each domain seen so far to its virtual host's name (for duplicate errors).
  absl::Status addDomains(const envoy::config::route::v3::VirtualHost& config,
                          const VirtualHostImpl* vhost, absl::string_view path,
                          absl::flat_hash_map<std::string, std::string>& owners);
  static const VirtualHostImpl* findWildcard(absl::string_view host, const WildcardMap& wildcards,
                                             bool suffix);

  std::shared_ptr<const CommonConfigImpl> common_;
  std::vector<std::unique_ptr<const VirtualHostImpl>> virtual_hosts_;
  absl::flat_hash_map<std::string, const VirtualHostImpl*> exact_domains_;
  WildcardMap suffix_wildcards_;
  WildcardMap prefix_wildcards_;
  const VirtualHostImpl* default_virtual_host_ = nullptr;
  bool strip_port_ = true;
  std::vector<std::string> internal_only_headers_;
};

}  // namespace waystone::router
