#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace waystone::matcher {

// What a DataInput extracted from the matching data: nothing (Envoy's monostate, e.g. no SNI or
// a pipe address for DestinationIPInput) or a string. An input that reads a string the matching
// data already holds hands out a view of it, so most lookups allocate nothing; an input that
// computes its value (a port number, the joined ALPN list) owns it.
class InputValue {
 public:
  // No value.
  InputValue() = default;

  // `value` must outlive the match (it points into the matching data).
  static InputValue view(absl::string_view value) {
    InputValue result;
    result.present_ = true;
    result.view_ = value;
    return result;
  }
  static InputValue owned(std::string value) {
    InputValue result;
    result.present_ = true;
    result.owned_ = true;
    result.storage_ = std::move(value);
    return result;
  }

  bool present() const { return present_; }
  // Empty when absent.
  absl::string_view value() const { return owned_ ? absl::string_view(storage_) : view_; }

 private:
  bool present_ = false;
  bool owned_ = false;
  absl::string_view view_;
  std::string storage_;
};

}  // namespace waystone::matcher
