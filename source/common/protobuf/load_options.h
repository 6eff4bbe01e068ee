#pragma once

#include <cstddef>

namespace waystone::protobuf {

// Defaults for the guards against hostile or broken documents: nesting depth (protobuf's own
// JSON parser allows 100, so deeper input could never load anyway) and total size (a bootstrap
// is kilobytes; YAML aliases can expand a small file into gigabytes).
constexpr int kDefaultMaxDepth = 100;
constexpr size_t kDefaultMaxBytes = 64 * 1024 * 1024;

// How a YAML or JSON document is turned into a proto message.
struct LoadOptions {
  // Envoy's --allow-unknown-static-fields: drop fields the schema does not know instead of
  // failing. Off by default, as a typo in a field name should never pass silently.
  bool allow_unknown_fields = false;
  int max_depth = kDefaultMaxDepth;
  // Limit on the input text and on the JSON produced from YAML (after alias expansion).
  size_t max_bytes = kDefaultMaxBytes;
};

}  // namespace waystone::protobuf
