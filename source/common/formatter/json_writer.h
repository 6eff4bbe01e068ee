#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace waystone::formatter {

// Compact JSON for protobuf Struct values, as the formatter emits them: object keys sorted (the
// protobuf map has no order, and sorted output is stable for tests and diffs), integers without
// a fraction ("200", not "200.0"), other numbers in their shortest round-trip form, NaN and
// infinities as null (JSON has no spelling for them), strings escaped as JSON requires.
class JsonWriter {
 public:
  static void appendValue(const google::protobuf::Value& value, std::string& out);
  static void appendStruct(const google::protobuf::Struct& value, std::string& out);
  static void appendNumber(double value, std::string& out);
  static void appendString(absl::string_view value, std::string& out);
};

}  // namespace waystone::formatter
