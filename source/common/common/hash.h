#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace waystone {

// Hashes that must give the same value in every process and on every run (ring and Maglev
// tables are built from them, and so must agree with Envoy's for the same host keys), which
// absl::Hash and std::hash do not promise. Words are read in the machine's byte order, which
// matches the reference implementations on little-endian machines (x86-64, arm64: the only ones
// Waystone builds for).

// xxHash64 (XXH64) as specified by its author; Envoy's HashUtil::xxHash64.
uint64_t xxHash64(absl::string_view input, uint64_t seed = 0);

// The seed libstdc++ uses for std::hash<std::string>.
constexpr uint64_t kStdHashSeed = 0xc70f6907ULL;

// MurmurHash2 64-bit as libstdc++'s _Hash_bytes computes it; Envoy's MurmurHash::murmurHash2
// (RING_HASH's MURMUR_HASH_2).
uint64_t murmurHash2(absl::string_view input, uint64_t seed = kStdHashSeed);

}  // namespace waystone
