#pragma once

#include "absl/status/status.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

#include "validate/validate.pb.h"

namespace waystone::protobuf {

// protoc-gen-validate's rules for the well-known message types. `value` is null when the field
// is unset: then only `required` can fail. Messages carry no field path (the validator adds it).

absl::Status checkDurationRules(const validate::DurationRules& rules,
                                const google::protobuf::Duration* value);

absl::Status checkTimestampRules(const validate::TimestampRules& rules,
                                 const google::protobuf::Timestamp* value);

// `in` / `not_in` compare full type URLs, as PGV does.
absl::Status checkAnyRules(const validate::AnyRules& rules, const google::protobuf::Any* value);

}  // namespace waystone::protobuf
