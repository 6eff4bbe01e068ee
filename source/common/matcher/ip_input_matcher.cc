#include "source/common/matcher/ip_input_matcher.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace waystone::matcher {

absl::StatusOr<InputMatcherPtr> IpInputMatcher::create(
    const envoy::extensions::matching::input_matchers::ip::v3::Ip& config, absl::string_view path) {
  if (config.cidr_ranges().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".cidr_ranges: at least one range is required"));
  }
  if (config.stat_prefix().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".stat_prefix: must not be empty"));
  }
  std::unique_ptr<IpInputMatcher> matcher(new IpInputMatcher());
  for (int i = 0; i < config.cidr_ranges_size(); ++i) {
    absl::StatusOr<CidrRange> range =
        CidrRange::fromProto(config.cidr_ranges(i), absl::StrCat(path, ".cidr_ranges[", i, "]"));
    if (!range.ok()) {
      return range.status();
    }
    matcher->ranges_.entry(*range) = true;
  }
  return InputMatcherPtr(std::move(matcher));
}

bool IpInputMatcher::match(const InputValue& value) const {
  if (!value.present()) {
    return false;
  }
  const std::optional<IpAddress> address = IpAddress::parse(value.value());
  return address.has_value() && ranges_.longestMatch(*address) != nullptr;
}

}  // namespace waystone::matcher
