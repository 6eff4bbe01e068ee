#include "source/common/common/hash.h"

#include <cstring>

namespace waystone {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

// memcpy: the input has no alignment guarantee.
uint64_t read64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint32_t read32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t xxRound(uint64_t acc, uint64_t input) {
  acc += input * kPrime2;
  acc = rotl(acc, 31);
  return acc * kPrime1;
}

uint64_t xxMergeRound(uint64_t acc, uint64_t val) {
  acc ^= xxRound(0, val);
  return acc * kPrime1 + kPrime4;
}

uint64_t shiftMix(uint64_t v) { return v ^ (v >> 47); }

}  // namespace

uint64_t xxHash64(absl::string_view input, uint64_t seed) {
  const char* p = input.data();
  const char* const end = p + input.size();
  uint64_t h;
  if (input.size() >= 32) {
    uint64_t v1 = seed + kPrime1 + kPrime2;
    uint64_t v2 = seed + kPrime2;
    uint64_t v3 = seed;
    uint64_t v4 = seed - kPrime1;
    const char* const limit = end - 32;
    do {
      v1 = xxRound(v1, read64(p));
      v2 = xxRound(v2, read64(p + 8));
      v3 = xxRound(v3, read64(p + 16));
      v4 = xxRound(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = xxMergeRound(h, v1);
    h = xxMergeRound(h, v2);
    h = xxMergeRound(h, v3);
    h = xxMergeRound(h, v4);
  } else {
    h = seed + kPrime5;
  }
  h += static_cast<uint64_t>(input.size());
  while (end - p >= 8) {
    h ^= xxRound(0, read64(p));
    h = rotl(h, 27) * kPrime1 + kPrime4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= static_cast<uint64_t>(read32(p)) * kPrime1;
    h = rotl(h, 23) * kPrime2 + kPrime3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(*p)) * kPrime5;
    h = rotl(h, 11) * kPrime1;
    ++p;
  }
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

uint64_t murmurHash2(absl::string_view input, uint64_t seed) {
  constexpr uint64_t kMul = (0xc6a4a793ULL << 32) + 0x5bd1e995ULL;
  const char* const buf = input.data();
  const size_t len = input.size();
  const size_t len_aligned = len & ~static_cast<size_t>(0x7);
  uint64_t hash = seed ^ (len * kMul);
  for (size_t i = 0; i < len_aligned; i += 8) {
    const uint64_t data = shiftMix(read64(buf + i) * kMul) * kMul;
    hash ^= data;
    hash *= kMul;
  }
  const size_t tail = len & 0x7;
  if (tail != 0) {
    // The trailing bytes, first byte least significant (libstdc++'s load_bytes).
    uint64_t data = 0;
    for (size_t i = tail; i > 0; --i) {
      data = (data << 8) + static_cast<unsigned char>(buf[len_aligned + i - 1]);
    }
    hash ^= data;
    hash *= kMul;
  }
  hash = shiftMix(hash) * kMul;
  return shiftMix(hash);
}

}  // namespace waystone
