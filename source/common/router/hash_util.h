#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace waystone::router {

// Stable hashes for consistent-hash load balancing. The values must not change between
// processes, builds or machines (every proxy replica must send a key to the same host), so this
// is xxHash64 written out here rather than std::hash or absl::Hash (both seeded per process).
class HashUtil {
 public:
  // XXH64 of `input` with `seed` (the reference algorithm; byte order independent).
  static uint64_t xxHash64(absl::string_view input, uint64_t seed = 0);

  // Several values hashed in order, each hash seeding the next (as Envoy hashes multi-valued
  // headers).
  static uint64_t xxHash64(absl::Span<const absl::string_view> input, uint64_t seed = 0);
};

}  // namespace waystone::router
