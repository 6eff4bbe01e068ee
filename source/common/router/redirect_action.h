#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/http/header_map.h"
#include "source/common/router/path_rewriter.h"

namespace waystone::router {

// A route's `redirect` action: the status code and how to compute the Location header from the
// request (Envoy's Http::Utility::newUri). Immutable.
class RedirectAction {
 public:
  // `path` names the RedirectAction message.
  static absl::StatusOr<RedirectAction> create(
      const envoy::config::route::v3::RedirectAction& config, uint32_t max_program_size,
      absl::string_view path);

  // 301 (default), 302, 303, 307 or 308.
  uint32_t responseCode() const { return response_code_; }

  // The Location for `request_headers`:
  //  scheme: scheme_redirect, "https" for https_redirect, else the request's (x-forwarded-proto,
  //          then :scheme);
  //  host:   host_redirect, else the request's :authority, whose port is dropped when
  //          port_redirect is set or when it is the default port of a scheme being changed;
  //  port:   ":<port_redirect>" when set;
  //  path:   path_redirect (keeping the request's query unless path_redirect has its own),
  //          else the request's :path with prefix_rewrite/regex_rewrite applied (`matched_length`
  //          is what the route's path matcher matched); strip_query drops the query unless it
  //          came from path_redirect.
  std::string newLocation(const http::HeaderMap& request_headers, size_t matched_length) const;

 private:
  RedirectAction() = default;

  std::string scheme_;
  bool https_redirect_ = false;
  std::string host_;
  std::string port_;  // ":8080" or ""
  std::string path_redirect_;
  bool path_redirect_has_query_ = false;
  PathRewriter path_rewriter_;
  bool strip_query_ = false;
  uint32_t response_code_ = 301;
};

}  // namespace waystone::router
