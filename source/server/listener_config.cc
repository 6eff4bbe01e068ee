#include "source/server/listener_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace waystone::server {

ListenerStats::ListenerStats(stats::Scope& scope)
    : downstream_cx_total(scope.counterFromString("downstream_cx_total")),
      downstream_cx_active(scope.gaugeFromString("downstream_cx_active")),
      downstream_cx_destroy(scope.counterFromString("downstream_cx_destroy")),
      downstream_cx_overflow(scope.counterFromString("downstream_cx_overflow")),
      no_filter_chain_match(scope.counterFromString("no_filter_chain_match")),
      downstream_listener_filter_error(scope.counterFromString("downstream_listener_filter_error")),
      downstream_pre_cx_timeout(scope.counterFromString("downstream_pre_cx_timeout")),
      downstream_pre_cx_active(scope.gaugeFromString("downstream_pre_cx_active")) {}

ListenerConfig::ListenerConfig(envoy::config::listener::v3::Listener proto,
                               network::address::InstanceConstSharedPtr address, Parts parts,
                               stats::ScopeSharedPtr scope)
    : proto_(std::move(proto)),
      address_(std::move(address)),
      listener_filters_(std::move(parts.listener_filters)),
      filter_chains_(std::move(parts.filter_chains)),
      selector_(std::move(parts.selector)),
      listener_filters_timeout_(
          proto_.has_listener_filters_timeout()
              ? std::chrono::milliseconds(proto_.listener_filters_timeout().seconds() * 1000 +
                                          proto_.listener_filters_timeout().nanos() / 1000000)
              : std::chrono::milliseconds(15000)),
      // Envoy's default per-connection buffer limit: 1 MiB.
      buffer_limit_(proto_.has_per_connection_buffer_limit_bytes()
                        ? proto_.per_connection_buffer_limit_bytes().value()
                        : 1024 * 1024),
      scope_(std::move(scope)),
      stats_(*scope_) {}

std::string ListenerConfig::statPrefixFor(const envoy::config::listener::v3::Listener& proto,
                                          const network::address::Instance& address) {
  if (!proto.stat_prefix().empty()) {
    return proto.stat_prefix();
  }
  // Envoy uses the address with ':' replaced, so the name stays one dotted segment.
  return absl::StrReplaceAll(address.asString(), {{":", "_"}});
}

}  // namespace waystone::server
