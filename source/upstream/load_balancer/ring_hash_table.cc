#include "source/upstream/load_balancer/ring_hash_table.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

#include "source/common/common/hash.h"
#include "source/upstream/load_balancer/host_hash_key.h"

namespace waystone::upstream::lb {

RingHashTable::RingHashTable(const NormalizedHostWeights& weights, double min_weight,
                             const RingHashSettings& settings, bool use_hostname_for_hashing) {
  if (weights.empty()) {
    return;
  }
  // Scale so that the least-weighted host gets a whole number of entries, then cap the ring.
  const double scale = std::min(std::ceil(min_weight * settings.minimum_ring_size) / min_weight,
                                static_cast<double>(settings.maximum_ring_size));
  ring_.reserve(static_cast<size_t>(std::ceil(scale)));
  // Running sums rather than per-host rounding, as Envoy: a host with a fractional share of
  // entries gets its fraction carried to the next one.
  double current_hashes = 0.0;
  double target_hashes = 0.0;
  std::string key;
  for (const auto& [host, weight] : weights) {
    const absl::string_view base = hostHashKey(*host, use_hostname_for_hashing);
    target_hashes += scale * weight;
    uint64_t i = 0;
    while (current_hashes < target_hashes) {
      key.assign(base.data(), base.size());
      absl::StrAppend(&key, "_", i);
      const uint64_t hash = settings.hash_function == RingHashFunction::kMurmurHash2
                                ? murmurHash2(key)
                                : xxHash64(key);
      ring_.push_back(Entry{hash, host});
      ++i;
      ++current_hashes;
    }
  }
  // stable_sort: equal hashes (practically never) keep build order, so every build agrees.
  std::stable_sort(ring_.begin(), ring_.end(),
                   [](const Entry& a, const Entry& b) { return a.hash < b.hash; });
}

HostConstSharedPtr RingHashTable::chooseHost(uint64_t hash, uint32_t attempt) const {
  if (ring_.empty()) {
    return nullptr;
  }
  // The first entry whose hash is >= `hash`, wrapping past the end (Envoy's ketama search).
  auto it = std::lower_bound(ring_.begin(), ring_.end(), hash,
                             [](const Entry& e, uint64_t h) { return e.hash < h; });
  size_t index = it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
  // A retry walks on along the ring, as if the rejected entries were not there.
  if (attempt > 0) {
    index = (index + attempt) % ring_.size();
  }
  return ring_[index].host;
}

}  // namespace waystone::upstream::lb
