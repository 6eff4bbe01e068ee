#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/core/v3/base.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

#include "source/common/formatter/formatter_provider.h"
#include "source/common/formatter/text_formatter.h"
#include "source/common/http/header_map.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::router {

// One level's *_headers_to_add / *_headers_to_remove (route config, virtual host, route or
// weighted cluster), applied the way Envoy's HeaderParser does: removals first, then every value
// is formatted against the headers as they are at that point, then OVERWRITE entries replace and
// APPEND/ADD entries add a new entry. Immutable.
//
// Values are Envoy substitution format strings (source/common/formatter: %REQ(x)%, %RESP(x)%,
// %FILTER_STATE(k:PLAIN)%, %DOWNSTREAM_PEER_URI_SAN%, %START_TIME(...)%, %% ...). As in Envoy, a
// command with no value contributes nothing (not the access log's "-"), and a value that formats
// to empty is not added unless keep_empty_value.
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

  // Applies this level to `headers`. `context` is what %REQ()% / %RESP()% read: for a request,
  // {&headers}; for a response, {request_headers, &headers}. `info` is the stream's StreamInfo
  // (its filter state has the connection's as parent, its downstream_ssl the connection's TLS).
  void evaluateHeaders(http::HeaderMap& headers, const formatter::Context& context,
                       const stream_info::StreamInfo& info) const;

  bool empty() const { return headers_to_add_.empty() && headers_to_remove_.empty(); }

 private:
  struct Entry {
    std::string key;  // lower case
    // Null when the value has no commands: `literal` is used as is, without formatting.
    std::unique_ptr<const formatter::TextFormatter> formatter;
    std::string literal;
    AppendAction action;
    bool keep_empty_value;
  };

  std::vector<Entry> headers_to_add_;
  std::vector<std::string> headers_to_remove_;  // lower case
};

}  // namespace waystone::router
