#include "source/extensions/filters/listener/original_dst/original_dst_filter.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/common/common/logger.h"
#include "source/common/network/tcp_connection_socket.h"
#include "source/common/stream_info/filter_state_objects.h"

namespace waystone::extensions::listener_filters::original_dst {
namespace {

constexpr char kMetadataNamespace[] = "envoy.filters.listener.original_dst";

// The pre-REDIRECT destination of a kernel socket; null when there is none (no NAT rule, or
// the socket was not redirected).
network::address::InstanceConstSharedPtr originalDestination(int fd,
                                                             network::address::IpVersion version) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  const int rc = version == network::address::IpVersion::V4
                     ? ::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len)
                     : ::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len);
  if (rc != 0) {
    return nullptr;
  }
  auto address = network::address::fromSockAddr(ss, len);
  return address.ok() ? *address : nullptr;
}

}  // namespace

network::ListenerFilterStatus OriginalDstFilter::onAccept(
    network::ListenerFilterCallbacks& callbacks) {
  network::ConnectionSocket& socket = callbacks.socket();
  if (!socket.isInternal()) {
    auto* tcp = dynamic_cast<network::TcpConnectionSocket*>(&socket);
    const auto& local = socket.localAddress();
    if (tcp != nullptr && local != nullptr && local->type() == network::address::Type::Ip) {
      auto original = originalDestination(tcp->fd(), local->version());
      if (original != nullptr && *original != *local) {
        WAYSTONE_LOG(debug, filter, "original_dst: set destination to %s", original->asString());
        socket.restoreLocalAddress(std::move(original));
      }
    }
    return network::ListenerFilterStatus::Continue;
  }

  const stream_info::FilterState& state = *socket.streamInfo().filter_state;
  if (const auto* local =
          state.getDataReadOnly<stream_info::AddressObject>(stream_info::kOriginalDstLocalIp)) {
    WAYSTONE_LOG(debug, filter, "original_dst: set destination from filter state to %s",
                 local->address()->asString());
    socket.restoreLocalAddress(local->address());
  } else {
    const auto& metadata = socket.streamInfo().dynamic_metadata.filter_metadata();
    auto it = metadata.find(kMetadataNamespace);
    if (it != metadata.end()) {
      auto field = it->second.fields().find("local");
      if (field != it->second.fields().end() && field->second.has_string_value()) {
        auto address = network::address::parseIpAndPort(field->second.string_value());
        if (address.ok()) {
          WAYSTONE_LOG(debug, filter, "original_dst: set destination from metadata to %s",
                       (*address)->asString());
          socket.restoreLocalAddress(*std::move(address));
        } else {
          WAYSTONE_LOG(debug, filter, "original_dst: ignoring metadata local \"%s\": %s",
                       field->second.string_value(), address.status().message());
        }
      }
    }
  }
  if (const auto* remote =
          state.getDataReadOnly<stream_info::AddressObject>(stream_info::kOriginalDstRemoteIp)) {
    WAYSTONE_LOG(debug, filter, "original_dst: set source from filter state to %s",
                 remote->address()->asString());
    socket.setRemoteAddress(remote->address());
  }
  return network::ListenerFilterStatus::Continue;
}

}  // namespace waystone::extensions::listener_filters::original_dst
