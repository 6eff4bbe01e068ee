#include "source/common/tls/unsupported_fields.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace waystone::tls {

std::string fieldPath(absl::string_view parent, absl::string_view field) {
  if (parent.empty()) {
    return std::string(field);
  }
  return absl::StrCat(parent, ".", field);
}

absl::Status checkSupportedFields(const google::protobuf::Message& message, absl::string_view path,
                                  std::initializer_list<absl::string_view> supported) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    bool ok = false;
    for (absl::string_view name : supported) {
      if (field->name() == name) {
        ok = true;
        break;
      }
    }
    if (ok) {
      continue;
    }
    std::string hint;
    if (absl::StrContains(field->name(), "sds_secret_config")) {
      hint = " (SDS is not supported yet: give the secret inline or as a file)";
    } else if (absl::StrContains(field->name(), "certificate_provider")) {
      hint = " (certificate providers are not supported yet)";
    } else if (field->name() == "combined_validation_context") {
      hint = " (it needs SDS, which is not supported yet: use validation_context)";
    }
    return absl::InvalidArgumentError(
        absl::StrCat(fieldPath(path, field->name()), ": not supported", hint));
  }
  return absl::OkStatus();
}

}  // namespace waystone::tls
