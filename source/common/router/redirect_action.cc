#include "source/common/router/redirect_action.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {
namespace {

using RedirectProto = envoy::config::route::v3::RedirectAction;

uint32_t statusFor(RedirectProto::RedirectResponseCode code) {
  switch (code) {
    case RedirectProto::FOUND:
      return 302;
    case RedirectProto::SEE_OTHER:
      return 303;
    case RedirectProto::TEMPORARY_REDIRECT:
      return 307;
    case RedirectProto::PERMANENT_REDIRECT:
      return 308;
    default:
      return 301;
  }
}

// The request's host for the Location, without its port when the port is replaced or would be
// the wrong default after a scheme change (http://foo:80 -> https://foo).
std::string requestHost(const http::HeaderMap& headers, absl::string_view request_scheme,
                        absl::string_view new_scheme, absl::string_view new_port) {
  const absl::string_view host = headers.host();
  if (host.empty()) {
    return "";
  }
  size_t port_start;
  if (host[0] == '[') {
    port_start = host.rfind("]:");
    if (port_start != absl::string_view::npos) {
      ++port_start;
    }
  } else {
    port_start = host.rfind(':');
  }
  if (port_start != absl::string_view::npos) {
    const absl::string_view port = host.substr(port_start);
    bool remove_port = !new_port.empty();
    if (new_scheme != request_scheme) {
      remove_port |= request_scheme == "https" && port == ":443";
      remove_port |= request_scheme == "http" && port == ":80";
    }
    if (remove_port) {
      return std::string(host.substr(0, port_start));
    }
  }
  return std::string(host);
}

}  // namespace

absl::StatusOr<RedirectAction> RedirectAction::create(const RedirectProto& config,
                                                      uint32_t max_program_size,
                                                      absl::string_view path) {
  RedirectAction action;
  action.scheme_ = config.scheme_redirect();
  action.https_redirect_ = config.https_redirect();
  action.host_ = config.host_redirect();
  if (config.port_redirect() > 65535) {
    return ConfigUtility::error(ConfigUtility::field(path, "port_redirect"),
                                "must be a port number (1-65535)");
  }
  if (config.port_redirect() != 0) {
    action.port_ = absl::StrCat(":", config.port_redirect());
  }
  action.path_redirect_ = config.path_redirect();
  action.path_redirect_has_query_ = absl::StrContains(config.path_redirect(), '?');
  auto rewriter = PathRewriter::create(
      config.prefix_rewrite(), config.has_regex_rewrite() ? &config.regex_rewrite() : nullptr,
      max_program_size, path);
  if (!rewriter.ok()) {
    return rewriter.status();
  }
  action.path_rewriter_ = std::move(*rewriter);
  action.strip_query_ = config.strip_query();
  action.response_code_ = statusFor(config.response_code());
  return action;
}

std::string RedirectAction::newLocation(const http::HeaderMap& headers,
                                        size_t matched_length) const {
  absl::string_view request_scheme = headers.getValue("x-forwarded-proto");
  if (request_scheme.empty()) {
    request_scheme = headers.scheme();
  }
  absl::string_view scheme = request_scheme;
  if (!scheme_.empty()) {
    scheme = scheme_;
  } else if (https_redirect_) {
    scheme = "https";
  }

  const std::string host =
      !host_.empty() ? host_ : requestHost(headers, request_scheme, scheme, port_);

  std::string path;
  bool query_from_config = false;
  if (!path_redirect_.empty()) {
    path = path_redirect_;
    query_from_config = path_redirect_has_query_;
    if (!path_redirect_has_query_) {
      const absl::string_view request_path = headers.path();
      const size_t query = request_path.find('?');
      if (query != absl::string_view::npos) {
        path.append(request_path.data() + query, request_path.size() - query);
      }
    }
  } else if (path_rewriter_.active()) {
    path = path_rewriter_.rewrite(headers.path(), matched_length);
  } else {
    path = std::string(headers.path());
  }
  if (!absl::StartsWith(path, "/")) {
    path.insert(0, "/");
  }
  if (strip_query_ && !query_from_config) {
    const size_t query = path.find('?');
    if (query != std::string::npos) {
      path.resize(query);
    }
  }
  return absl::StrCat(scheme, "://", host, port_, path);
}

}  // namespace waystone::router
