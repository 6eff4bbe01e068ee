#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace waystone::test {

// A deterministic pseudo-random byte stream for large bodies that are generated on the fly and
// checked on arrival without being stored. The byte at offset i is table[i % kPeriod]; the period
// is prime, so a lost, repeated or reordered block of any power-of-two size shows up as a
// mismatch at a known offset. Besides the position check, a 64-bit FNV-1a digest of everything
// seen is kept, so two ends can also compare a checksum.
class PatternBody {
 public:
  static constexpr size_t kPeriod = 65521;

  // Writes the `size` bytes at `offset` of the stream into `out`.
  static void fill(uint64_t offset, char* out, size_t size);
  // The `size` bytes at `offset`, as a string.
  static std::string slice(uint64_t offset, size_t size);
  // FNV-1a 64 digest of the first `size` bytes of the stream.
  static uint64_t digestOfPrefix(uint64_t size);

  // Feeds received bytes in order.
  void update(absl::string_view data);

  uint64_t bytes() const { return bytes_; }
  // True while every byte so far matched the stream.
  bool matches() const { return first_mismatch_ == kNoMismatch; }
  // Offset of the first wrong byte (valid when !matches()).
  uint64_t firstMismatch() const { return first_mismatch_; }
  uint64_t digest() const { return digest_; }

 private:
  static constexpr uint64_t kNoMismatch = ~uint64_t{0};
  static constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
  static constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

  static uint64_t extendDigest(uint64_t digest, absl::string_view data);

  uint64_t bytes_ = 0;
  uint64_t first_mismatch_ = kNoMismatch;
  uint64_t digest_ = kFnvOffset;
};

}  // namespace waystone::test
