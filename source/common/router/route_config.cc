#include "source/common/router/route_config.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "source/common/protobuf/utility.h"
#include "source/common/router/config_utility.h"

namespace waystone::router {
namespace {

// Where the ":port" of a host starts, or npos. Bracketed IPv6 literals keep their colons; a
// bare IPv6 literal (several colons, no brackets) has no port; the port must be digits.
size_t portStart(absl::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::string_view::npos;
  }
  const size_t bracket = host.rfind(']');
  if (bracket != absl::string_view::npos && bracket > colon) {
    return absl::string_view::npos;
  }
  if (host[0] != '[' && host.find(':') != colon) {
    return absl::string_view::npos;
  }
  for (size_t i = colon + 1; i < host.size(); ++i) {
    if (!absl::ascii_isdigit(host[i])) {
      return absl::string_view::npos;
    }
  }
  return colon;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ConfigImpl>> ConfigImpl::create(
    const envoy::config::route::v3::RouteConfiguration& config, const ConfigOptions& options) {
  absl::Status status = protobuf::validate(config, options.load_options);
  if (!status.ok()) {
    return status;
  }
  if (config.has_vhds()) {
    return ConfigUtility::error("vhds", "on-demand virtual hosts (VHDS) are not supported");
  }
  if (!config.cluster_specifier_plugins().empty()) {
    return ConfigUtility::error("cluster_specifier_plugins",
                                "cluster specifier plugins are not supported");
  }

  auto common = CommonConfigImpl::create(config, options);
  if (!common.ok()) {
    return common.status();
  }
  std::shared_ptr<ConfigImpl> table(new ConfigImpl());
  table->common_ = std::move(*common);

  absl::flat_hash_set<std::string> names;
  absl::flat_hash_map<std::string, std::string> domain_owners;
  bool any_domain_has_port = false;
  for (int i = 0; i < config.virtual_hosts().size(); ++i) {
    const auto& vhost_config = config.virtual_hosts(i);
    const std::string path = ConfigUtility::element("", "virtual_hosts", i);
    if (!names.insert(vhost_config.name()).second) {
      return ConfigUtility::error(
          ConfigUtility::field(path, "name"),
          absl::StrCat("duplicate virtual host name '", vhost_config.name(), "'"));
    }
    auto vhost = VirtualHostImpl::create(vhost_config, table->common_, path);
    if (!vhost.ok()) {
      return vhost.status();
    }
    status = table->addDomains(vhost_config, vhost->get(), path, domain_owners);
    if (!status.ok()) {
      return status;
    }
    for (const std::string& domain : vhost_config.domains()) {
      any_domain_has_port |= domain != "*" && portStart(domain) != absl::string_view::npos;
    }
    table->virtual_hosts_.push_back(std::move(*vhost));
  }
  table->strip_port_ = config.ignore_port_in_host_matching() || !any_domain_has_port;
  for (const std::string& header : config.internal_only_headers()) {
    table->internal_only_headers_.push_back(absl::AsciiStrToLower(header));
  }
  return std::shared_ptr<const ConfigImpl>(std::move(table));
}

absl::Status ConfigImpl::addDomains(const envoy::config::route::v3::VirtualHost& config,
                                    const VirtualHostImpl* vhost, absl::string_view path,
                                    absl::flat_hash_map<std::string, std::string>& owners) {
  for (int i = 0; i < config.domains().size(); ++i) {
    const std::string domain = absl::AsciiStrToLower(config.domains(i));
    const auto [owner, inserted] = owners.emplace(domain, config.name());
    if (!inserted) {
      return ConfigUtility::error(
          ConfigUtility::element(path, "domains", i),
          absl::StrCat("duplicate domain '", domain, "' (already in virtual host '", owner->second,
                       "'); domains must be unique across virtual hosts"));
    }
    if (domain == "*") {
      default_virtual_host_ = vhost;
    } else if (!domain.empty() && domain.front() == '*') {
      suffix_wildcards_[domain.size() - 1].emplace(domain.substr(1), vhost);
    } else if (!domain.empty() && domain.back() == '*') {
      prefix_wildcards_[domain.size() - 1].emplace(domain.substr(0, domain.size() - 1), vhost);
    } else {
      exact_domains_.emplace(domain, vhost);
    }
  }
  return absl::OkStatus();
}

const VirtualHostImpl* ConfigImpl::findWildcard(absl::string_view host,
                                                const WildcardMap& wildcards, bool suffix) {
  for (const auto& [length, domains] : wildcards) {
    // Strictly shorter: "*.foo.com" must not match ".foo.com".
    if (length >= host.size()) {
      continue;
    }
    const auto it =
        domains.find(suffix ? host.substr(host.size() - length) : host.substr(0, length));
    if (it != domains.end()) {
      return it->second;
    }
  }
  return nullptr;
}

const VirtualHostImpl* ConfigImpl::findVirtualHost(absl::string_view authority) const {
  if (exact_domains_.empty() && suffix_wildcards_.empty() && prefix_wildcards_.empty()) {
    return default_virtual_host_;
  }
  if (strip_port_) {
    authority = authority.substr(0, portStart(authority));
  }
  const std::string host = absl::AsciiStrToLower(authority);
  if (const auto it = exact_domains_.find(host); it != exact_domains_.end()) {
    return it->second;
  }
  if (const VirtualHostImpl* vhost = findWildcard(host, suffix_wildcards_, true);
      vhost != nullptr) {
    return vhost;
  }
  if (const VirtualHostImpl* vhost = findWildcard(host, prefix_wildcards_, false);
      vhost != nullptr) {
    return vhost;
  }
  return default_virtual_host_;
}

const VirtualHostImpl* ConfigImpl::findVirtualHost(const http::HeaderMap& headers) const {
  const http::HeaderEntry* authority = headers.get(":authority");
  if (authority == nullptr) {
    // Early local replies may have no authority; only a lone "*" host can serve them.
    const bool only_default =
        exact_domains_.empty() && suffix_wildcards_.empty() && prefix_wildcards_.empty();
    return only_default ? default_virtual_host_ : nullptr;
  }
  return findVirtualHost(authority->value);
}

RouteConstSharedPtr ConfigImpl::route(const http::HeaderMap& headers, uint64_t random_value) const {
  const VirtualHostImpl* vhost = findVirtualHost(headers);
  if (vhost == nullptr) {
    return nullptr;
  }
  return vhost->getRoute(headers, random_value);
}

}  // namespace waystone::router
