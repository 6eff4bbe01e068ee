#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "xds/core/v3/extension.pb.h"
#include "xds/type/matcher/v3/ip.pb.h"
#include "xds/type/matcher/v3/matcher.pb.h"

#include "source/common/matcher/any_matcher.h"
#include "source/common/matcher/cidr_range.h"
#include "source/common/matcher/exact_map_matcher.h"
#include "source/common/matcher/field_matcher.h"
#include "source/common/matcher/input_matcher_factory.h"
#include "source/common/matcher/ip_range_matcher.h"
#include "source/common/matcher/list_matcher.h"
#include "source/common/matcher/match_tree.h"
#include "source/common/matcher/prefix_map_matcher.h"
#include "source/common/protobuf/utility.h"

namespace waystone::matcher {

// Matchers nested deeper than this are a config error, so that evaluation's recursion stays
// shallow. istiod nests four; the proto parser's own depth limit would stop far deeper trees
// anyway.
constexpr int kMaxMatcherDepth = 32;

// Compiles an xds.type.matcher.v3.Matcher into an immutable MatchTree<DataType>. What the tree
// reads (inputs) and what it yields (actions) are supplied by the user, so the same compiler
// serves filter chain selection (DataType = network::ConnectionSocket) and, later, HTTP
// matching:
//  - `inputs` maps a typed_config type name (e.g.
//    "envoy.extensions.matching.common_inputs.network.v3.DestinationIPInput") to a factory;
//  - `actions` turns an on_match.action into an Action.
// Unknown input, matcher or action types are config errors naming the field path.
template <class DataType>
class MatchTreeFactory {
 public:
  // Builds an input from its typed_config (whose type name selected this factory). `path` names
  // the typed_config field.
  using DataInputFactoryCb = std::function<absl::StatusOr<DataInputPtr<DataType>>(
      const google::protobuf::Any& typed_config, const std::string& path)>;
  using DataInputFactoryMap = absl::flat_hash_map<std::string, DataInputFactoryCb>;
  // Builds an action. `path` names the action (TypedExtensionConfig) field.
  using ActionFactoryCb = std::function<absl::StatusOr<ActionConstSharedPtr>(
      const xds::core::v3::TypedExtensionConfig& action, const std::string& path)>;

  MatchTreeFactory(DataInputFactoryMap inputs, ActionFactoryCb actions)
      : inputs_(std::move(inputs)), actions_(std::move(actions)) {}

  // `path` names the Matcher message, e.g. "listeners[0].filter_chain_matcher".
  absl::StatusOr<MatchTreePtr<DataType>> create(const xds::type::matcher::v3::Matcher& config,
                                                const std::string& path) const {
    return createMatcher(config, path, 1);
  }

 private:
  using MatcherProto = xds::type::matcher::v3::Matcher;
  using OnMatchProto = MatcherProto::OnMatch;
  using PredicateProto = MatcherProto::MatcherList::Predicate;
  using TreeProto = MatcherProto::MatcherTree;

  static absl::Status error(absl::string_view path, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
  }

  absl::StatusOr<MatchTreePtr<DataType>> createMatcher(const MatcherProto& config,
                                                       const std::string& path, int depth) const {
    if (depth > kMaxMatcherDepth) {
      return error(path, absl::StrCat("matchers nested deeper than ", kMaxMatcherDepth));
    }
    std::optional<OnMatch<DataType>> on_no_match;
    if (config.has_on_no_match()) {
      auto created = createOnMatch(config.on_no_match(), path + ".on_no_match", depth);
      if (!created.ok()) {
        return created.status();
      }
      on_no_match = std::move(*created);
    }
    switch (config.matcher_type_case()) {
      case MatcherProto::kMatcherList:
        return createList(config.matcher_list(), path + ".matcher_list", std::move(on_no_match),
                          depth);
      case MatcherProto::kMatcherTree:
        return createTree(config.matcher_tree(), path + ".matcher_tree", std::move(on_no_match),
                          depth);
      case MatcherProto::MATCHER_TYPE_NOT_SET:
        break;
    }
    return MatchTreePtr<DataType>(new AnyMatcher<DataType>(std::move(on_no_match)));
  }

  absl::StatusOr<OnMatch<DataType>> createOnMatch(const OnMatchProto& config,
                                                  const std::string& path, int depth) const {
    OnMatch<DataType> on_match;
    switch (config.on_match_case()) {
      case OnMatchProto::kMatcher: {
        auto matcher = createMatcher(config.matcher(), path + ".matcher", depth + 1);
        if (!matcher.ok()) {
          return matcher.status();
        }
        on_match.matcher = std::move(*matcher);
        return on_match;
      }
      case OnMatchProto::kAction: {
        auto action = actions_(config.action(), path + ".action");
        if (!action.ok()) {
          return action.status();
        }
        if (*action == nullptr) {
          return error(path + ".action", "the action factory returned no action");
        }
        on_match.action = std::move(*action);
        return on_match;
      }
      case OnMatchProto::ON_MATCH_NOT_SET:
        break;
    }
    return error(path, "one of matcher or action is required");
  }

