#pragma once

#include "absl/strings/string_view.h"

#include "source/upstream/host.h"

namespace waystone::upstream::lb {

// The key ring and Maglev tables hash for `host`: its hostname when asked to and it has one,
// else its address ("10.0.0.1:80", "[::1]:80"), as Envoy. (Envoy first looks at the endpoint's
// envoy.lb "hash_key" metadata, which Host does not carry yet.)
inline absl::string_view hostHashKey(const Host& host, bool use_hostname_for_hashing) {
  if (use_hostname_for_hashing && !host.hostname().empty()) {
    return host.hostname();
  }
  return host.address()->asString();
}

}  // namespace waystone::upstream::lb
