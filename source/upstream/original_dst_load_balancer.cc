#include "source/upstream/original_dst_load_balancer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "source/common/common/logger.h"
#include "source/common/http/header_map.h"

namespace waystone::upstream {

absl::StatusOr<OriginalDstConfig> OriginalDstConfig::fromCluster(
    const envoy::config::cluster::v3::Cluster& config) {
  OriginalDstConfig out;
  if (config.has_cleanup_interval()) {
    const int64_t ms =
        google::protobuf::util::TimeUtil::DurationToMilliseconds(config.cleanup_interval());
    if (ms <= 0) {
      return absl::InvalidArgumentError("cleanup_interval: must be at least 1ms");
    }
    out.cleanup_interval = std::chrono::milliseconds(ms);
  }
  if (!config.has_original_dst_lb_config()) {
    return out;
  }
  const auto& lb_config = config.original_dst_lb_config();
  if (lb_config.has_metadata_key()) {
    const auto& key = lb_config.metadata_key();
    if (key.key().empty()) {
      return absl::InvalidArgumentError("original_dst_lb_config.metadata_key.key: required");
    }
    out.metadata_namespace = key.key();
    for (int i = 0; i < key.path_size(); ++i) {
      if (key.path(i).key().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("original_dst_lb_config.metadata_key.path[", i, "].key: required"));
      }
      out.metadata_path.push_back(key.path(i).key());
    }
  }
  out.use_http_header = lb_config.use_http_header();
  if (!lb_config.http_header_name().empty()) {
    out.http_header_name = absl::AsciiStrToLower(lb_config.http_header_name());
  }
  if (lb_config.has_upstream_port_override()) {
    const uint32_t port = lb_config.upstream_port_override().value();
    if (port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("original_dst_lb_config.upstream_port_override: ", port, " is above 65535"));
    }
    out.port_override = static_cast<uint16_t>(port);
  }
  return out;
}

OriginalDstLoadBalancer::OriginalDstLoadBalancer(OriginalDstConfigConstSharedPtr config,
                                                 ClusterConstSharedPtr cluster,
                                                 event::Dispatcher& dispatcher,
                                                 HostsRemovedCb on_removed)
    : config_(std::move(config)),
      cluster_(std::move(cluster)),
      dispatcher_(dispatcher),
      on_removed_(std::move(on_removed)) {}

namespace {

// The string at `path` under `ns` in `metadata`; null when any step is missing.
const std::string* metadataString(const envoy::config::core::v3::Metadata& metadata,
                                  const std::string& ns, const std::vector<std::string>& path) {
  auto it = metadata.filter_metadata().find(ns);
  if (it == metadata.filter_metadata().end() || path.empty()) {
    return nullptr;
  }
  const google::protobuf::Struct* current = &it->second;
  for (size_t i = 0; i < path.size(); ++i) {
    auto field = current->fields().find(path[i]);
    if (field == current->fields().end()) {
      return nullptr;
    }
    if (i + 1 == path.size()) {
      return field->second.has_string_value() ? &field->second.string_value() : nullptr;
    }
    if (!field->second.has_struct_value()) {
      return nullptr;
    }
    current = &field->second.struct_value();
  }
  return nullptr;
}

}  // namespace

