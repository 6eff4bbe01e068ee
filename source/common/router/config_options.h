#pragma once

#include <cstdint>

#include "source/common/protobuf/load_options.h"

namespace waystone::router {

// Envoy's default for the runtime key re2.max_program_size.error_level: a regex whose compiled
// RE2 program is larger is a config error (large programs are slow and memory hungry).
constexpr uint32_t kDefaultMaxRegexProgramSize = 100;

// Envoy's default for RouteConfiguration.max_direct_response_body_size_bytes.
constexpr uint32_t kDefaultMaxDirectResponseBodySizeBytes = 4096;

// Knobs for building a route table that do not come from the RouteConfiguration itself.
struct ConfigOptions {
  // Limit on RE2::ProgramSize() for every regex in the table (a RegexMatcher's deprecated
  // google_re2.max_program_size overrides it for that one regex, as in Envoy).
  uint32_t max_regex_program_size = kDefaultMaxRegexProgramSize;
  // Used when protoc-gen-validate rules unpack Anys (TypedStruct JSON).
  protobuf::LoadOptions load_options;
};

}  // namespace waystone::router
