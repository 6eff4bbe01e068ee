#include "source/common/formatter/stream_info_formatters.h"

#include "absl/strings/str_cat.h"

#include "source/common/formatter/json_writer.h"

namespace waystone::formatter {
namespace {

google::protobuf::Value nullValue() {
  google::protobuf::Value value;
  value.set_null_value(google::protobuf::NULL_VALUE);
  return value;
}

google::protobuf::Value stringValue(std::string text) {
  google::protobuf::Value value;
  value.set_string_value(std::move(text));
  return value;
}

google::protobuf::Value numberValue(double number) {
  google::protobuf::Value value;
  value.set_number_value(number);
  return value;
}

}  // namespace

google::protobuf::Value StringProvider::value(const Context& context,
                                              const stream_info::StreamInfo& info) const {
  std::string text;
  return fn_(context, info, text) ? stringValue(std::move(text)) : nullValue();
}

bool NumberProvider::append(const Context&, const stream_info::StreamInfo& info,
                            std::string& out) const {
  const std::optional<uint64_t> number = fn_(info);
  if (!number.has_value()) {
    return false;
  }
  absl::StrAppend(&out, *number);
  return true;
}

google::protobuf::Value NumberProvider::value(const Context&,
                                              const stream_info::StreamInfo& info) const {
  const std::optional<uint64_t> number = fn_(info);
  return number.has_value() ? numberValue(static_cast<double>(*number)) : nullValue();
}

bool AddressProvider::append(const Context&, const stream_info::StreamInfo& info,
                             std::string& out) const {
  const network::address::InstanceConstSharedPtr& address = fn_(info);
  if (address == nullptr) {
    return false;
  }
  const bool ip = address->type() == network::address::Type::Ip;
  switch (part_) {
    case Part::WithPort:
      if (address->asString().empty()) {
        return false;  // an unnamed unix socket
      }
      out.append(address->asString());
      return true;
    case Part::WithoutPort: {
      const std::string& text = ip ? address->ipString() : address->asString();
      if (text.empty()) {
        return false;
      }
      out.append(text);
      return true;
    }
    case Part::JustPort:
      if (!ip) {
        return false;
      }
      absl::StrAppend(&out, address->port());
      return true;
  }
  return false;
}

google::protobuf::Value AddressProvider::value(const Context& context,
                                               const stream_info::StreamInfo& info) const {
  if (part_ == Part::JustPort) {
    const network::address::InstanceConstSharedPtr& address = fn_(info);
    if (address == nullptr || address->type() != network::address::Type::Ip) {
      return nullValue();
    }
    return numberValue(address->port());
  }
  std::string text;
  return append(context, info, text) ? stringValue(std::move(text)) : nullValue();
}

bool ConstantProvider::append(const Context&, const stream_info::StreamInfo&,
                              std::string& out) const {
  if (!value_.has_value()) {
    return false;
  }
  out.append(*value_);
  return true;
}

google::protobuf::Value ConstantProvider::value(const Context&,
                                                const stream_info::StreamInfo&) const {
  return value_.has_value() ? stringValue(*value_) : nullValue();
}

bool StartTimeProvider::append(const Context&, const stream_info::StreamInfo& info,
                               std::string& out) const {
  formatter_.appendTo(info.start_time, out);
  return true;
}

google::protobuf::Value StartTimeProvider::value(const Context& context,
                                                 const stream_info::StreamInfo& info) const {
  std::string text;
  append(context, info, text);
  return stringValue(std::move(text));
}

bool FilterStateProvider::append(const Context&, const stream_info::StreamInfo& info,
                                 std::string& out) const {
  if (info.filter_state == nullptr) {
    return false;
  }
  const stream_info::FilterState::Object* object = info.filter_state->getData(key_);
  if (object == nullptr) {
    return false;
  }
  const std::optional<std::string> text = object->serializeAsString();
  if (!text.has_value()) {
    return false;
  }
  const size_t start = out.size();
  if (plain_) {
    out.append(*text);
  } else {
    JsonWriter::appendString(*text, out);
  }
  truncateAppended(out, start, max_length_);
  return true;
}

google::protobuf::Value FilterStateProvider::value(const Context&,
                                                   const stream_info::StreamInfo& info) const {
  if (info.filter_state == nullptr) {
    return nullValue();
  }
  const stream_info::FilterState::Object* object = info.filter_state->getData(key_);
  if (object == nullptr) {
    return nullValue();
  }
  std::optional<std::string> text = object->serializeAsString();
  if (!text.has_value()) {
    return nullValue();
  }
  // TYPED: the object's JSON value, which for a string object is the string itself.
  if (plain_ && max_length_.has_value() && text->size() > *max_length_) {
    text->resize(*max_length_);
  }
  return stringValue(std::move(*text));
}

const google::protobuf::Value* DynamicMetadataProvider::find(const stream_info::StreamInfo& info,
                                                             google::protobuf::Value& whole) const {
  const auto& filter_metadata = info.dynamic_metadata.filter_metadata();
  const auto it = filter_metadata.find(namespace_);
  if (it == filter_metadata.end()) {
    return nullptr;
  }
  if (path_.empty()) {
    *whole.mutable_struct_value() = it->second;
    return &whole;
  }
  const google::protobuf::Struct* current = &it->second;
  const google::protobuf::Value* value = nullptr;
  for (size_t i = 0; i < path_.size(); ++i) {
    const auto field = current->fields().find(path_[i]);
    if (field == current->fields().end()) {
      return nullptr;
    }
    value = &field->second;
    if (i + 1 < path_.size()) {
      if (value->kind_case() != google::protobuf::Value::kStructValue) {
        return nullptr;
      }
      current = &value->struct_value();
    }
  }
  if (value == nullptr || value->kind_case() == google::protobuf::Value::KIND_NOT_SET ||
      value->kind_case() == google::protobuf::Value::kNullValue) {
    return nullptr;
  }
  return value;
}

bool DynamicMetadataProvider::append(const Context&, const stream_info::StreamInfo& info,
                                     std::string& out) const {
  google::protobuf::Value whole;
  const google::protobuf::Value* value = find(info, whole);
  if (value == nullptr) {
    return false;
  }
  const size_t start = out.size();
  if (value->kind_case() == google::protobuf::Value::kStringValue) {
    out.append(value->string_value());
  } else {
    JsonWriter::appendValue(*value, out);
  }
  truncateAppended(out, start, max_length_);
  return true;
}

google::protobuf::Value DynamicMetadataProvider::value(const Context&,
                                                       const stream_info::StreamInfo& info) const {
  google::protobuf::Value whole;
  const google::protobuf::Value* value = find(info, whole);
  return value == nullptr ? nullValue() : *value;
}

google::protobuf::Value UnavailableProvider::value(const Context&,
                                                   const stream_info::StreamInfo&) const {
  return nullValue();
}

}  // namespace waystone::formatter