network::address::InstanceConstSharedPtr OriginalDstLoadBalancer::destination(
    lb::LoadBalancerContext& context) {
  if (!config_->metadata_namespace.empty()) {
    const std::string* value = nullptr;
    for (const stream_info::StreamInfo* info :
         {context.requestStreamInfo(), context.downstreamConnectionStreamInfo()}) {
      if (info != nullptr && value == nullptr) {
        value = metadataString(info->dynamic_metadata, config_->metadata_namespace,
                               config_->metadata_path);
      }
    }
    if (value != nullptr) {
      auto parsed = network::address::parseIpAndPort(*value);
      if (!parsed.ok()) {
        cluster_->stats().original_dst_host_invalid.inc();
        WAYSTONE_LOG(debug, upstream, "original_dst cluster %s: invalid metadata value '%s'",
                     cluster_->name(), absl::CHexEscape(*value));
        return nullptr;
      }
      return *parsed;
    }
  }
  if (config_->use_http_header) {
    const http::HeaderMap* headers = context.downstreamHeaders();
    const http::HeaderEntry* header =
        headers == nullptr ? nullptr : headers->get(config_->http_header_name);
    if (header != nullptr) {
      // Untrusted input: only the first value counts, and anything but an ip:port gives no
      // host rather than a fallback (Envoy's behaviour).
      auto parsed = network::address::parseIpAndPort(header->value);
      if (!parsed.ok()) {
        cluster_->stats().original_dst_host_invalid.inc();
        WAYSTONE_LOG(debug, upstream, "original_dst cluster %s: invalid %s value '%s'",
                     cluster_->name(), config_->http_header_name, absl::CHexEscape(header->value));
        return nullptr;
      }
      return *parsed;
    }
  }
  network::address::InstanceConstSharedPtr local = context.downstreamLocalAddress();
  if (local == nullptr || local->type() != network::address::Type::Ip) {
    return nullptr;
  }
  const stream_info::StreamInfo* connection = context.downstreamConnectionStreamInfo();
  if (connection != nullptr && !connection->downstream_local_address_restored) {
    WAYSTONE_LOG(debug, upstream,
                 "original_dst cluster %s: the downstream local address %s was not restored by "
                 "the original_dst listener filter; no host",
                 cluster_->name(), local->asString());
    return nullptr;
  }
  return local;
}

HostConstSharedPtr OriginalDstLoadBalancer::chooseHost(lb::LoadBalancerContext* context) {
  if (context == nullptr) {
    return nullptr;
  }
  network::address::InstanceConstSharedPtr address = destination(*context);
  if (address == nullptr) {
    return nullptr;
  }
  if (config_->port_override.has_value() && address->port() != *config_->port_override) {
    auto overridden = network::address::parseIp(address->ipString(), *config_->port_override);
    if (!overridden.ok()) {
      return nullptr;
    }
    address = *overridden;
  }
  auto it = hosts_.find(address->asString());
  if (it != hosts_.end()) {
    it->second.used = true;
    return it->second.host;
  }
  auto host = std::make_shared<const Host>(cluster_->name(), address, 1,
                                           envoy::config::core::v3::Locality(), "");
  hosts_.emplace(address->asString(), Entry{host, true});
  WAYSTONE_LOG(debug, upstream, "original_dst cluster %s: new host %s", cluster_->name(),
               address->asString());
  if (cleanup_timer_ == nullptr) {
    cleanup_timer_ = dispatcher_.createTimer([this] { onCleanup(); });
  }
  if (!cleanup_timer_->enabled()) {
    cleanup_timer_->enableTimer(config_->cleanup_interval);
  }
  return host;
}

HostVector OriginalDstLoadBalancer::hosts() const {
  HostVector out;
  out.reserve(hosts_.size());
  for (const auto& [key, entry] : hosts_) {
    out.push_back(entry.host);
  }
  return out;
}

void OriginalDstLoadBalancer::onCleanup() {
  HostVector removed;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (it->second.used) {
      it->second.used = false;
      ++it;
    } else {
      removed.push_back(std::move(it->second.host));
      hosts_.erase(it++);
    }
  }
  if (!removed.empty()) {
    WAYSTONE_LOG(debug, upstream, "original_dst cluster %s: removed %d unused hosts",
                 cluster_->name(), removed.size());
    if (on_removed_) {
      on_removed_(removed);
    }
  }
  if (!hosts_.empty()) {
    cleanup_timer_->enableTimer(config_->cleanup_interval);
  }
}

}  // namespace waystone::upstream
