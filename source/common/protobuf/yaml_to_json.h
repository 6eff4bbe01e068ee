#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/protobuf/load_options.h"

namespace waystone::protobuf {

// Converts the first YAML document in `yaml` to JSON text, the form protobuf's JSON parser
// reads (Envoy's path: YAML -> JSON -> proto). Scalar typing follows Envoy's converter:
//  - quoted scalars, block scalars and `!!str` stay strings;
//  - plain `~`, `null` and empty values become JSON null;
//  - plain scalars yaml-cpp reads as bool (true/false, yes/no, on/off) become JSON bools;
//  - plain integers (decimal, 0x hex, 0-prefixed octal) become JSON numbers when a double holds
//    them exactly (|n| <= 2^53), otherwise decimal strings, which protobuf accepts for 64-bit
//    fields; plain floats become numbers (.inf/.nan become "Infinity"/"NaN" strings);
//  - anything else stays a string ("1s", "10.0.0.1", ...).
// Merge keys (`<<: *anchor`) are expanded, with the map's own keys taking precedence. Keys
// tagged `!ignore` are dropped (Envoy's idiom for a section that only holds anchors).
// Duplicate keys, non-scalar keys, nesting deeper than options.max_depth and output larger than
// options.max_bytes are errors; every error names the YAML line and column.
absl::StatusOr<std::string> yamlToJson(absl::string_view yaml, const LoadOptions& options);

// Appends `value` to `out` as a JSON string literal (quotes, escapes for `"`, `\` and control
// characters; other bytes are copied as they are).
void appendJsonString(absl::string_view value, std::string& out);

}  // namespace waystone::protobuf
