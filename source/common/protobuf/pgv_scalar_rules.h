#pragma once

#include "absl/status/status.h"
#include "google/protobuf/message.h"

#include "validate/validate.pb.h"

namespace waystone::protobuf {

// Checks protoc-gen-validate's scalar rules (numeric, bool, string, bytes and enum rules in
// `rules`) against one value: `field` of `message`, element `index` of a repeated field or -1 for
// a singular one. Returns OK if `rules` hold no scalar rule or do not match the field's type.
// Error messages carry no field path (the validator adds it), e.g.
//   "value must be <= 65535 (got 70000)"
// String `pattern` rules are RE2 expressions (PGV's dialect); a pattern RE2 cannot compile is
// skipped rather than trusted.
absl::Status checkScalarRules(const validate::FieldRules& rules,
                              const google::protobuf::Message& message,
                              const google::protobuf::FieldDescriptor& field, int index);

// True if the value is its type's zero value (0, false, "" or enum 0): PGV's `ignore_empty`.
bool isZeroScalar(const google::protobuf::Message& message,
                  const google::protobuf::FieldDescriptor& field, int index);

// Shortest text that reads back as `value` ("0.1", not "0.10000000000000001").
std::string formatNumber(double value);

}  // namespace waystone::protobuf
