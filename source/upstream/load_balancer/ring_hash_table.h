#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/consistent_hash_table.h"
#include "source/upstream/load_balancer/lb_config.h"

namespace waystone::upstream::lb {

// Envoy's ketama-style hash ring, built the same way so that the same hosts give the same ring:
// the least-weighted host gets ceil(min_weight * minimum_ring_size) entries and the others
// proportionally more (capped by maximum_ring_size); entry i of a host hashes
// "<address or hostname>_<i>". A key maps to the first entry at or after its hash, wrapping.
class RingHashTable : public ConsistentHashTable {
 public:
  RingHashTable(const NormalizedHostWeights& weights, double min_weight,
                const RingHashSettings& settings, bool use_hostname_for_hashing);

  HostConstSharedPtr chooseHost(uint64_t hash, uint32_t attempt) const override;

  size_t size() const { return ring_.size(); }

 private:
  struct Entry {
    uint64_t hash;
    HostConstSharedPtr host;
  };
  std::vector<Entry> ring_;
};

}  // namespace waystone::upstream::lb
