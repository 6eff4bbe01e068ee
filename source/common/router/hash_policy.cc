#include "source/common/router/hash_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "source/common/router/config_utility.h"
#include "source/common/router/hash_util.h"
#include "source/common/router/path_utility.h"

namespace waystone::router {
namespace {

using HashPolicyProto = envoy::config::route::v3::RouteAction::HashPolicy;

// The value of cookie `name` in the request's Cookie headers ("" if absent); surrounding double
// quotes are removed, as Envoy's parseCookieValue does.
absl::string_view findCookie(const http::HeaderMap& headers, absl::string_view name) {
  for (const absl::string_view header : headers.getAll("cookie")) {
    for (absl::string_view pair : absl::StrSplit(header, ';')) {
      pair = absl::StripLeadingAsciiWhitespace(pair);
      const size_t equals = pair.find('=');
      if (equals == absl::string_view::npos || pair.substr(0, equals) != name) {
        continue;
      }
      absl::string_view value = pair.substr(equals + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return {};
}

}  // namespace

absl::StatusOr<HashPolicy> HashPolicy::create(
    const google::protobuf::RepeatedPtrField<HashPolicyProto>& configs, uint32_t max_program_size,
    absl::string_view path) {
  HashPolicy policy;
  for (int i = 0; i < configs.size(); ++i) {
    const HashPolicyProto& config = configs.Get(i);
    const std::string element_path = absl::StrCat(path, "[", i, "]");
    Method method{Kind::kHeader, "", nullptr, "", std::nullopt, config.terminal()};
    switch (config.policy_specifier_case()) {
      case HashPolicyProto::kHeader:
        method.kind = Kind::kHeader;
        method.name = absl::AsciiStrToLower(config.header().header_name());
        if (config.header().has_regex_rewrite()) {
          const std::string rewrite_path =
              ConfigUtility::field(element_path, "header.regex_rewrite");
          auto regex =
              CompiledRegex::create(config.header().regex_rewrite().pattern(), max_program_size,
                                    ConfigUtility::field(rewrite_path, "pattern"));
          if (!regex.ok()) {
            return regex.status();
          }
          method.substitution = config.header().regex_rewrite().substitution();
          absl::Status status = (*regex)->checkSubstitution(
              method.substitution, ConfigUtility::field(rewrite_path, "substitution"));
          if (!status.ok()) {
            return status;
          }
          method.regex = std::move(*regex);
        }
        break;
      case HashPolicyProto::kCookie:
        method.kind = Kind::kCookie;
        method.name = config.cookie().name();
        if (config.cookie().has_ttl()) {
          auto ttl = ConfigUtility::durationToMs(config.cookie().ttl(),
                                                 ConfigUtility::field(element_path, "cookie.ttl"));
          if (!ttl.ok()) {
            return ttl.status();
          }
          CookieSpec spec;
          spec.name = config.cookie().name();
          spec.path = config.cookie().path();
          spec.ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
          for (const auto& attribute : config.cookie().attributes()) {
            spec.attributes.emplace_back(attribute.name(), attribute.value());
          }
          method.cookie = std::move(spec);
        }
        break;
      case HashPolicyProto::kConnectionProperties:
        if (!config.connection_properties().source_ip()) {
          // A connection_properties policy without source_ip never yields a hash.
          continue;
        }
        method.kind = Kind::kSourceIp;
        break;
      case HashPolicyProto::kQueryParameter:
        method.kind = Kind::kQueryParameter;
        method.name = config.query_parameter().name();
        break;
      case HashPolicyProto::kFilterState:
        return ConfigUtility::error(ConfigUtility::field(element_path, "filter_state"),
                                    "filter_state hash policies are not supported");
      case HashPolicyProto::POLICY_SPECIFIER_NOT_SET:
        return ConfigUtility::error(element_path, "a hash policy specifier is required");
    }
    if (method.name.empty() && method.kind != Kind::kSourceIp) {
      return ConfigUtility::error(element_path, "the hash policy needs a non-empty name");
    }
    policy.methods_.push_back(std::move(method));
  }
  return policy;
}

std::optional<uint64_t> HashPolicy::evaluate(const Method& method, const http::HeaderMap& headers,
                                             absl::string_view downstream_ip,
                                             const AddCookieCallback& add_cookie) const {
  switch (method.kind) {
    case Kind::kHeader: {
      std::vector<absl::string_view> values = headers.getAll(method.name);
      if (values.empty()) {
        return std::nullopt;
      }
      std::vector<std::string> rewritten;
      if (method.regex != nullptr) {
        rewritten.reserve(values.size());
        for (absl::string_view& value : values) {
          rewritten.push_back(method.regex->replaceAll(value, method.substitution));
          value = rewritten.back();
        }
      }
      // The same set of values hashes the same whatever their order on the wire.
      std::sort(values.begin(), values.end());
      return HashUtil::xxHash64(absl::MakeConstSpan(values));
    }
    case Kind::kCookie: {
      const absl::string_view value = findCookie(headers, method.name);
      if (!value.empty()) {
        return HashUtil::xxHash64(value);
      }
      if (method.cookie.has_value() && add_cookie) {
        const std::string generated = add_cookie(*method.cookie);
        if (!generated.empty()) {
          return HashUtil::xxHash64(generated);
        }
      }
      return std::nullopt;
    }
    case Kind::kSourceIp:
      if (downstream_ip.empty()) {
        return std::nullopt;
      }
      return HashUtil::xxHash64(downstream_ip);
    case Kind::kQueryParameter: {
      const std::optional<absl::string_view> value =
          PathUtility::findQueryParameter(headers.path(), method.name);
      if (!value.has_value()) {
        return std::nullopt;
      }
      return HashUtil::xxHash64(*value);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> HashPolicy::generateHash(const http::HeaderMap& headers,
                                                 absl::string_view downstream_ip,
                                                 const AddCookieCallback& add_cookie) const {
  std::optional<uint64_t> hash;
  for (const Method& method : methods_) {
    const std::optional<uint64_t> next = evaluate(method, headers, downstream_ip, add_cookie);
    if (next.has_value()) {
      // Rotating keeps two identical policies from cancelling each other out.
      const uint64_t previous = hash.has_value() ? ((*hash << 1) | (*hash >> 63)) : 0;
      hash = previous ^ *next;
    }
    if (method.terminal && hash.has_value()) {
      break;
    }
  }
  return hash;
}

}  // namespace waystone::router
