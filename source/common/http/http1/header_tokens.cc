#include "source/common/http/http1/header_tokens.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace waystone::http::http1 {

bool headerHasToken(const HeaderMap& headers, absl::string_view name, absl::string_view token) {
  for (absl::string_view value : headers.getAll(name)) {
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), token)) {
        return true;
      }
    }
  }
  return false;
}

void removeHeaderTokens(HeaderMap& headers, absl::string_view name,
                        std::initializer_list<absl::string_view> tokens) {
  std::vector<std::string> kept;
  for (absl::string_view value : headers.getAll(name)) {
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      const absl::string_view token = absl::StripAsciiWhitespace(item);
      bool drop = token.empty();
      for (absl::string_view unwanted : tokens) {
        drop = drop || absl::EqualsIgnoreCase(token, unwanted);
      }
      if (!drop) {
        kept.emplace_back(token);
      }
    }
  }
  headers.remove(name);
  if (!kept.empty()) {
    headers.addCopy(name, absl::StrJoin(kept, ", "));
  }
}

bool isUpgradeRequest(const HeaderMap& headers) {
  return headers.has("upgrade") && headerHasToken(headers, "connection", "upgrade");
}

}  // namespace waystone::http::http1
