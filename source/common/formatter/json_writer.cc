#include "source/common/formatter/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

#include "source/common/common/json_escape.h"

namespace waystone::formatter {

void JsonWriter::appendString(absl::string_view value, std::string& out) {
  out.push_back('"');
  appendJsonEscaped(out, value);
  out.push_back('"');
}

void JsonWriter::appendNumber(double value, std::string& out) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  // Integers up to 2^53 are exact in a double: print them as integers.
  if (std::trunc(value) == value && std::fabs(value) <= 9007199254740992.0) {
    absl::StrAppend(&out, static_cast<int64_t>(value));
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void JsonWriter::appendStruct(const google::protobuf::Struct& value, std::string& out) {
  std::vector<const google::protobuf::Map<std::string, google::protobuf::Value>::value_type*>
      fields;
  fields.reserve(value.fields_size());
  for (const auto& field : value.fields()) {
    fields.push_back(&field);
  }
  std::sort(fields.begin(), fields.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  out.push_back('{');
  bool first = true;
  for (const auto* field : fields) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    appendString(field->first, out);
    out.push_back(':');
    appendValue(field->second, out);
  }
  out.push_back('}');
}

void JsonWriter::appendValue(const google::protobuf::Value& value, std::string& out) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      appendNumber(value.number_value(), out);
      return;
    case google::protobuf::Value::kStringValue:
      appendString(value.string_value(), out);
      return;
    case google::protobuf::Value::kBoolValue:
      out.append(value.bool_value() ? "true" : "false");
      return;
    case google::protobuf::Value::kStructValue:
      appendStruct(value.struct_value(), out);
      return;
    case google::protobuf::Value::kListValue: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value.list_value().values()) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        appendValue(element, out);
      }
      out.push_back(']');
      return;
    }
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
      out.append("null");
      return;
  }
}

}  // namespace waystone::formatter
