#include "source/common/protobuf/pgv_validator.h"

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

#include "source/common/protobuf/any_unpacker.h"
#include "source/common/protobuf/pgv_message_rules.h"
#include "source/common/protobuf/pgv_scalar_rules.h"

namespace waystone::protobuf {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Any nesting beyond this cannot come from a document the loader accepts.
constexpr int kMaxDepth = 200;

constexpr absl::string_view kWellKnownPrefix = "google/protobuf/";

absl::Status withPath(const std::string& path, const absl::Status& status) {
  if (status.ok() || path.empty()) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

absl::Status violation(const std::string& path, absl::string_view message) {
  return withPath(path, absl::InvalidArgumentError(message));
}

const validate::FieldRules* rulesOf(const FieldDescriptor& field) {
  if (!field.options().HasExtension(validate::rules)) {
    return nullptr;
  }
  return &field.options().GetExtension(validate::rules);
}

bool isWrapper(const Descriptor& descriptor) {
  return absl::StartsWith(descriptor.file()->name(), "google/protobuf/wrappers") &&
         descriptor.field_count() == 1;
}

// A generated T for `message` of T's type: the object itself when it is one (the usual case),
// else a copy through the wire format (a dynamic message of the same type).
template <class T>
const T* asGenerated(const Message& message, std::unique_ptr<T>& storage) {
  if (const auto* generated = dynamic_cast<const T*>(&message)) {
    return generated;
  }
  storage = std::make_unique<T>();
  if (!storage->ParseFromString(message.SerializeAsString())) {
    return nullptr;
  }
  return storage.get();
}

// A scalar rendered so equal values give equal text (for `unique` and map key paths).
std::string scalarText(const Message& message, const FieldDescriptor& field, int index) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(repeated ? reflection.GetRepeatedInt32(message, &field, index)
                                   : reflection.GetInt32(message, &field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(repeated ? reflection.GetRepeatedInt64(message, &field, index)
                                   : reflection.GetInt64(message, &field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(repeated ? reflection.GetRepeatedUInt32(message, &field, index)
                                   : reflection.GetUInt32(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(repeated ? reflection.GetRepeatedUInt64(message, &field, index)
                                   : reflection.GetUInt64(message, &field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return formatNumber(repeated ? reflection.GetRepeatedFloat(message, &field, index)
                                   : reflection.GetFloat(message, &field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return formatNumber(repeated ? reflection.GetRepeatedDouble(message, &field, index)
                                   : reflection.GetDouble(message, &field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? reflection.GetRepeatedBool(message, &field, index)
                       : reflection.GetBool(message, &field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat(repeated ? reflection.GetRepeatedEnumValue(message, &field, index)
                                   : reflection.GetEnumValue(message, &field));
    case FieldDescriptor::CPPTYPE_STRING:
      return absl::StrCat("\"",
                          repeated ? reflection.GetRepeatedString(message, &field, index)
                                   : reflection.GetString(message, &field),
                          "\"");
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

}  // namespace

absl::Status PgvValidator::validate(const Message& message, const std::string& path) {
  return validateMessage(message, path, 0);
}

absl::Status PgvValidator::validateMessage(const Message& message, const std::string& path,
                                           int depth) {
  if (depth > kMaxDepth) {
    return violation(path, "message nesting too deep to validate");
  }
  const Descriptor& descriptor = *message.GetDescriptor();
  if (descriptor.options().GetExtension(validate::disabled)) {
    return absl::OkStatus();
  }
  if (descriptor.full_name() == google::protobuf::Any::descriptor()->full_name()) {
    return validateAny(message, path, depth);
  }
  // Well-known types carry no rules of their own; their rules live on the referring field.
  if (absl::StartsWith(descriptor.file()->name(), kWellKnownPrefix)) {
    return absl::OkStatus();
  }
  const Reflection& reflection = *message.GetReflection();
  for (int i = 0; i < descriptor.oneof_decl_count(); ++i) {
    const google::protobuf::OneofDescriptor& oneof = *descriptor.oneof_decl(i);
    if (oneof.is_synthetic() || !oneof.options().GetExtension(validate::required) ||
        reflection.HasOneof(message, &oneof)) {
      continue;
    }
    std::vector<std::string> names;
    for (int j = 0; j < oneof.field_count(); ++j) {
      names.push_back(oneof.field(j)->name());
    }
    return violation(path, absl::StrCat("one of [", absl::StrJoin(names, ", "),
                                        "] must be set (oneof ", oneof.name(), ")"));
  }
  for (int i = 0; i < descriptor.field_count(); ++i) {
    absl::Status status = validateField(message, *descriptor.field(i), path, depth);
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status PgvValidator::validateAny(const Message& message, const std::string& path, int depth) {
  std::unique_ptr<google::protobuf::Any> storage;
  const google::protobuf::Any* any = asGenerated(message, storage);
  if (any == nullptr || any->type_url().empty()) {
    return absl::OkStatus();
  }
  const std::string type_name = typeUrlOf(*any);
  const Descriptor* descriptor =
      type_name.empty()
          ? nullptr
          : google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
  if (descriptor == nullptr) {
    // A TypedStruct that does not decode is an error; any other unknown type cannot be checked.
    return holdsTypedStruct(*any) && type_name.empty()
               ? violation(path, absl::StrCat("cannot decode ", typeNameFromUrl(any->type_url())))
               : absl::OkStatus();
  }
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) {
    return absl::OkStatus();
  }
  std::unique_ptr<Message> inner(prototype->New());
  absl::Status status = unpackTo(*any, *inner, options_, path);
  if (!status.ok()) {
    return status;
  }
  return validateMessage(*inner, path, depth + 1);
}

absl::Status PgvValidator::validateField(const Message& message, const FieldDescriptor& field,
                                         const std::string& path, int depth) {
  const Reflection& reflection = *message.GetReflection();
  // PGV checks only the member of a oneof that is set.
  if (field.real_containing_oneof() != nullptr && !reflection.HasField(message, &field)) {
    return absl::OkStatus();
  }
  const std::string field_path =
      path.empty() ? field.name() : absl::StrCat(path, ".", field.name());
  if (field.is_map()) {
    return validateMap(message, field, field_path, depth);
  }
  if (field.is_repeated()) {
    return validateRepeated(message, field, field_path, depth);
  }
  const validate::FieldRules* rules = rulesOf(field);
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return validateMessageValue(rules, message, field, -1, field_path, depth);
  }
  // Proto3 scalars without presence are always checked (their zero value included); scalars
  // with presence (proto3 `optional`) only when set.
  if (rules == nullptr || (field.has_presence() && !reflection.HasField(message, &field))) {
    return absl::OkStatus();
  }
  return withPath(field_path, checkScalarRules(*rules, message, field, -1));
}

absl::Status PgvValidator::validateRepeated(const Message& message, const FieldDescriptor& field,
                                            const std::string& path, int depth) {
  const Reflection& reflection = *message.GetReflection();
  const int size = reflection.FieldSize(message, &field);
  const validate::FieldRules* rules = rulesOf(field);
  const validate::FieldRules* items = nullptr;
  if (rules != nullptr && rules->has_repeated()) {
    const validate::RepeatedRules& repeated = rules->repeated();
    if (repeated.ignore_empty() && size == 0) {
      return absl::OkStatus();
    }
    if (repeated.has_min_items() && static_cast<uint64_t>(size) < repeated.min_items()) {
      return violation(path, absl::StrCat("value must contain at least ", repeated.min_items(),
                                          " item(s) (got ", size, ")"));
    }
    if (repeated.has_max_items() && static_cast<uint64_t>(size) > repeated.max_items()) {
      return violation(path, absl::StrCat("value must contain at most ", repeated.max_items(),
                                          " item(s) (got ", size, ")"));
    }
    if (repeated.unique() && field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      absl::flat_hash_set<std::string> seen;
      for (int i = 0; i < size; ++i) {
        std::string text = scalarText(message, field, i);
        if (!seen.insert(text).second) {
          return violation(
              absl::StrCat(path, "[", i, "]"),
              absl::StrCat("repeated value must contain unique items (", text, " appears twice)"));
        }
      }
    }
    if (repeated.has_items()) {
      items = &repeated.items();
    }
  }
  const bool is_message = field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!is_message && items == nullptr) {
    return absl::OkStatus();
  }
  for (int i = 0; i < size; ++i) {
    const std::string item_path = absl::StrCat(path, "[", i, "]");
    absl::Status status = is_message
                              ? validateMessageValue(items, message, field, i, item_path, depth)
                              : withPath(item_path, checkScalarRules(*items, message, field, i));
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status PgvValidator::validateMap(const Message& message, const FieldDescriptor& field,
                                       const std::string& path, int depth) {
  const Reflection& reflection = *message.GetReflection();
  const int size = reflection.FieldSize(message, &field);
  const validate::FieldRules* rules = rulesOf(field);
  const validate::FieldRules* keys = nullptr;
  const validate::FieldRules* values = nullptr;
  if (rules != nullptr && rules->has_map()) {
    const validate::MapRules& map = rules->map();
    if (map.ignore_empty() && size == 0) {
      return absl::OkStatus();
    }
    if (map.has_min_pairs() && static_cast<uint64_t>(size) < map.min_pairs()) {
      return violation(path, absl::StrCat("value must contain at least ", map.min_pairs(),
                                          " pair(s) (got ", size, ")"));
    }
    if (map.has_max_pairs() && static_cast<uint64_t>(size) > map.max_pairs()) {
      return violation(path, absl::StrCat("value must contain at most ", map.max_pairs(),
                                          " pair(s) (got ", size, ")"));
    }
    keys = map.has_keys() ? &map.keys() : nullptr;
    values = map.has_values() ? &map.values() : nullptr;
  }
  const FieldDescriptor& key_field = *field.message_type()->map_key();
  const FieldDescriptor& value_field = *field.message_type()->map_value();
  const bool message_values = value_field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (keys == nullptr && values == nullptr && !message_values) {
    return absl::OkStatus();
  }
  for (int i = 0; i < size; ++i) {
    const Message& entry = reflection.GetRepeatedMessage(message, &field, i);
    const std::string entry_path = absl::StrCat(path, "[", scalarText(entry, key_field, -1), "]");
    if (keys != nullptr) {
      absl::Status status = checkScalarRules(*keys, entry, key_field, -1);
      if (!status.ok()) {
        return withPath(entry_path,
                        absl::Status(status.code(), absl::StrCat("key: ", status.message())));
      }
    }
    absl::Status status =
        message_values ? validateMessageValue(values, entry, value_field, -1, entry_path, depth)
        : values != nullptr
            ? withPath(entry_path, checkScalarRules(*values, entry, value_field, -1))
            : absl::OkStatus();
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status PgvValidator::validateMessageValue(const validate::FieldRules* rules,
                                                const Message& message,
                                                const FieldDescriptor& field, int index,
                                                const std::string& path, int depth) {
  const Reflection& reflection = *message.GetReflection();
  const Message* value = nullptr;
  if (index >= 0) {
    value = &reflection.GetRepeatedMessage(message, &field, index);
  } else if (reflection.HasField(message, &field)) {
    value = &reflection.GetMessage(message, &field);
  }
  if (rules != nullptr) {
    if (rules->message().required() && value == nullptr) {
      return violation(path, "value is required");
    }
    if (rules->message().skip()) {
      return absl::OkStatus();
    }
    absl::Status status;
    switch (rules->type_case()) {
      case validate::FieldRules::kDuration: {
        std::unique_ptr<google::protobuf::Duration> storage;
        status = checkDurationRules(rules->duration(),
                                    value == nullptr ? nullptr : asGenerated(*value, storage));
        break;
      }
      case validate::FieldRules::kTimestamp: {
        std::unique_ptr<google::protobuf::Timestamp> storage;
        status = checkTimestampRules(rules->timestamp(),
                                     value == nullptr ? nullptr : asGenerated(*value, storage));
        break;
      }
      case validate::FieldRules::kAny: {
        std::unique_ptr<google::protobuf::Any> storage;
        status =
            checkAnyRules(rules->any(), value == nullptr ? nullptr : asGenerated(*value, storage));
        break;
      }
      default:
        // Scalar rules on a wrapper (UInt32Value, StringValue, ...) apply to the wrapped value.
        if (value != nullptr && isWrapper(*value->GetDescriptor())) {
          status = checkScalarRules(*rules, *value, *value->GetDescriptor()->field(0), -1);
        }
        break;
    }
    if (!status.ok()) {
      return withPath(path, status);
    }
  }
  if (value == nullptr) {
    return absl::OkStatus();
  }
  return validateMessage(*value, path, depth + 1);
}

absl::Status validate(const Message& message, const LoadOptions& options) {
  return PgvValidator(options).validate(message);
}

}  // namespace waystone::protobuf
