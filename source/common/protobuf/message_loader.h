#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

#include "source/common/protobuf/load_options.h"

namespace waystone::protobuf {

// Loading config documents into proto messages, as Envoy does: YAML is converted to JSON and
// both go through protobuf's JSON parser, so the two formats accept exactly the same documents
// (proto3 JSON names, camelCase or snake_case; numbers as strings for 64-bit ints; "1.5s"
// Durations; Any with "@type" resolved through the generated descriptor pool).
//
// Every function replaces the contents of `out`. Errors are InvalidArgument and start with the
// field path, Envoy style:
//   static_resources.listeners[0].address.socket_address.port_value: invalid value "abc" for
//   type TYPE_UINT32
//   static_resources.listeners[0].foo: unknown field
// YAML syntax errors name the line and column. An empty YAML document yields an empty message.

absl::Status loadFromJson(absl::string_view json, google::protobuf::Message& out,
                          const LoadOptions& options = {});

absl::Status loadFromYaml(absl::string_view yaml, google::protobuf::Message& out,
                          const LoadOptions& options = {});

// Picks the format by extension: .json -> JSON; .yaml/.yml -> YAML; .pb_text/.textproto ->
// protobuf text format; .pb -> binary. Anything else is tried as JSON, then as YAML (the error
// reported is the one of the format the text looks like). Read errors name the path.
absl::Status loadFromFile(const std::string& path, google::protobuf::Message& out,
                          const LoadOptions& options = {});

// Envoy's --config-yaml: parses `yaml` into a fresh message of out's type and merges it over
// `out` with MergeFrom (singular fields replaced, repeated fields appended, sub-messages merged).
absl::Status mergeYamlOver(absl::string_view yaml, google::protobuf::Message& out,
                           const LoadOptions& options = {});

// JSON for /config_dump and logs: proto field names (snake_case, as Envoy prints them), fields
// with default values omitted. Returns an "{\"error\": ...}" object if printing fails (it only
// can for an Any of a type this binary does not know).
std::string toJson(const google::protobuf::Message& message, bool pretty = false);

}  // namespace waystone::protobuf
