#include "source/common/formatter/json_formatter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "source/common/formatter/json_writer.h"

namespace waystone::formatter {

absl::StatusOr<std::unique_ptr<JsonFormatter>> JsonFormatter::create(
    const google::protobuf::Struct& format, absl::string_view field_path, bool omit_empty_values) {
  absl::StatusOr<Node> root = buildObject(format, std::string(field_path));
  if (!root.ok()) {
    return root.status();
  }
  return std::unique_ptr<JsonFormatter>(new JsonFormatter(std::move(*root), omit_empty_values));
}

absl::StatusOr<JsonFormatter::Node> JsonFormatter::buildObject(
    const google::protobuf::Struct& value, const std::string& path) {
  std::vector<absl::string_view> names;
  names.reserve(value.fields_size());
  for (const auto& [name, field] : value.fields()) {
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  Node node;
  node.kind = Node::Kind::Object;
  for (const absl::string_view name : names) {
    const std::string child_path = path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
    absl::StatusOr<Node> child = build(value.fields().at(std::string(name)), child_path);
    if (!child.ok()) {
      return child.status();
    }
    std::string key;
    JsonWriter::appendString(name, key);
    node.keys.push_back(std::move(key));
    node.children.push_back(std::move(*child));
  }
  return node;
}

absl::StatusOr<JsonFormatter::Node> JsonFormatter::build(const google::protobuf::Value& value,
                                                         const std::string& path) {
  Node node;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStructValue:
      return buildObject(value.struct_value(), path);
    case google::protobuf::Value::kListValue: {
      node.kind = Node::Kind::Array;
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        absl::StatusOr<Node> child =
            build(value.list_value().values(i), absl::StrCat(path, "[", i, "]"));
        if (!child.ok()) {
          return child.status();
        }
        node.children.push_back(std::move(*child));
      }
      return node;
    }
    case google::protobuf::Value::kStringValue: {
      absl::StatusOr<std::vector<FormatSegment>> segments =
          SubstitutionFormatParser::parse(value.string_value());
      if (!segments.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": ", segments.status().message()));
      }
      const bool has_operator =
          std::any_of(segments->begin(), segments->end(),
                      [](const FormatSegment& segment) { return segment.provider != nullptr; });
      if (!has_operator) {
        node.kind = Node::Kind::Constant;
        JsonWriter::appendString(segments->empty() ? "" : (*segments)[0].literal,
                                 node.constant_json);
        return node;
      }
      node.kind = segments->size() == 1 ? Node::Kind::Single : Node::Kind::Template;
      node.segments = std::move(*segments);
      return node;
    }
    default:
      // Numbers, booleans and null are copied to the output as they are.
      node.kind = Node::Kind::Constant;
      JsonWriter::appendValue(value, node.constant_json);
      return node;
  }
}

bool JsonFormatter::appendNode(const Node& node, const Context& context,
                               const stream_info::StreamInfo& info, std::string& out) const {
  switch (node.kind) {
    case Node::Kind::Constant:
      out.append(node.constant_json);
      return true;
    case Node::Kind::Single: {
      const google::protobuf::Value value = node.segments[0].provider->value(context, info);
      if (value.kind_case() == google::protobuf::Value::kNullValue && omit_empty_values_) {
        return false;
      }
      JsonWriter::appendValue(value, out);
      return true;
    }
    case Node::Kind::Template: {
      std::string text;
      appendSegments(node.segments, context, info, omit_empty_values_, text);
      JsonWriter::appendString(text, out);
      return true;
    }
    case Node::Kind::Array: {
      out.push_back('[');
      bool first = true;
      for (const Node& child : node.children) {
        const size_t mark = out.size();
        if (!first) {
          out.push_back(',');
        }
        if (appendNode(child, context, info, out)) {
          first = false;
        } else {
          out.resize(mark);
        }
      }
      out.push_back(']');
      return true;
    }
    case Node::Kind::Object: {
      out.push_back('{');
      bool first = true;
      for (size_t i = 0; i < node.children.size(); ++i) {
        const size_t mark = out.size();
        if (!first) {
          out.push_back(',');
        }
        out.append(node.keys[i]);
        out.push_back(':');
        if (appendNode(node.children[i], context, info, out)) {
          first = false;
        } else {
          out.resize(mark);
        }
      }
      out.push_back('}');
      return true;
    }
  }
  return false;
}

void JsonFormatter::formatTo(const Context& context, const stream_info::StreamInfo& info,
                             std::string& out) const {
  appendNode(root_, context, info, out);
  out.push_back('\n');
}

}  // namespace waystone::formatter
