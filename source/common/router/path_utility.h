#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace waystone::router {

// :path helpers for route matching and for the HTTP connection manager's path normalisation
// (Envoy's normalize_path and merge_slashes). Every function treats its input as a request
// target "path[?query][#fragment]"; the query is never rewritten.
class PathUtility {
 public:
  // "/a/b?x=1#f" -> "/a/b".
  static absl::string_view removeQueryAndFragment(absl::string_view path);

  // The text between '?' and '#' (or the end); empty when there is no query.
  static absl::string_view queryString(absl::string_view path);

  // The value of the first query parameter named `name` ("" for "?name" or "?name="), or nullopt
  // when absent. Values are compared and returned raw, not percent-decoded (as Envoy's route
  // matching does).
  static std::optional<absl::string_view> findQueryParameter(absl::string_view path,
                                                             absl::string_view name);

  // Drops "#fragment": a fragment is never sent to an upstream (Envoy strips it too).
  static void stripFragment(std::string& path);

  // RFC 3986 normalisation of the path part, in the way of the URL canonicaliser Envoy uses:
  //  - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded ("%41" -> "A");
  //    other escapes are kept exactly as written ("%2F" and "%2f" stay encoded);
  //  - '\' is a segment separator like '/';
  //  - bytes that may not appear raw in a path (controls, space, '"', '<', '>', '`', '{', '}',
  //    DEL and non-ASCII) are percent-encoded;
  //  - "." and ".." segments are removed (RFC 3986 section 5.2.4); ".." above the root stays at
  //    the root;
  //  - a path that does not start with '/' gets one.
  // Returns false, leaving `path` unspecified, if no valid path can be made: a NUL byte, raw or
  // as "%00". A '%' not followed by two hex digits is kept (as the canonicaliser does).
  static bool canonicalizePath(std::string& path);

  // Collapses runs of '/' in the path part into one ("//a///b?x=//" -> "/a/b?x=//").
  static void mergeSlashes(std::string& path);

  // What the connection manager applies to :path before routing: strips the fragment,
  // canonicalizes (see canonicalizePath()) and, if `merge_slashes`, merges slashes. Returns false
  // if the request must be rejected (400).
  static bool normalizePath(std::string& path, bool merge_slashes);
};

}  // namespace waystone::router
