#include "source/common/stats/tag_extractor.h"

#include <algorithm>
#include <optional>
#include <regex>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "re2/re2.h"

namespace waystone::stats {

namespace {

// A default rule: tag name, regex (with the placeholders below), a substring the name must
// contain for the rule to be worth running (may be empty), and a value that disqualifies a
// match (may be empty).
struct DefaultRule {
  absl::string_view name;
  absl::string_view regex;
  absl::string_view substring;
  absl::string_view negative_value;
};

// Placeholders keep the rules below readable.
std::string expandPlaceholders(absl::string_view regex) {
  // An IPv4 address or a bracketed IPv6 address with ':' turned into '_', then "_<port>":
  // Envoy's listener stat prefix for an address.
  constexpr absl::string_view kAddress = R"((?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F_]+\])_\d+)";
  // One dot-free segment of a name.
  constexpr absl::string_view kSegment = R"([^.]+)";
  return absl::StrReplaceAll(
      regex, {{"<ADDRESS>", kAddress},
              {"<SEGMENT>", kSegment},
              // An http connection manager stat prefix: one segment, or something ending in an
              // address ("inbound_0.0.0.0_80", as Istio names them) kept whole.
              {"<HCM_PREFIX>", absl::StrCat("(?:(?:[^.]*_)?", kAddress, "|", kSegment, ")")},
              {"<CIPHER>", R"([\w-]+)"},
              {"<TLS_VERSION>", R"(TLSv\d\.\d)"},
              {"<ROUTE_CONFIG_NAME>", R"([\w\-./]+)"}});
}

// Envoy's default tag names; the regexes express the same matches as Envoy's defaults.
constexpr DefaultRule kDefaultRules[] = {
    // <...>_rq_(<3 digit code>)
    {"envoy.response_code", R"(_rq(_(\d{3}))$)", "_rq_", ""},
    // <...>_rq_(<digit>)xx
    {"envoy.response_code_class", R"(_rq_((\d))xx$)", "_rq_", ""},
    // listener.[<address>.]ssl.ciphers.(<cipher>)
    {"envoy.ssl_cipher", R"(^listener\..*?\.ssl\.ciphers(\.(<CIPHER>))$)", ".ssl.ciphers.", ""},
    // (listener|cluster).[<name>.]ssl.curves.(<curve>)
    {"envoy.ssl_curve", R"(^(?:listener|cluster)\..*?\.ssl\.curves(\.(<CIPHER>))$)", ".ssl.curves.",
     ""},
    // (listener|cluster).[<name>.]ssl.sigalgs.(<algorithm>)
    {"envoy.ssl_sigalg", R"(^(?:listener|cluster)\..*?\.ssl\.sigalgs(\.(<CIPHER>))$)",
     ".ssl.sigalgs.", ""},
    // (listener|cluster).[<name>.]ssl.versions.(<version>)
    {"envoy.ssl_version", R"(^(?:listener|cluster)\..*?\.ssl\.versions(\.(<TLS_VERSION>))$)",
     ".ssl.versions.", ""},
    // cluster.[<cluster>.]ssl.ciphers.(<cipher>)  (Envoy's name has no "envoy." here)
    {"cipher_suite", R"(^cluster\.<SEGMENT>\.ssl\.ciphers(\.(<CIPHER>))$)", ".ssl.ciphers.", ""},
    // tcp.(<stat_prefix>.)<...>
    {"envoy.tcp_prefix", R"(^tcp\.((<SEGMENT>)\.).+$)", "", ""},
    // cluster.(<cluster_name>.)<...>
    {"envoy.cluster_name", R"(^cluster\.((<SEGMENT>)\.).+$)", "", ""},
    // listener.[<address>.]http.(<stat_prefix>.)<...>
    {"envoy.http_conn_manager_prefix", R"(^listener\..*?\.http\.((<HCM_PREFIX>)\.))", ".http.", ""},
    // http.(<stat_prefix>.)<...>
    {"envoy.http_conn_manager_prefix", R"(^http\.((<HCM_PREFIX>)\.).+$)", "", ""},
    // (listener.<address|stat_prefix>|server|listener_manager|...).worker_(<id>.)<...>
    {"envoy.worker_id",
     R"(^(?:listener\.(?:<ADDRESS>|<SEGMENT>)|server|listener_manager|thread_local_cluster_manager)\.worker_((\d+)\.))",
     ".worker_", ""},
    // listener.(<address|stat_prefix>.)<...>, except the admin listener.
    {"envoy.listener_address", R"(^listener\.((<ADDRESS>|<SEGMENT>)\.))", "", "admin"},
    // vhost.(<virtual_host>.)<...>
    {"envoy.virtual_host", R"(^vhost\.((<SEGMENT>)\.).+$)", "", ""},
    // vhost.[<virtual_host>.]vcluster.(<virtual_cluster>.)<...>
    {"envoy.virtual_cluster", R"(^vhost\.<SEGMENT>\.vcluster\.((<SEGMENT>)\.).+$)", ".vcluster.",
     ""},
    // vhost.[<virtual_host>.]route.(<route_stat_prefix>.)<...>
    {"envoy.route", R"(^vhost\.<SEGMENT>\.route\.((<SEGMENT>)\.).+$)", ".route.", ""},
    // http.[<stat_prefix>.]rds.(<route_config_name>.)<stat>
    {"envoy.rds_route_config", R"(^http\.<HCM_PREFIX>\.rds\.((<ROUTE_CONFIG_NAME>)\.)\w+?$)",
     ".rds.", ""},
    // http.[<stat_prefix>.]fault.(<downstream_cluster>.)<...>
    {"envoy.fault_downstream_cluster", R"(^http\.<HCM_PREFIX>\.fault\.((<SEGMENT>)\.).+$)",
     ".fault.", ""},
    // (<stat_prefix>.)http_local_rate_limit.<...>
    {"envoy.local_http_ratelimit_prefix", R"(^((<SEGMENT>)\.)http_local_rate_limit\..+$)",
     ".http_local_rate_limit.", ""},
    // local_rate_limit.(<stat_prefix>.)<...>
    {"envoy.local_network_ratelimit_prefix", R"(^local_rate_limit\.((<SEGMENT>)\.).+$)", "", ""},
    // http.[<stat_prefix>.]rbac.[<rules_stat_prefix>.]policy.(<policy>.)(allowed|denied|...)
    {"envoy.rbac_policy_name",
     R"(^http\.<HCM_PREFIX>\.rbac\.(?:<SEGMENT>\.)?policy\.((<SEGMENT>)\.)(?:allowed|shadow_allowed|denied|shadow_denied)$)",
     ".policy.", ""},
    // (<stat_prefix>.)rbac.<...>  (the network RBAC filter)
    {"envoy.rbac_prefix", R"(^((<SEGMENT>)\.)rbac\..+$)", ".rbac.", ""},
    // http.[<stat_prefix>.]rbac.(<rules_stat_prefix>.)<...>, except "policy"
    {"envoy.rbac_http_prefix", R"(^http\.<HCM_PREFIX>\.rbac\.((<SEGMENT>)\.).+$)", ".rbac.",
     "policy"},
};

// The name's first token that a rule requires ("cluster" for "^cluster\\."), or "" when the
// rule may match names starting with anything; lets extract() skip most rules cheaply.
std::string requiredFirstToken(absl::string_view regex) {
  if (!absl::ConsumePrefix(&regex, "^")) {
    return "";
  }
  size_t length = 0;
  while (length < regex.size() &&
         (absl::ascii_isalnum(static_cast<unsigned char>(regex[length])) || regex[length] == '_')) {
    ++length;
  }
  if (length == 0 || !absl::StartsWith(regex.substr(length), "\\.")) {
    return "";
  }
  return std::string(regex.substr(0, length));
}

}  // namespace

// One compiled rule. RE2 when the regex is RE2 syntax (all defaults); otherwise std::regex,
// because Envoy evaluates bootstrap stats_tags with std::regex and Istio's bootstrap relies on
// its lookahead ("^listener(?=\\.)..."). Rules run only when a stat is created, never per
// request, so std::regex's speed does not matter.
class TagExtractor::Rule {
 public:
  static absl::StatusOr<std::unique_ptr<const Rule>> create(absl::string_view tag_name,
                                                            absl::string_view regex,
                                                            absl::string_view required_substring,
                                                            absl::string_view negative_value) {
    auto rule = std::unique_ptr<Rule>(new Rule());
    rule->tag_name_ = std::string(tag_name);
    rule->required_substring_ = std::string(required_substring);
    rule->negative_value_ = std::string(negative_value);
    rule->first_token_ = requiredFirstToken(regex);
    RE2::Options options;
    options.set_log_errors(false);
    auto re2 = std::make_unique<RE2>(re2::StringPiece(regex.data(), regex.size()), options);
    if (re2->ok()) {
      if (re2->NumberOfCapturingGroups() < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("stats tag '", tag_name, "': regex '", regex, "' has no capture group"));
      }
      rule->re2_ = std::move(re2);
      return std::unique_ptr<const Rule>(std::move(rule));
    }
    const std::string re2_error = re2->error();
    try {
      rule->std_regex_.emplace(std::string(regex), std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("stats tag '", tag_name, "': invalid regex '", regex, "': ", re2_error));
    }
    if (rule->std_regex_->mark_count() < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("stats tag '", tag_name, "': regex '", regex, "' has no capture group"));
    }
    return std::unique_ptr<const Rule>(std::move(rule));
  }

  const std::string& tagName() const { return tag_name_; }
  const std::string& firstToken() const { return first_token_; }

  // On a match, appends the tag and the [begin, end) range of `name` to remove.
  void apply(absl::string_view name, TagVector& tags,
             std::vector<std::pair<size_t, size_t>>& removals) const {
    if (!required_substring_.empty() && !absl::StrContains(name, required_substring_)) {
      return;
    }
    size_t remove_begin = 0;
    size_t remove_end = 0;
    absl::string_view value;
    if (re2_ != nullptr) {
      re2::StringPiece remove_group;
      re2::StringPiece value_group;
      const RE2::Arg remove_arg(&remove_group);
      const RE2::Arg value_arg(&value_group);
      const RE2::Arg* args[] = {&remove_arg, &value_arg};
      const int groups = std::min(re2_->NumberOfCapturingGroups(), 2);
      if (!RE2::PartialMatchN(re2::StringPiece(name.data(), name.size()), *re2_, args, groups) ||
          remove_group.data() == nullptr) {
        return;
      }
      remove_begin = static_cast<size_t>(remove_group.data() - name.data());
      remove_end = remove_begin + remove_group.size();
      value = groups == 2 && value_group.data() != nullptr
                  ? absl::string_view(value_group.data(), value_group.size())
                  : absl::string_view(remove_group.data(), remove_group.size());
    } else {
      std::match_results<absl::string_view::const_iterator> match;
      try {
        if (!std::regex_search(name.begin(), name.end(), match, *std_regex_)) {
          return;
        }
      } catch (const std::regex_error&) {
        return;  // Too complex for std::regex on this name: no tag rather than no stat.
      }
      if (!match[1].matched) {
        return;
      }
      remove_begin = static_cast<size_t>(match[1].first - name.begin());
      remove_end = static_cast<size_t>(match[1].second - name.begin());
      const auto& value_match = match.size() > 2 && match[2].matched ? match[2] : match[1];
      value = name.substr(static_cast<size_t>(value_match.first - name.begin()),
                          static_cast<size_t>(value_match.length()));
    }
    if (!negative_value_.empty() && value == negative_value_) {
      return;
    }
    tags.push_back({tag_name_, std::string(value)});
    removals.emplace_back(remove_begin, remove_end);
  }

 private:
  Rule() = default;

  std::string tag_name_;
  std::string required_substring_;
  std::string negative_value_;
  std::string first_token_;
  std::unique_ptr<RE2> re2_;
  std::optional<std::regex> std_regex_;
};

