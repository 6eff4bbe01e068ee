#pragma once

#include "source/upstream/dns_resolver.h"

namespace waystone::upstream {

// The system resolver: getaddrinfo(), so /etc/hosts, nsswitch and resolv.conf apply as for any
// other program. dns_lookup_family: V4_ONLY asks for IPv4, V6_ONLY for IPv6, anything else for
// both (in the order getaddrinfo gives them). getaddrinfo reports no TTL, so respect_dns_ttl
// cannot be honoured.
class GetaddrinfoDnsResolver : public DnsResolver {
 public:
  DnsResolution resolve(const std::string& name, uint16_t port, DnsLookupFamily family) override;

  // One shared instance (it has no state).
  static DnsResolverSharedPtr instance();
};

}  // namespace waystone::upstream
