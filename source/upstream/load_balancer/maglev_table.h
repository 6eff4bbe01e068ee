#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/consistent_hash_table.h"

namespace waystone::upstream::lb {

// Envoy's weighted Maglev table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
// Load Balancer", listing 1): each host walks its own permutation of the `table_size` slots
// (offset xxHash64(key) % size, skip xxHash64(key, 1) % (size - 1) + 1) and claims the next free
// slot on its turns; a host of weight w takes a turn in w / max_weight of the rounds. Removing a
// host moves little more than its own slots. `table_size` must be prime.
class MaglevTable : public ConsistentHashTable {
 public:
  MaglevTable(const NormalizedHostWeights& weights, double max_weight, uint64_t table_size,
              bool use_hostname_for_hashing);

  HostConstSharedPtr chooseHost(uint64_t hash, uint32_t attempt) const override;

  size_t size() const { return table_.size(); }

 private:
  std::vector<HostConstSharedPtr> table_;
};

}  // namespace waystone::upstream::lb