TagExtractor::TagExtractor() = default;
TagExtractor::~TagExtractor() = default;

absl::Status TagExtractor::addRule(absl::string_view tag_name, absl::string_view regex,
                                   absl::string_view required_substring,
                                   absl::string_view negative_value) {
  absl::StatusOr<std::unique_ptr<const Rule>> rule =
      Rule::create(tag_name, regex, required_substring, negative_value);
  if (!rule.ok()) {
    return rule.status();
  }
  const Rule* raw = rule->get();
  rules_.push_back(*std::move(rule));
  if (raw->firstToken().empty()) {
    rules_without_prefix_.push_back(raw);
  } else {
    rules_by_prefix_[raw->firstToken()].push_back(raw);
  }
  return absl::OkStatus();
}

std::shared_ptr<const TagExtractor> TagExtractor::defaultExtractor() {
  static const std::shared_ptr<const TagExtractor>& instance =
      *new std::shared_ptr<const TagExtractor>([] {
        absl::StatusOr<std::shared_ptr<const TagExtractor>> extractor = create({}, true);
        // The default rules are constants: failing to compile them is a programming error that
        // every test of this library catches.
        if (!extractor.ok()) {
          std::abort();
        }
        return *std::move(extractor);
      }());
  return instance;
}

absl::StatusOr<std::shared_ptr<const TagExtractor>> TagExtractor::create(
    const std::vector<TagSpecifier>& specifiers, bool use_all_default_tags) {
  auto extractor = std::shared_ptr<TagExtractor>(new TagExtractor());
  absl::flat_hash_set<std::string> names;
  if (use_all_default_tags) {
    for (const DefaultRule& rule : kDefaultRules) {
      names.insert(std::string(rule.name));
      absl::Status status = extractor->addRule(rule.name, expandPlaceholders(rule.regex),
                                               rule.substring, rule.negative_value);
      if (!status.ok()) {
        return status;
      }
    }
  }
  for (const TagSpecifier& specifier : specifiers) {
    if (!names.insert(specifier.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("Tag name '", specifier.name, "' specified twice."));
    }
    if (!specifier.regex.empty()) {
      absl::Status status = extractor->addRule(specifier.name, specifier.regex, "", "");
      if (!status.ok()) {
        return status;
      }
    } else if (!specifier.fixed_value.empty()) {
      extractor->fixed_tags_.push_back({specifier.name, specifier.fixed_value});
    } else {
      // As Envoy: a bare tag name selects the default rule(s) of that name.
      bool found = false;
      for (const DefaultRule& rule : kDefaultRules) {
        if (rule.name == specifier.name) {
          found = true;
          absl::Status status = extractor->addRule(rule.name, expandPlaceholders(rule.regex),
                                                   rule.substring, rule.negative_value);
          if (!status.ok()) {
            return status;
          }
        }
      }
      if (!found) {
        return absl::InvalidArgumentError(
            absl::StrCat("No regex specified for tag specifier and no default regex for name: '",
                         specifier.name, "'"));
      }
    }
  }
  return std::shared_ptr<const TagExtractor>(std::move(extractor));
}

std::string TagExtractor::extract(absl::string_view name, TagVector& tags) const {
  tags.insert(tags.end(), fixed_tags_.begin(), fixed_tags_.end());
  std::vector<std::pair<size_t, size_t>> removals;
  for (const Rule* rule : rules_without_prefix_) {
    rule->apply(name, tags, removals);
  }
  const size_t dot = name.find('.');
  if (dot != absl::string_view::npos) {
    const auto it = rules_by_prefix_.find(name.substr(0, dot));
    if (it != rules_by_prefix_.end()) {
      for (const Rule* rule : it->second) {
        rule->apply(name, tags, removals);
      }
    }
  }
  if (removals.empty()) {
    return std::string(name);
  }
  // Ranges may overlap or nest (several rules cutting the same prefix): keep every character
  // outside all of them.
  std::sort(removals.begin(), removals.end());
  std::string result;
  result.reserve(name.size());
  size_t position = 0;
  for (const auto& [begin, end] : removals) {
    if (begin > position) {
      result.append(name.data() + position, begin - position);
    }
    position = std::max(position, end);
  }
  if (position < name.size()) {
    result.append(name.data() + position, name.size() - position);
  }
  return result;
}

}  // namespace waystone::stats
