#pragma once

#include <cstdint>

namespace waystone::upstream::lb {

// A small deterministic random source (SplitMix64): each load balancer instance owns one, seeded
// by its factory caller, so picks are reproducible in tests and workers do not move in lockstep.
// Not for anything security related.
class RandomGenerator {
 public:
  explicit RandomGenerator(uint64_t seed) : state_(seed) {}

  uint64_t random() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace waystone::upstream::lb
