#pragma once

#include <vector>

#include <nghttp2/nghttp2.h>

#include "source/common/http/header_map.h"

namespace waystone::http::http2 {

// A HeaderMap as the nghttp2_nv array that nghttp2_submit_* take. The entries point into the
// map, which must outlive this object (nghttp2 copies them during the submit call). Pseudo-headers
// come first because HeaderMap keeps them first. Connection-specific headers (RFC 9113 §8.2.2:
// connection, keep-alive, proxy-connection, transfer-encoding, upgrade, and te other than
// "trailers") are left out: a conforming peer would reset the stream for them.
class HeaderNvList {
 public:
  explicit HeaderNvList(const HeaderMap& headers);

  const nghttp2_nv* data() const { return nv_.data(); }
  size_t size() const { return nv_.size(); }

  static bool isConnectionSpecific(const HeaderEntry& entry);

 private:
  std::vector<nghttp2_nv> nv_;
};

}  // namespace waystone::http::http2
