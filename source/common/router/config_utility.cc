#include "source/common/router/config_utility.h"

#include "absl/strings/str_cat.h"

namespace waystone::router {
namespace {

// Ten thousand years: beyond that a millisecond count no longer fits comfortably in 64 bits
// once added to a clock, and no real config means it.
constexpr int64_t kMaxDurationSeconds = 315576000000;

}  // namespace

std::string ConfigUtility::field(absl::string_view parent, absl::string_view field) {
  if (parent.empty()) {
    return std::string(field);
  }
  return absl::StrCat(parent, ".", field);
}

std::string ConfigUtility::element(absl::string_view parent, absl::string_view field, int index) {
  return absl::StrCat(ConfigUtility::field(parent, field), "[", index, "]");
}

absl::Status ConfigUtility::error(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

absl::StatusOr<std::chrono::milliseconds> ConfigUtility::durationToMs(
    const google::protobuf::Duration& duration, absl::string_view path) {
  if (duration.seconds() < 0 || duration.nanos() < 0) {
    return error(path, "duration must not be negative");
  }
  if (duration.seconds() > kMaxDurationSeconds || duration.nanos() > 999999999) {
    return error(path, "duration is out of range");
  }
  return std::chrono::milliseconds(duration.seconds() * 1000 + duration.nanos() / 1000000);
}

uint64_t ConfigUtility::denominator(envoy::type::v3::FractionalPercent::DenominatorType type) {
  switch (type) {
    case envoy::type::v3::FractionalPercent::TEN_THOUSAND:
      return 10000;
    case envoy::type::v3::FractionalPercent::MILLION:
      return 1000000;
    default:
      return 100;
  }
}

bool ConfigUtility::fractionEnabled(uint64_t numerator, uint64_t denominator,
                                    uint64_t random_value) {
  return random_value % denominator < numerator;
}

}  // namespace waystone::router
