#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace waystone::http {

// The IANA-registered reason phrase for `status` ("Not Found"), or "Unknown" (as Envoy writes
// for codes it does not know).
absl::string_view reasonPhrase(uint64_t status);

}  // namespace waystone::http
