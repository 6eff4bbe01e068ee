#pragma once

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace waystone::stats {

// One tag (Prometheus label) of a stat, e.g. {"envoy.cluster_name", "xds-grpc"}.
struct Tag {
  std::string name;
  std::string value;

  friend bool operator==(const Tag& a, const Tag& b) {
    return a.name == b.name && a.value == b.value;
  }
  friend bool operator<(const Tag& a, const Tag& b) {
    return std::tie(a.name, a.value) < std::tie(b.name, b.value);
  }
};
using TagVector = std::vector<Tag>;

// A tag rule, as in the bootstrap's stats_config.stats_tags (envoy.config.metrics.v3.TagSpecifier).
struct TagSpecifier {
  std::string name;
  // The first capture group is cut out of the name; the second (or the first, if there is only
  // one) is the tag value. Empty with an empty fixed_value: use the default rule of that name.
  std::string regex;
  // When set (and regex is empty): the tag is added to every stat with this value.
  std::string fixed_value;
};

// Turns a dotted stat name into a tag-extracted name plus tags, the way Envoy's TagProducer
// does: "cluster.xds-grpc.upstream_rq_200" -> "cluster.upstream_rq" with
// envoy.response_code=200 and envoy.cluster_name=xds-grpc. Every rule runs against the
// original name; the characters of all matched first groups are removed at the end. Tags come
// in Envoy's order: fixed values, then rules not tied to a first name token, then the rules
// for the name's first token, each in definition order.
//
// Immutable once built, so one instance is shared by every thread.
class TagExtractor {
 public:
  // Envoy's default rules for the families Waystone produces: response codes, cluster,
  // listener (address, worker), http connection manager, rds, vhost/route, fault, rbac,
  // tcp_proxy, local rate limit, TLS ciphers/curves/versions. One deliberate difference: an
  // http stat prefix ending in an address ("inbound_0.0.0.0_80") is kept whole, as Envoy
  // already does for listener addresses, instead of being cut at its first dot.
  static std::shared_ptr<const TagExtractor> defaultExtractor();

  // As Envoy's TagProducerImpl: the default rules when use_all_default_tags, then the
  // specifiers. Errors name the rule: a tag name given twice, a regex that does not compile,
  // or a specifier with neither regex nor fixed value and no default rule of that name.
  static absl::StatusOr<std::shared_ptr<const TagExtractor>> create(
      const std::vector<TagSpecifier>& specifiers, bool use_all_default_tags);

  ~TagExtractor();

  // Appends the tags of `name` to `tags` and returns the tag-extracted name.
  std::string extract(absl::string_view name, TagVector& tags) const;

 private:
  class Rule;
  TagExtractor();
  absl::Status addRule(absl::string_view tag_name, absl::string_view regex,
                       absl::string_view required_substring, absl::string_view negative_value);

  TagVector fixed_tags_;
  std::vector<std::unique_ptr<const Rule>> rules_;
  std::vector<const Rule*> rules_without_prefix_;
  absl::flat_hash_map<std::string, std::vector<const Rule*>> rules_by_prefix_;
};

}  // namespace waystone::stats
