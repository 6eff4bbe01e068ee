#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

#include "source/common/formatter/formatter.h"
#include "source/common/formatter/substitution_format_parser.h"

namespace waystone::formatter {

// Envoy's `json_format`: a Struct whose string values are format strings, rendered as one JSON
// object per evaluation, followed by "\n" (as Envoy writes access log lines). Typed, as
// Envoy's json_format is now: a value that is exactly one operator ("%RESPONSE_CODE%") keeps
// the operator's type (a number, a string, a struct for DYNAMIC_METADATA) and is null when
// missing; a value mixing text and operators is a string where missing parts are "-". Nested
// structs and lists are formatted recursively; numbers, booleans and nulls pass through.
// Object keys come out sorted. With `omit_empty_values`, keys whose value is null are left out
// and missing parts of strings are empty.
class JsonFormatter : public Formatter {
 public:
  // Errors name the offending key, e.g. "<field_path>.json_format.status: unknown command ...".
  static absl::StatusOr<std::unique_ptr<JsonFormatter>> create(
      const google::protobuf::Struct& format, absl::string_view field_path,
      bool omit_empty_values = false);

  void formatTo(const Context& context, const stream_info::StreamInfo& info,
                std::string& out) const override;

 private:
  struct Node {
    enum class Kind { Object, Array, Constant, Single, Template };
    Kind kind = Kind::Constant;
    std::vector<std::string> keys;        // Object: JSON-quoted keys, sorted
    std::vector<Node> children;           // Object (one per key) and Array
    std::string constant_json;            // Constant: already serialized
    std::vector<FormatSegment> segments;  // Single (one operator) and Template
  };

  JsonFormatter(Node root, bool omit_empty_values)
      : root_(std::move(root)), omit_empty_values_(omit_empty_values) {}

  static absl::StatusOr<Node> build(const google::protobuf::Value& value, const std::string& path);
  static absl::StatusOr<Node> buildObject(const google::protobuf::Struct& value,
                                          const std::string& path);
  // Appends `node`; returns false (and appends nothing) for a null operator value that
  // omit_empty_values drops.
  bool appendNode(const Node& node, const Context& context, const stream_info::StreamInfo& info,
                  std::string& out) const;

  const Node root_;
  const bool omit_empty_values_;
};

}  // namespace waystone::formatter
