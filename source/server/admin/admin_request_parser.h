#pragma once

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace waystone::server::admin {

// Splits "/stats?usedonly&filter=%5Eserver" into the path and the decoded query parameters.
// Only %XX escapes are decoded ('+' stays '+', as in Envoy's admin: regexes use it).
void parseRequestTarget(absl::string_view target, std::string& path,
                        std::multimap<std::string, std::string>& query);

std::string percentDecode(absl::string_view text);

}  // namespace waystone::server::admin
