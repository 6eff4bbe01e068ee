#pragma once

#include <cstdint>

namespace waystone::server {

// The release version, reported by --version and /server_info.
inline constexpr char kVersion[] = "0.1.0";
// server.version stat: Envoy reports a number derived from the build; ours is the version as
// MMmmpp (0.1.0 -> 100).
inline constexpr uint64_t kVersionNumber = 100;

}  // namespace waystone::server
