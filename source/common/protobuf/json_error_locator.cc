#include "source/common/protobuf/json_error_locator.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/struct.pb.h"

namespace waystone::protobuf {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::util::JsonParseOptions;

constexpr absl::string_view kUnknownFieldSuffix = ": Cannot find field.";
constexpr absl::string_view kAnyType = "google.protobuf.Any";
// Well-known types keep their JSON in an "@type"/"value" pair and never contain an Any.
constexpr absl::string_view kWellKnownPrefix = "google/protobuf/";

// "invalid value Field 'idle_timeout', Illegal duration format; ... for type
// type.googleapis.com/google.protobuf.Duration" -> "invalid value: Illegal duration format; ...
// for type google.protobuf.Duration".
std::string tidy(absl::string_view message) {
  std::string out(message);
  if (absl::StartsWith(out, "invalid value Field '")) {
    size_t end = out.find("', ");
    if (end != std::string::npos) {
      out = absl::StrCat("invalid value: ", out.substr(end + 3));
    }
  }
  return absl::StrReplaceAll(out, {{"for type type.googleapis.com/", "for type "}});
}

std::string joinPath(absl::string_view prefix, absl::string_view path) {
  if (prefix.empty()) {
    return std::string(path);
  }
  if (path.empty()) {
    return std::string(prefix);
  }
  return absl::StrCat(prefix, ".", path);
}

const FieldDescriptor* findField(const Descriptor& descriptor, const std::string& key) {
  const FieldDescriptor* field = descriptor.FindFieldByName(key);
  if (field != nullptr) {
    return field;
  }
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->json_name() == key) {
      return descriptor.field(i);
    }
  }
  return nullptr;
}

// Walks the document as a google.protobuf.Value tree beside the schema, looking for the
// innermost Any whose contents, parsed on their own, fail with the same raw error.
class AnyLocator {
 public:
  AnyLocator(absl::string_view raw_error, const JsonParseOptions& options)
      : raw_error_(raw_error), options_(options) {}

  std::optional<JsonError> walkMessage(const google::protobuf::Struct& object,
                                       const Descriptor& descriptor, const std::string& path) {
    if (descriptor.full_name() == kAnyType) {
      return walkAny(object, path);
    }
    if (absl::StartsWith(descriptor.file()->name(), kWellKnownPrefix)) {
      return std::nullopt;
    }
    for (const auto& [key, value] : object.fields()) {
      const FieldDescriptor* field = findField(descriptor, key);
      if (field == nullptr || field->message_type() == nullptr) {
        continue;
      }
      const std::string field_path = joinPath(path, field->name());
      std::optional<JsonError> found;
      if (field->is_map()) {
        found = walkMap(value, *field, field_path);
      } else if (field->is_repeated()) {
        if (value.kind_case() != google::protobuf::Value::kListValue) {
          continue;
        }
        const auto& items = value.list_value().values();
        for (int i = 0; i < items.size() && !found; ++i) {
          found =
              walkValue(items[i], *field->message_type(), absl::StrCat(field_path, "[", i, "]"));
        }
      } else {
        found = walkValue(value, *field->message_type(), field_path);
      }
      if (found) {
        return found;
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<JsonError> walkValue(const google::protobuf::Value& value,
                                     const Descriptor& descriptor, const std::string& path) {
    if (value.kind_case() != google::protobuf::Value::kStructValue) {
      return std::nullopt;
    }
    return walkMessage(value.struct_value(), descriptor, path);
  }

  std::optional<JsonError> walkMap(const google::protobuf::Value& value,
                                   const FieldDescriptor& field, const std::string& path) {
    const FieldDescriptor* value_field = field.message_type()->map_value();
    if (value_field == nullptr || value_field->message_type() == nullptr ||
        value.kind_case() != google::protobuf::Value::kStructValue) {
      return std::nullopt;
    }
    for (const auto& [key, item] : value.struct_value().fields()) {
      auto found =
          walkValue(item, *value_field->message_type(), absl::StrCat(path, "[\"", key, "\"]"));
      if (found) {
        return found;
      }
    }
    return std::nullopt;
  }

  std::optional<JsonError> walkAny(const google::protobuf::Struct& object,
                                   const std::string& path) {
    auto type_it = object.fields().find("@type");
    if (type_it == object.fields().end() ||
        type_it->second.kind_case() != google::protobuf::Value::kStringValue) {
      return std::nullopt;
    }
    absl::string_view type_url = type_it->second.string_value();
    const size_t slash = type_url.rfind('/');
    const std::string type_name(slash == absl::string_view::npos ? type_url
                                                                 : type_url.substr(slash + 1));
    const Descriptor* inner =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
    if (inner == nullptr) {
      return std::nullopt;
    }
    auto found = walkMessage(object, *inner, path);
    if (found) {
      return found;
    }
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(object, &json).ok()) {
      return std::nullopt;
    }
    google::protobuf::Any any;
    auto status = google::protobuf::util::JsonStringToMessage(json, &any, options_);
    if (status.ok() || std::string(status.message()) != raw_error_) {
      return std::nullopt;
    }
    JsonError error = parseJsonError(raw_error_);
    error.path = joinPath(path, error.path);
    return error;
  }

  const std::string raw_error_;
  const JsonParseOptions& options_;
};

}  // namespace

std::string JsonError::toString() const {
  return path.empty() ? message : absl::StrCat(path, ": ", message);
}

JsonError parseJsonError(absl::string_view raw_error) {
  JsonError error;
  if (absl::EndsWith(raw_error, kUnknownFieldSuffix)) {
    absl::string_view head = raw_error.substr(0, raw_error.size() - kUnknownFieldSuffix.size());
    if (absl::ConsumePrefix(&head, "(")) {
      const size_t close = head.find(") ");
      if (close != absl::string_view::npos) {
        error.path = joinPath(head.substr(0, close), head.substr(close + 2));
        error.message = "unknown field";
        return error;
      }
    } else {
      error.path = std::string(head);
      error.message = "unknown field";
      return error;
    }
  }
  absl::string_view rest = raw_error;
  if (absl::ConsumePrefix(&rest, "(")) {
    const size_t close = rest.find("): ");
    if (close != absl::string_view::npos) {
      error.path = std::string(rest.substr(0, close));
      error.message = tidy(rest.substr(close + 3));
      return error;
    }
  }
  if (absl::StartsWith(raw_error, ": Root element must be a message")) {
    error.message = "the document must be an object (a mapping in YAML)";
    return error;
  }
  if (absl::StrContains(raw_error, '\n')) {
    // Syntax errors quote the input around the failure on the following lines.
    error.message = absl::StrCat("invalid JSON: ", raw_error);
    return error;
  }
  error.message = tidy(raw_error);
  return error;
}

std::string describeJsonError(absl::string_view raw_error, absl::string_view json,
                              const Descriptor& root, const JsonParseOptions& options) {
  google::protobuf::Struct document;
  if (google::protobuf::util::JsonStringToMessage({json.data(), json.size()}, &document).ok()) {
    AnyLocator locator(raw_error, options);
    auto found = locator.walkMessage(document, root, "");
    if (found) {
      return found->toString();
    }
  }
  return parseJsonError(raw_error).toString();
}

}  // namespace waystone::protobuf
