#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace waystone {

// Appends `text` escaped for use inside a JSON string (quotes, backslashes, control characters
// as \n, \r, \t or \u00XX). Bytes >= 0x80 pass through: the input is taken to be UTF-8.
void appendJsonEscaped(std::string& out, absl::string_view text);

// `text` as a quoted JSON string.
std::string jsonQuote(absl::string_view text);

}  // namespace waystone
