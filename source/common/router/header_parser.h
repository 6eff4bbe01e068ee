#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/core/v3/base.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

#include "source/common/http/header_map.h"
#include "source/common/router/header_formatter.h"
#include "source/common/router/header_value_context.h"

namespace waystone::router {

// One level's *_headers_to_add / *_headers_to_remove (route config, virtual host, route or
// weighted cluster), applied the way Envoy's HeaderParser does: removals first, then every value
// is formatted against the headers as they are at that point, then OVERWRITE entries replace and
// APPEND/ADD entries add a new entry. Empty values are skipped unless keep_empty_value.
// Immutable.
class HeaderParser {
 public:
  using HeaderValueOptions =
      google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>;
  using HeaderNames = google::protobuf::RepeatedPtrField<std::string>;
  using AppendAction = envoy::config::core::v3::HeaderValueOption::HeaderAppendAction;

  // A level with nothing to add or remove.
  HeaderParser() = default;

  // `path` names the message holding the two fields and `add_field` / `remove_field` their names
  // (e.g. "virtual_hosts[0]", "request_headers_to_add", "request_headers_to_remove"). Pseudo
  // headers and Host may be neither added nor removed (as Envoy).
  static absl::StatusOr<HeaderParser> create(const HeaderValueOptions& headers_to_add,
                                             const HeaderNames& headers_to_remove,
                                             absl::string_view path, absl::string_view add_field,
                                             absl::string_view remove_field);

  // Applies this level to `headers`. %REQ()% reads `request_headers` (pass `&headers` when
  // finalizing a request).
  void evaluateHeaders(http::HeaderMap& headers, const http::HeaderMap* request_headers,
                       const HeaderValueContext& context) const;

  bool empty() const { return headers_to_add_.empty() && headers_to_remove_.empty(); }

 private:
  struct Entry {
    std::string key;  // lower case
    HeaderFormatter value;
    AppendAction action;
    bool keep_empty_value;
  };

  std::vector<Entry> headers_to_add_;
  std::vector<std::string> headers_to_remove_;  // lower case
};

}  // namespace waystone::router
