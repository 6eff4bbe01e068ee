#include "source/common/matcher/input_matcher_factory.h"

#include "absl/strings/str_cat.h"
#include "envoy/extensions/matching/input_matchers/ip/v3/ip.pb.h"

#include "source/common/matcher/ip_input_matcher.h"
#include "source/common/matcher/string_input_matcher.h"
#include "source/common/protobuf/utility.h"

namespace waystone::matcher {

using SinglePredicate = xds::type::matcher::v3::Matcher::MatcherList::Predicate::SinglePredicate;

absl::StatusOr<InputMatcherPtr> createInputMatcher(const SinglePredicate& predicate,
                                                   const std::string& path) {
  switch (predicate.matcher_case()) {
    case SinglePredicate::kValueMatch:
      return StringInputMatcher::create(predicate.value_match(),
                                        absl::StrCat(path, ".value_match"));
    case SinglePredicate::kCustomMatch: {
      const std::string config_path = absl::StrCat(path, ".custom_match.typed_config");
      const std::string type = protobuf::typeUrlOf(predicate.custom_match().typed_config());
      envoy::extensions::matching::input_matchers::ip::v3::Ip ip;
      if (type == ip.GetDescriptor()->full_name()) {
        absl::Status status =
            protobuf::unpackTo(predicate.custom_match().typed_config(), ip, {}, config_path);
        if (!status.ok()) {
          return status;
        }
        return IpInputMatcher::create(ip, config_path);
      }
      return absl::InvalidArgumentError(
          absl::StrCat(config_path, ": unsupported input matcher type '", type,
                       "' (supported: envoy.extensions.matching.input_matchers.ip.v3.Ip)"));
    }
    case SinglePredicate::MATCHER_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": one of value_match or custom_match is required"));
}

}  // namespace waystone::matcher
