#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace waystone::protobuf {

// An error of protobuf's JSON parser split into the field path it names and the rest.
struct JsonError {
  std::string path;  // "static_resources.listeners[0].name"; empty if the error names none
  std::string message;

  // "path: message", or just the message when there is no path.
  std::string toString() const;
};

// Rewrites one message of protobuf 3.21's JSON parser into Envoy's style:
//   "(a.b[0].c): invalid value "x" for type TYPE_UINT32" -> {"a.b[0].c", "invalid value ..."}
//   "(a.b[0]) foo: Cannot find field."                   -> {"a.b[0].foo", "unknown field"}
// Syntax errors (which come with a snippet of the input) become "invalid JSON: ...".
JsonError parseJsonError(absl::string_view raw_error);

// Describes a failed JsonStringToMessage(json, message of type `root`, options) that returned
// `raw_error`. Protobuf reports errors inside an Any relative to that Any, so when the error
// comes from an Any this finds the innermost failing one (by parsing each Any on its own) and
// puts its path in front; otherwise it is parseJsonError(raw_error).toString().
std::string describeJsonError(absl::string_view raw_error, absl::string_view json,
                              const google::protobuf::Descriptor& root,
                              const google::protobuf::util::JsonParseOptions& options);

}  // namespace waystone::protobuf
