#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"

#include "source/common/protobuf/load_options.h"

namespace waystone::protobuf {

// Type names of the two TypedStruct messages (same layout: type_url + Struct value). They carry
// a config as JSON-like data instead of serialized bytes.
constexpr absl::string_view kUdpaTypedStruct = "udpa.type.v1.TypedStruct";
constexpr absl::string_view kXdsTypedStruct = "xds.type.v3.TypedStruct";

// "type.googleapis.com/envoy.x.v3.Y" -> "envoy.x.v3.Y" (everything after the last '/').
absl::string_view typeNameFromUrl(absl::string_view type_url);

// True if the Any holds a udpa or xds TypedStruct.
bool holdsTypedStruct(const google::protobuf::Any& any);

// The type name the Any effectively configures, for factory lookup: the packed type's name, or
// for a TypedStruct the name in its type_url. Empty if a TypedStruct's bytes do not decode.
std::string typeUrlOf(const google::protobuf::Any& any);

// Unpacks `any` into `out`. A TypedStruct must name out's type; its Struct value goes through
// JSON into `out` (unknown fields rejected unless options.allow_unknown_fields). Any other Any
// must hold exactly out's type. Errors name both types where they disagree. If `path` is given
// (e.g. "http_filters[0].typed_config"), error messages start with it.
absl::Status unpackTo(const google::protobuf::Any& any, google::protobuf::Message& out,
                      const LoadOptions& options = {}, absl::string_view path = {});

}  // namespace waystone::protobuf
