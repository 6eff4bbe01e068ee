#pragma once

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

#include "source/common/protobuf/load_options.h"
#include "validate/validate.pb.h"

namespace waystone::protobuf {

// Enforces the protoc-gen-validate rules the Envoy API protos carry as options
// ((validate.rules) on fields, (validate.required) on oneofs, (validate.disabled) on messages)
// by walking a message through reflection, so every config type gets Envoy's checks without
// generated validation code. Covers message.required/skip; string, bytes, bool, enum and every
// numeric rule; repeated min/max_items, unique and items; map min/max_pairs, keys and values;
// Duration, Timestamp and Any rules; wrapper types (rules apply to the wrapped value when set).
// Any fields holding a type this binary knows are unpacked (TypedStruct included) and validated
// too; Anys of unknown types are skipped.
//
// Stops at the first violation; the error names its full field path:
//   static_resources.listeners[0].address.socket_address.port_value: value must be <= 65535
//   (got 70000)
class PgvValidator {
 public:
  // `options` applies when unpacking TypedStructs (allow_unknown_fields).
  explicit PgvValidator(const LoadOptions& options) : options_(options) {}

  // `path` is the field path of `message` itself ("" for a root message).
  absl::Status validate(const google::protobuf::Message& message, const std::string& path = "");

 private:
  absl::Status validateMessage(const google::protobuf::Message& message, const std::string& path,
                               int depth);
  absl::Status validateAny(const google::protobuf::Message& message, const std::string& path,
                           int depth);
  absl::Status validateField(const google::protobuf::Message& message,
                             const google::protobuf::FieldDescriptor& field,
                             const std::string& path, int depth);
  absl::Status validateRepeated(const google::protobuf::Message& message,
                                const google::protobuf::FieldDescriptor& field,
                                const std::string& path, int depth);
  absl::Status validateMap(const google::protobuf::Message& message,
                           const google::protobuf::FieldDescriptor& field, const std::string& path,
                           int depth);
  // One message-typed value: field of `message`, element `index` or -1 for singular.
  absl::Status validateMessageValue(const validate::FieldRules* rules,
                                    const google::protobuf::Message& message,
                                    const google::protobuf::FieldDescriptor& field, int index,
                                    const std::string& path, int depth);

  const LoadOptions options_;
};

// PgvValidator(options).validate(message).
absl::Status validate(const google::protobuf::Message& message, const LoadOptions& options = {});

}  // namespace waystone::protobuf
