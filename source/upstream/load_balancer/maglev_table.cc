#include "source/upstream/load_balancer/maglev_table.h"

#include <algorithm>

#include "source/common/common/hash.h"
#include "source/upstream/load_balancer/host_hash_key.h"

namespace waystone::upstream::lb {
namespace {

struct BuildEntry {
  HostConstSharedPtr host;
  uint64_t offset;
  uint64_t skip;
  double weight;
  double target_weight = 0;
  uint64_t next = 0;
};

}  // namespace

MaglevTable::MaglevTable(const NormalizedHostWeights& weights, double max_weight,
                         uint64_t table_size, bool use_hostname_for_hashing) {
  if (weights.empty() || table_size < 2) {
    return;
  }
  std::vector<BuildEntry> entries;
  entries.reserve(weights.size());
  for (const auto& [host, weight] : weights) {
    const absl::string_view key = hostHashKey(*host, use_hostname_for_hashing);
    entries.push_back(BuildEntry{host, xxHash64(key) % table_size,
                                 xxHash64(key, 1) % (table_size - 1) + 1, weight});
  }
  table_.resize(table_size);
  const auto permutation = [table_size](const BuildEntry& e) {
    return (e.offset + e.skip * e.next) % table_size;
  };
  uint64_t filled = 0;
  for (uint64_t round = 1; filled < table_size; ++round) {
    for (size_t i = 0; i < entries.size() && filled < table_size; ++i) {
      BuildEntry& entry = entries[i];
      // A host of weight max_weight takes every round; one of max_weight / 3 every third.
      if (round * entry.weight < entry.target_weight) {
        continue;
      }
      entry.target_weight += max_weight;
      uint64_t slot = permutation(entry);
      while (table_[slot] != nullptr) {
        ++entry.next;
        slot = permutation(entry);
      }
      table_[slot] = entry.host;
      ++entry.next;
      ++filled;
    }
  }
}

HostConstSharedPtr MaglevTable::chooseHost(uint64_t hash, uint32_t attempt) const {
  if (table_.empty()) {
    return nullptr;
  }
  if (attempt > 0) {
    // A retry flips many bits of the hash (Envoy's choice), to land far from the first slot.
    hash ^= ~0ULL - attempt + 1;
  }
  return table_[hash % table_.size()];
}

}  // namespace waystone::upstream::lb
