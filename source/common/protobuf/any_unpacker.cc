#include "source/common/protobuf/any_unpacker.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "udpa/type/v1/typed_struct.pb.h"
#include "xds/type/v3/typed_struct.pb.h"

#include "source/common/protobuf/message_loader.h"

namespace waystone::protobuf {
namespace {

absl::Status withPath(absl::string_view path, absl::string_view message) {
  if (path.empty()) {
    return absl::InvalidArgumentError(message);
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// Both TypedStruct flavours, decoded into their shared shape.
bool decodeTypedStruct(const google::protobuf::Any& any, std::string& type_url,
                       google::protobuf::Struct& value) {
  if (typeNameFromUrl(any.type_url()) == kUdpaTypedStruct) {
    udpa::type::v1::TypedStruct typed_struct;
    if (!any.UnpackTo(&typed_struct)) {
      return false;
    }
    type_url = typed_struct.type_url();
    value = typed_struct.value();
    return true;
  }
  xds::type::v3::TypedStruct typed_struct;
  if (!any.UnpackTo(&typed_struct)) {
    return false;
  }
  type_url = typed_struct.type_url();
  value = typed_struct.value();
  return true;
}

}  // namespace

absl::string_view typeNameFromUrl(absl::string_view type_url) {
  const size_t slash = type_url.rfind('/');
  return slash == absl::string_view::npos ? type_url : type_url.substr(slash + 1);
}

bool holdsTypedStruct(const google::protobuf::Any& any) {
  const absl::string_view name = typeNameFromUrl(any.type_url());
  return name == kUdpaTypedStruct || name == kXdsTypedStruct;
}

std::string typeUrlOf(const google::protobuf::Any& any) {
  if (!holdsTypedStruct(any)) {
    return std::string(typeNameFromUrl(any.type_url()));
  }
  std::string type_url;
  google::protobuf::Struct value;
  if (!decodeTypedStruct(any, type_url, value)) {
    return "";
  }
  return std::string(typeNameFromUrl(type_url));
}

absl::Status unpackTo(const google::protobuf::Any& any, google::protobuf::Message& out,
                      const LoadOptions& options, absl::string_view path) {
  const std::string& expected = out.GetDescriptor()->full_name();
  if (!holdsTypedStruct(any)) {
    const absl::string_view held = typeNameFromUrl(any.type_url());
    if (held != expected) {
      return withPath(path, absl::StrCat("expected a config of type ", expected, ", got ",
                                         held.empty() ? "an empty Any" : held));
    }
    if (!out.ParseFromString(any.value())) {
      return withPath(path, absl::StrCat("cannot decode the Any value as ", expected));
    }
    return absl::OkStatus();
  }
  std::string type_url;
  google::protobuf::Struct value;
  if (!decodeTypedStruct(any, type_url, value)) {
    return withPath(path, absl::StrCat("cannot decode ", typeNameFromUrl(any.type_url())));
  }
  if (typeNameFromUrl(type_url) != expected) {
    return withPath(path, absl::StrCat("TypedStruct type_url \"", type_url,
                                       "\" does not name the expected type ", expected));
  }
  std::string json;
  const auto printed = google::protobuf::util::MessageToJsonString(value, &json);
  if (!printed.ok()) {
    return withPath(path, absl::StrCat("cannot convert TypedStruct value to JSON: ",
                                       std::string(printed.message())));
  }
  absl::Status status = loadFromJson(json, out, options);
  if (status.ok() || path.empty()) {
    return status;
  }
  // The loader's messages start with a field path relative to `out` (or have none).
  absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  const absl::string_view head = message.substr(0, colon);
  if (colon != absl::string_view::npos && !head.empty() &&
      head.find_first_of(" \"'") == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".", message));
  }
  return withPath(path, message);
}

}  // namespace waystone::protobuf
