#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

#include "source/common/http/header_map.h"
#include "source/common/router/compiled_regex.h"

namespace waystone::router {

// A route's hash_policy list (consistent-hash key for ring hash / Maglev), with Envoy's
// combination rule: each policy that yields a hash is folded in as rotl(previous, 1) ^ new, and a
// `terminal` policy that has produced a hash (its own or an earlier one) ends the walk.
// Hashes are xxHash64, stable across processes. Immutable.
class HashPolicy {
 public:
  // What a cookie policy asks the router to set when the request carries no such cookie and a
  // ttl is configured.
  struct CookieSpec {
    std::string name;
    std::string path;
    std::chrono::seconds ttl{0};
    std::vector<std::pair<std::string, std::string>> attributes;
  };
  // Sets the cookie on the response and returns its value (the router generates it, e.g. from
  // the upstream address); "" if none was set.
  using AddCookieCallback = std::function<std::string(const CookieSpec& cookie)>;

  // `path` names the repeated hash_policy field.
  static absl::StatusOr<HashPolicy> create(
      const google::protobuf::RepeatedPtrField<envoy::config::route::v3::RouteAction::HashPolicy>&
          configs,
      uint32_t max_program_size, absl::string_view path);

  // `downstream_ip` is the client IP without port ("" when unknown). `add_cookie` may be empty.
  // nullopt when no policy produced a hash.
  std::optional<uint64_t> generateHash(const http::HeaderMap& headers,
                                       absl::string_view downstream_ip,
                                       const AddCookieCallback& add_cookie = {}) const;

  size_t size() const { return methods_.size(); }

 private:
  enum class Kind { kHeader, kCookie, kSourceIp, kQueryParameter };
  struct Method {
    Kind kind;
    std::string name;  // header name (lower case), cookie name or query parameter name
    CompiledRegexConstSharedPtr regex;  // header regex_rewrite
    std::string substitution;
    std::optional<CookieSpec> cookie;  // set for cookies with a ttl
    bool terminal;
  };

  HashPolicy() = default;
  std::optional<uint64_t> evaluate(const Method& method, const http::HeaderMap& headers,
                                   absl::string_view downstream_ip,
                                   const AddCookieCallback& add_cookie) const;

  std::vector<Method> methods_;
};

}  // namespace waystone::router
