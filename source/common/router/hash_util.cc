#include "source/common/router/hash_util.h"

#include "source/common/common/hash.h"

namespace waystone::router {

// One xxHash64 implementation for the whole proxy (source/common/common/hash.cc): request
// hashes and the ring / Maglev tables must agree.
uint64_t HashUtil::xxHash64(absl::string_view input, uint64_t seed) {
  return ::waystone::xxHash64(input, seed);
}

uint64_t HashUtil::xxHash64(absl::Span<const absl::string_view> input, uint64_t seed) {
  uint64_t hash = seed;
  for (const absl::string_view value : input) {
    hash = xxHash64(value, hash);
  }
  return hash;
}

}  // namespace waystone::router
