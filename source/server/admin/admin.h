#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace waystone::server::admin {

// One admin request, already parsed. Query values are percent-decoded; a parameter without a
// value ("?usedonly") maps to "".
struct AdminRequest {
  std::string method;
  std::string path;  // without the query string
  std::multimap<std::string, std::string> query;
  std::string body;

  bool has(absl::string_view param) const { return query.find(std::string(param)) != query.end(); }
  // The first value of `param`, or "" if absent.
  std::string get(absl::string_view param) const;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using AdminHandlerCb = std::function<void(const AdminRequest&, AdminResponse&)>;

// Registers admin endpoints. Handlers run on the main thread.
class AdminHandlerRegistry {
 public:
  virtual ~AdminHandlerRegistry() = default;
  // `prefix` is the exact path ("/stats"). `mutates_state` endpoints accept POST only, as in
  // Envoy, so a stray GET (a browser, a crawler) cannot drain or stop the server.
  virtual void addHandler(std::string prefix, std::string help, AdminHandlerCb cb,
                          bool mutates_state) = 0;
};

}  // namespace waystone::server::admin
