#include "source/server/listener_filter_predicate.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace waystone::server {

using Predicate = std::function<bool(const network::ConnectionSocket&)>;
using envoy::config::listener::v3::ListenerFilterChainMatchPredicate;

absl::StatusOr<Predicate> compileListenerFilterPredicate(
    const ListenerFilterChainMatchPredicate& predicate, const std::string& path) {
  auto compileSet = [&](const ListenerFilterChainMatchPredicate::MatchSet& set,
                        const std::string& set_path) -> absl::StatusOr<std::vector<Predicate>> {
    if (set.rules_size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(set_path, ".rules: at least 2 rules are required"));
    }
    std::vector<Predicate> rules;
    for (int i = 0; i < set.rules_size(); ++i) {
      auto rule =
          compileListenerFilterPredicate(set.rules(i), absl::StrCat(set_path, ".rules[", i, "]"));
      if (!rule.ok()) {
        return rule.status();
      }
      rules.push_back(std::move(*rule));
    }
    return rules;
  };
  switch (predicate.rule_case()) {
    case ListenerFilterChainMatchPredicate::kOrMatch: {
      auto rules = compileSet(predicate.or_match(), path + ".or_match");
      if (!rules.ok()) {
        return rules.status();
      }
      return Predicate([rules = std::move(*rules)](const network::ConnectionSocket& socket) {
        for (const auto& rule : rules) {
          if (rule(socket)) {
            return true;
          }
        }
        return false;
      });
    }
    case ListenerFilterChainMatchPredicate::kAndMatch: {
      auto rules = compileSet(predicate.and_match(), path + ".and_match");
      if (!rules.ok()) {
        return rules.status();
      }
      return Predicate([rules = std::move(*rules)](const network::ConnectionSocket& socket) {
        for (const auto& rule : rules) {
          if (!rule(socket)) {
            return false;
          }
        }
        return true;
      });
    }
    case ListenerFilterChainMatchPredicate::kNotMatch: {
      auto inner = compileListenerFilterPredicate(predicate.not_match(), path + ".not_match");
      if (!inner.ok()) {
        return inner.status();
      }
      return Predicate([inner = std::move(*inner)](const network::ConnectionSocket& socket) {
        return !inner(socket);
      });
    }
    case ListenerFilterChainMatchPredicate::kAnyMatch:
      if (!predicate.any_match()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".any_match: must be true"));
      }
      return Predicate([](const network::ConnectionSocket&) { return true; });
    case ListenerFilterChainMatchPredicate::kDestinationPortRange: {
      const int64_t start = predicate.destination_port_range().start();
      const int64_t end = predicate.destination_port_range().end();
      if (end < start) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".destination_port_range: end (", end,
                                                       ") is before start (", start, ")"));
      }
      return Predicate([start, end](const network::ConnectionSocket& socket) {
        const auto& local = socket.localAddress();
        if (local == nullptr || local->type() != network::address::Type::Ip) {
          return false;
        }
        const int64_t port = local->port();
        return port >= start && port < end;  // Envoy's Int32Range is half-open
      });
    }
    case ListenerFilterChainMatchPredicate::RULE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": one rule is required"));
}

}  // namespace waystone::server
