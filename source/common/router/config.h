#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/common/http/header_map.h"
#include "source/common/router/route.h"

namespace waystone::router {

// An immutable route table (one RouteConfiguration). Shared by every worker through
// std::shared_ptr<const Config>; route() is const and lock-free.
class Config {
 public:
  virtual ~Config() = default;

  // The route for a request, or nullptr when no virtual host or no route matches (404).
  // `random_value` drives runtime_fraction matching and weighted cluster selection; the caller
  // draws it once per request (so the two agree, as in Envoy).
  virtual RouteConstSharedPtr route(const http::HeaderMap& headers,
                                    uint64_t random_value) const = 0;

  virtual const std::string& name() const = 0;
  // internal_only_headers: removed from requests that are not internal.
  virtual const std::vector<std::string>& internalOnlyHeaders() const = 0;
};

using ConfigConstSharedPtr = std::shared_ptr<const Config>;

}  // namespace waystone::router
