#pragma once

#include "absl/status/status.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

#include "source/common/protobuf/load_options.h"

namespace waystone::config {

// Validates a loaded bootstrap before anything is built from it:
//  1. the protoc-gen-validate rules of every message (TypedStruct/Any contents included);
//  2. each static listener (validateListener) and cluster (validateCluster);
//  3. what needs the whole bootstrap: unique listener, cluster and secret names; no two
//     listeners binding the same ip:port; a valid admin address.
// Stops at the first problem; the error starts with its field path, e.g.
//   static_resources.listeners[2].name: duplicate listener name "x" (also
//   static_resources.listeners[0])
// `options` applies to TypedStructs met during validation (allow_unknown_fields).
absl::Status validateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                               const protobuf::LoadOptions& options = {});

}  // namespace waystone::config
