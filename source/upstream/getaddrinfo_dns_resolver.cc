#include "source/upstream/getaddrinfo_dns_resolver.h"

#include <netdb.h>

#include <set>

namespace waystone::upstream {

DnsResolution GetaddrinfoDnsResolver::resolve(const std::string& name, uint16_t port,
                                              DnsLookupFamily family) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = family == envoy::config::cluster::v3::Cluster::V4_ONLY   ? AF_INET
                    : family == envoy::config::cluster::v3::Cluster::V6_ONLY ? AF_INET6
                                                                             : AF_UNSPEC;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &result);
  DnsResolution resolution;
  if (rc != 0) {
    resolution.details = gai_strerror(rc);
    // A name that does not exist, or has no address of the family, is an answer (an empty one);
    // anything else means the resolver could not answer. Envoy draws the same line.
    resolution.status = (rc == EAI_NONAME
#ifdef EAI_NODATA
                         || rc == EAI_NODATA
#endif
                         )
                            ? DnsResolution::Status::kSuccess
                            : DnsResolution::Status::kFailure;
    return resolution;
  }
  resolution.status = DnsResolution::Status::kSuccess;
  std::set<std::string> seen;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char host[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) !=
        0) {
      continue;
    }
    auto address = network::address::parseIp(host, port);
    if (address.ok() && seen.insert((*address)->asString()).second) {
      resolution.addresses.push_back(*address);
    }
  }
  freeaddrinfo(result);
  if (resolution.addresses.empty()) {
    resolution.details = "no usable address";
  }
  return resolution;
}

DnsResolverSharedPtr GetaddrinfoDnsResolver::instance() {
  static const DnsResolverSharedPtr* const resolver =
      new DnsResolverSharedPtr(std::make_shared<GetaddrinfoDnsResolver>());
  return *resolver;
}

}  // namespace waystone::upstream