  absl::StatusOr<DataInputPtr<DataType>> createInput(
      const xds::core::v3::TypedExtensionConfig& input, const std::string& path) const {
    const std::string config_path = path + ".typed_config";
    if (!input.has_typed_config()) {
      return error(config_path, "required");
    }
    const std::string type = protobuf::typeUrlOf(input.typed_config());
    auto it = inputs_.find(type);
    if (it == inputs_.end()) {
      return error(config_path, absl::StrCat("unsupported input type '", type, "'"));
    }
    return it->second(input.typed_config(), config_path);
  }

  absl::StatusOr<MatchTreePtr<DataType>> createList(const MatcherProto::MatcherList& config,
                                                    const std::string& path,
                                                    std::optional<OnMatch<DataType>> on_no_match,
                                                    int depth) const {
    if (config.matchers().empty()) {
      return error(path + ".matchers", "at least one matcher is required");
    }
    auto list = std::make_unique<ListMatcher<DataType>>(std::move(on_no_match));
    for (int i = 0; i < config.matchers_size(); ++i) {
      const auto& entry = config.matchers(i);
      const std::string entry_path = absl::StrCat(path, ".matchers[", i, "]");
      if (!entry.has_predicate()) {
        return error(entry_path + ".predicate", "required");
      }
      if (!entry.has_on_match()) {
        return error(entry_path + ".on_match", "required");
      }
      auto predicate = createPredicate(entry.predicate(), entry_path + ".predicate", 0);
      if (!predicate.ok()) {
        return predicate.status();
      }
      auto on_match = createOnMatch(entry.on_match(), entry_path + ".on_match", depth);
      if (!on_match.ok()) {
        return on_match.status();
      }
      list->addMatcher(std::move(*predicate), std::move(*on_match));
    }
    return MatchTreePtr<DataType>(std::move(list));
  }

  absl::StatusOr<FieldMatcherPtr<DataType>> createPredicate(const PredicateProto& config,
                                                            const std::string& path,
                                                            int nesting) const {
    if (nesting > kMaxMatcherDepth) {
      return error(path, absl::StrCat("predicates nested deeper than ", kMaxMatcherDepth));
    }
    switch (config.match_type_case()) {
      case PredicateProto::kSinglePredicate: {
        const auto& single = config.single_predicate();
        const std::string single_path = path + ".single_predicate";
        if (!single.has_input()) {
          return error(single_path + ".input", "required");
        }
        auto input = createInput(single.input(), single_path + ".input");
        if (!input.ok()) {
          return input.status();
        }
        auto matcher = createInputMatcher(single, single_path);
        if (!matcher.ok()) {
          return matcher.status();
        }
        return FieldMatcherPtr<DataType>(
            new SingleFieldMatcher<DataType>(std::move(*input), std::move(*matcher)));
      }
      case PredicateProto::kOrMatcher:
      case PredicateProto::kAndMatcher: {
        const bool is_or = config.match_type_case() == PredicateProto::kOrMatcher;
        const auto& list = is_or ? config.or_matcher() : config.and_matcher();
        const std::string list_path = path + (is_or ? ".or_matcher" : ".and_matcher");
        if (list.predicate_size() < 2) {
          return error(list_path + ".predicate", "at least two predicates are required");
        }
        std::vector<FieldMatcherPtr<DataType>> children;
        for (int i = 0; i < list.predicate_size(); ++i) {
          auto child = createPredicate(list.predicate(i),
                                       absl::StrCat(list_path, ".predicate[", i, "]"), nesting + 1);
          if (!child.ok()) {
            return child.status();
          }
          children.push_back(std::move(*child));
        }
        if (is_or) {
          return FieldMatcherPtr<DataType>(new AnyFieldMatcher<DataType>(std::move(children)));
        }
        return FieldMatcherPtr<DataType>(new AllFieldMatcher<DataType>(std::move(children)));
      }
      case PredicateProto::kNotMatcher: {
        auto child = createPredicate(config.not_matcher(), path + ".not_matcher", nesting + 1);
        if (!child.ok()) {
          return child.status();
        }
        return FieldMatcherPtr<DataType>(new NotFieldMatcher<DataType>(std::move(*child)));
      }
      case PredicateProto::MATCH_TYPE_NOT_SET:
        break;
    }
    return error(path,
                 "one of single_predicate, or_matcher, and_matcher or not_matcher is required");
  }

