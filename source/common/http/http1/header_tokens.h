#pragma once

#include <initializer_list>

#include "absl/strings/string_view.h"

#include "source/common/http/header_map.h"

namespace waystone::http::http1 {

// Comma-separated list headers (Connection, Upgrade), compared case-insensitively.

// True when any `name` header lists `token`.
bool headerHasToken(const HeaderMap& headers, absl::string_view name, absl::string_view token);

// Removes `tokens` from every `name` header; drops the header when nothing is left.
void removeHeaderTokens(HeaderMap& headers, absl::string_view name,
                        std::initializer_list<absl::string_view> tokens);

// Envoy's Utility::isUpgrade(): "connection" lists "upgrade" and an "upgrade" header is present.
bool isUpgradeRequest(const HeaderMap& headers);

}  // namespace waystone::http::http1
