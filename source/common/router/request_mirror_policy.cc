#include "source/common/router/request_mirror_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {

absl::StatusOr<RequestMirrorPolicy> RequestMirrorPolicy::create(
    const envoy::config::route::v3::RouteAction::RequestMirrorPolicy& config,
    absl::string_view path) {
  if (config.cluster().empty() == config.cluster_header().empty()) {
    return ConfigUtility::error(path, "exactly one of cluster or cluster_header must be specified");
  }
  RequestMirrorPolicy policy;
  policy.cluster_ = config.cluster();
  policy.cluster_header_ = absl::AsciiStrToLower(config.cluster_header());
  if (config.has_runtime_fraction()) {
    const auto& fraction = config.runtime_fraction().default_value();
    policy.numerator_ = fraction.numerator();
    policy.denominator_ = ConfigUtility::denominator(fraction.denominator());
  }
  if (config.has_trace_sampled()) {
    policy.trace_sampled_ = config.trace_sampled().value();
  }
  policy.disable_shadow_host_suffix_append_ = config.disable_shadow_host_suffix_append();
  return policy;
}

absl::StatusOr<std::vector<RequestMirrorPolicy>> RequestMirrorPolicy::createAll(
    const google::protobuf::RepeatedPtrField<
        envoy::config::route::v3::RouteAction::RequestMirrorPolicy>& configs,
    absl::string_view path) {
  std::vector<RequestMirrorPolicy> policies;
  policies.reserve(configs.size());
  for (int i = 0; i < configs.size(); ++i) {
    auto policy = create(configs.Get(i), absl::StrCat(path, "[", i, "]"));
    if (!policy.ok()) {
      return policy.status();
    }
    policies.push_back(std::move(*policy));
  }
  return policies;
}

std::string RequestMirrorPolicy::shadowHost(absl::string_view host) {
  // Envoy's getPortStart(): the last ':' starts the port unless a ']' (IPv6 literal) follows it.
  const size_t colon = host.rfind(':');
  const size_t bracket = host.rfind(']');
  if (colon == absl::string_view::npos || (bracket != absl::string_view::npos && bracket > colon)) {
    return absl::StrCat(host, "-shadow");
  }
  return absl::StrCat(host.substr(0, colon), "-shadow", host.substr(colon));
}

bool RequestMirrorPolicy::shouldMirror(uint64_t random_value) const {
  return ConfigUtility::fractionEnabled(numerator_, denominator_, random_value);
}

}  // namespace waystone::router
