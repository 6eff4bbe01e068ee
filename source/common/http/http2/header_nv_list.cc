#include "source/common/http/http2/header_nv_list.h"

#include "absl/strings/match.h"

namespace waystone::http::http2 {

HeaderNvList::HeaderNvList(const HeaderMap& headers) {
  nv_.reserve(headers.size());
  for (const HeaderEntry& entry : headers.entries()) {
    if (isConnectionSpecific(entry)) {
      continue;
    }
    // nghttp2 takes non-const pointers but only reads them (it copies on submit).
    nv_.push_back({const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(entry.key.data())),
                   const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(entry.value.data())),
                   entry.key.size(), entry.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
}

bool HeaderNvList::isConnectionSpecific(const HeaderEntry& entry) {
  const std::string& key = entry.key;
  if (key == "te") {
    return !absl::EqualsIgnoreCase(entry.value, "trailers");
  }
  return key == "connection" || key == "keep-alive" || key == "proxy-connection" ||
         key == "transfer-encoding" || key == "upgrade";
}

}  // namespace waystone::http::http2
