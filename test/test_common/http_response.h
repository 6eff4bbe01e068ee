#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace waystone::test {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// First value of header `name` (case-insensitive) in `headers`, or "" if absent.
inline std::string findHeader(const HttpHeaders& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) {
      return value;
    }
  }
  return "";
}

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // in wire order, names as received
  std::string body;     // de-chunked

  std::string header(absl::string_view name) const { return findHeader(headers, name); }
};

}  // namespace waystone::test
