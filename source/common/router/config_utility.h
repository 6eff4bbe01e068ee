#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/type/v3/percent.pb.h"
#include "google/protobuf/duration.pb.h"

namespace waystone::router {

// Small helpers shared by the route table builders: field paths for error messages, durations
// and fractional percentages.
class ConfigUtility {
 public:
  // "parent.field", or "field" when parent is empty.
  static std::string field(absl::string_view parent, absl::string_view field);
  // "parent.field[index]".
  static std::string element(absl::string_view parent, absl::string_view field, int index);
  // InvalidArgument "path: message" (Envoy-style: the field path first).
  static absl::Status error(absl::string_view path, absl::string_view message);

  // A Duration as whole milliseconds (truncated). Negative or absurdly large durations are
  // errors naming `path`.
  static absl::StatusOr<std::chrono::milliseconds> durationToMs(
      const google::protobuf::Duration& duration, absl::string_view path);

  // 100, 10000 or 1000000.
  static uint64_t denominator(envoy::type::v3::FractionalPercent::DenominatorType type);
  // Envoy's evaluateFractionalPercent: random_value % denominator < numerator.
  static bool fractionEnabled(uint64_t numerator, uint64_t denominator, uint64_t random_value);
};

}  // namespace waystone::router