  absl::StatusOr<MatchTreePtr<DataType>> createTree(const TreeProto& config,
                                                    const std::string& path,
                                                    std::optional<OnMatch<DataType>> on_no_match,
                                                    int depth) const {
    if (!config.has_input()) {
      return error(path + ".input", "required");
    }
    auto input = createInput(config.input(), path + ".input");
    if (!input.ok()) {
      return input.status();
    }
    switch (config.tree_type_case()) {
      case TreeProto::kExactMatchMap: {
        auto tree =
            std::make_unique<ExactMapMatcher<DataType>>(std::move(*input), std::move(on_no_match));
        absl::Status status =
            addMapChildren(config.exact_match_map(), path + ".exact_match_map", *tree, depth);
        if (!status.ok()) {
          return status;
        }
        return MatchTreePtr<DataType>(std::move(tree));
      }
      case TreeProto::kPrefixMatchMap: {
        auto tree =
            std::make_unique<PrefixMapMatcher<DataType>>(std::move(*input), std::move(on_no_match));
        absl::Status status =
            addMapChildren(config.prefix_match_map(), path + ".prefix_match_map", *tree, depth);
        if (!status.ok()) {
          return status;
        }
        return MatchTreePtr<DataType>(std::move(tree));
      }
      case TreeProto::kCustomMatch:
        return createCustomTree(config.custom_match(), path + ".custom_match", std::move(*input),
                                std::move(on_no_match), depth);
      case TreeProto::TREE_TYPE_NOT_SET:
        break;
    }
    return error(path, "one of exact_match_map, prefix_match_map or custom_match is required");
  }

  template <class MapMatcherType>
  absl::Status addMapChildren(const TreeProto::MatchMap& config, const std::string& path,
                              MapMatcherType& tree, int depth) const {
    if (config.map().empty()) {
      return error(path + ".map", "at least one entry is required");
    }
    // Protobuf maps iterate in no particular order; sort the keys so that the first error
    // reported for a bad config is always the same one.
    std::vector<const std::string*> keys;
    keys.reserve(config.map().size());
    for (const auto& [key, value] : config.map()) {
      keys.push_back(&key);
    }
    std::sort(keys.begin(), keys.end(),
              [](const std::string* a, const std::string* b) { return *a < *b; });
    for (const std::string* key : keys) {
      auto on_match =
          createOnMatch(config.map().at(*key), absl::StrCat(path, ".map[\"", *key, "\"]"), depth);
      if (!on_match.ok()) {
        return on_match.status();
      }
      tree.addChild(*key, std::move(*on_match));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<MatchTreePtr<DataType>> createCustomTree(
      const xds::core::v3::TypedExtensionConfig& config, const std::string& path,
      DataInputPtr<DataType> input, std::optional<OnMatch<DataType>> on_no_match, int depth) const {
    const std::string config_path = path + ".typed_config";
    const std::string type = protobuf::typeUrlOf(config.typed_config());
    xds::type::matcher::v3::IPMatcher ip_matcher;
    if (type != ip_matcher.GetDescriptor()->full_name()) {
      return error(config_path, absl::StrCat("unsupported custom matcher type '", type,
                                             "' (supported: xds.type.matcher.v3.IPMatcher)"));
    }
    absl::Status status = protobuf::unpackTo(config.typed_config(), ip_matcher, {}, config_path);
    if (!status.ok()) {
      return status;
    }
    auto tree =
        std::make_unique<IpRangeMatcher<DataType>>(std::move(input), std::move(on_no_match));
    for (int i = 0; i < ip_matcher.range_matchers_size(); ++i) {
      const auto& range_matcher = ip_matcher.range_matchers(i);
      const std::string range_path = absl::StrCat(config_path, ".range_matchers[", i, "]");
      if (range_matcher.ranges().empty()) {
        return error(range_path + ".ranges", "at least one range is required");
      }
      std::vector<CidrRange> ranges;
      for (int j = 0; j < range_matcher.ranges_size(); ++j) {
        auto range = CidrRange::fromProto(range_matcher.ranges(j),
                                          absl::StrCat(range_path, ".ranges[", j, "]"));
        if (!range.ok()) {
          return range.status();
        }
        ranges.push_back(*range);
      }
      if (!range_matcher.has_on_match()) {
        return error(range_path + ".on_match", "required");
      }
      auto on_match = createOnMatch(range_matcher.on_match(), range_path + ".on_match", depth);
      if (!on_match.ok()) {
        return on_match.status();
      }
      tree->addRangeMatcher(ranges, range_matcher.exclusive(), std::move(*on_match));
    }
    return MatchTreePtr<DataType>(std::move(tree));
  }

  const DataInputFactoryMap inputs_;
  const ActionFactoryCb actions_;
};

}  // namespace waystone::matcher
