#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/extensions/matching/input_matchers/ip/v3/ip.pb.h"

#include "source/common/matcher/input_matcher.h"
#include "source/common/matcher/ip_prefix_table.h"

namespace waystone::matcher {

// single_predicate.custom_match envoy.extensions.matching.input_matchers.ip.v3.Ip: the value,
// parsed as an IP address, lies in one of cidr_ranges. Absent or unparsable values do not match.
// (Envoy also counts unparsable values in <stat_prefix>.ip_parsing_failed; Waystone does not
// keep that counter.)
class IpInputMatcher : public InputMatcher {
 public:
  // `path` names the Ip message.
  static absl::StatusOr<InputMatcherPtr> create(
      const envoy::extensions::matching::input_matchers::ip::v3::Ip& config,
      absl::string_view path);

  bool match(const InputValue& value) const override;

 private:
  IpInputMatcher() = default;

  IpPrefixTable<bool> ranges_;
};

}  // namespace waystone::matcher
