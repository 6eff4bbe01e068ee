#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"

#include "source/common/network/address.h"

namespace waystone::upstream {

using DnsLookupFamily = envoy::config::cluster::v3::Cluster::DnsLookupFamily;

// What one name resolved to.
struct DnsResolution {
  enum class Status {
    // The resolver answered. `addresses` may be empty: a name that does not exist or has no
    // address of the family asked for (EAI_NONAME, EAI_NODATA) is an empty answer, not a failure,
    // as in Envoy's resolvers.
    kSuccess,
    // The resolver could not answer (EAI_AGAIN, EAI_FAIL, ...): callers keep what they had.
    kFailure,
  };

  Status status = Status::kFailure;
  // With the port asked for, without duplicates, in the resolver's order.
  std::vector<network::address::InstanceConstSharedPtr> addresses;
  // Why it failed or came back empty, for logs and errors (gai_strerror's text).
  std::string details;
};

// Resolves names to addresses, blocking. Implementations must be thread-safe: Waystone calls
// them on the main thread at start-up and on the DNS resolver thread (DnsResolverThread) for
// refreshes. Tests inject a fake; GetaddrinfoDnsResolver is the real one.
class DnsResolver {
 public:
  virtual ~DnsResolver() = default;

  virtual DnsResolution resolve(const std::string& name, uint16_t port, DnsLookupFamily family) = 0;
};

using DnsResolverSharedPtr = std::shared_ptr<DnsResolver>;

}  // namespace waystone::upstream
