// The unified matcher's semantics, independent of network inputs: the matching data is a plain
// key -> value map, an input (typed_config google.protobuf.StringValue) names the key to read,
// and an action (also a StringValue) is a name.
#include "source/common/matcher/match_tree_factory.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

#include "source/common/protobuf/utility.h"

namespace waystone::matcher {
namespace {

using testing::HasSubstr;

using Data = absl::flat_hash_map<std::string, std::string>;

class KeyInput : public DataInput<Data> {
 public:
  explicit KeyInput(std::string key) : key_(std::move(key)) {}
  InputValue get(const Data& data) const override {
    auto it = data.find(key_);
    return it == data.end() ? InputValue() : InputValue::view(it->second);
  }

 private:
  const std::string key_;
};

class NamedAction : public Action {
 public:
  explicit NamedAction(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  const std::string name_;
};

MatchTreeFactory<Data> makeFactory() {
  MatchTreeFactory<Data>::DataInputFactoryMap inputs;
  inputs["google.protobuf.StringValue"] =
      [](const google::protobuf::Any& any,
         const std::string& path) -> absl::StatusOr<DataInputPtr<Data>> {
    google::protobuf::StringValue key;
    absl::Status status = protobuf::unpackTo(any, key, {}, path);
    if (!status.ok()) {
      return status;
    }
    return DataInputPtr<Data>(new KeyInput(key.value()));
  };
  auto actions = [](const xds::core::v3::TypedExtensionConfig& config,
                    const std::string& path) -> absl::StatusOr<ActionConstSharedPtr> {
    google::protobuf::StringValue name;
    if (protobuf::typeUrlOf(config.typed_config()) != "google.protobuf.StringValue") {
      return absl::InvalidArgumentError(path + ".typed_config: not a name");
    }
    absl::Status status = protobuf::unpackTo(config.typed_config(), name, {}, path);
    if (!status.ok()) {
      return status;
    }
    return std::make_shared<NamedAction>(name.value());
  };
  return MatchTreeFactory<Data>(std::move(inputs), std::move(actions));
}

// Shorthands inside the YAML: IN(key) is an input reading `key`, ACT(name) an on_match with that
// action.
std::string expand(std::string yaml) {
  RE2::GlobalReplace(
      &yaml, R"(IN\(([^)]*)\))",
      R"({typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: "\1"}})");
  RE2::GlobalReplace(
      &yaml, R"(ACT\(([^)]*)\))",
      R"({action: {name: "\1", typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: "\1"}}})");
  return yaml;
}

absl::StatusOr<MatchTreePtr<Data>> build(const std::string& yaml) {
  xds::type::matcher::v3::Matcher config;
  absl::Status status = protobuf::loadFromYaml(expand(yaml), config);
  if (!status.ok()) {
    return status;
  }
  return makeFactory().create(config, "matcher");
}

MatchTreePtr<Data> mustBuild(const std::string& yaml) {
  auto tree = build(yaml);
  EXPECT_TRUE(tree.ok()) << tree.status();
  return tree.ok() ? std::move(*tree) : nullptr;
}

std::string buildError(const std::string& yaml) {
  auto tree = build(yaml);
  EXPECT_FALSE(tree.ok());
  return tree.ok() ? "" : std::string(tree.status().message());
}

// The chosen action's name, or "-" for no match.
std::string run(const MatchTreePtr<Data>& tree, const Data& data) {
  if (tree == nullptr) {
    return "<no tree>";
  }
  const Action* action = tree->match(data);
  return action == nullptr ? "-" : static_cast<const NamedAction*>(action)->name();
}

TEST(MatchTreeFactoryTest, ExactMap) {
  auto tree = mustBuild(R"(
matcher_tree:
  input: IN(port)
  exact_match_map:
    map:
      "80": ACT(http)
      "443": ACT(https)
on_no_match: ACT(other)
)");
  EXPECT_EQ(run(tree, {{"port", "80"}}), "http");
  EXPECT_EQ(run(tree, {{"port", "443"}}), "https");
  EXPECT_EQ(run(tree, {{"port", "8080"}}), "other");
  EXPECT_EQ(run(tree, {{"port", "8"}}), "other");  // exact, not prefix
  EXPECT_EQ(run(tree, {}), "other");               // no value: on_no_match
}

TEST(MatchTreeFactoryTest, NoOnNoMatchMeansNoMatch) {
  auto tree = mustBuild(R"(
matcher_tree:
  input: IN(port)
  exact_match_map: {map: {"80": ACT(http)}}
)");
  EXPECT_EQ(run(tree, {{"port", "80"}}), "http");
  EXPECT_EQ(run(tree, {{"port", "81"}}), "-");
  EXPECT_EQ(run(tree, {}), "-");
}

TEST(MatchTreeFactoryTest, OnlyOnNoMatch) {
  auto tree = mustBuild("on_no_match: ACT(always)");
  EXPECT_EQ(run(tree, {}), "always");
  auto empty = mustBuild("{}");
  EXPECT_EQ(run(empty, {{"a", "b"}}), "-");
}

// Envoy's current semantics: a nested matcher that finds nothing makes the branch a no-match,
// and the enclosing map falls to its own on_no_match.
TEST(MatchTreeFactoryTest, NestedMissFallsToEnclosingOnNoMatch) {
  auto tree = mustBuild(R"(
matcher_tree:
  input: IN(port)
  exact_match_map:
    map:
      "80":
        matcher:
          matcher_tree:
            input: IN(alpn)
            exact_match_map: {map: {"'h2c'": ACT(http)}}
on_no_match: ACT(outer-default)
)");
  EXPECT_EQ(run(tree, {{"port", "80"}, {"alpn", "'h2c'"}}), "http");
  EXPECT_EQ(run(tree, {{"port", "80"}, {"alpn", "'h2'"}}), "outer-default");
  EXPECT_EQ(run(tree, {{"port", "80"}}), "outer-default");
  EXPECT_EQ(run(tree, {{"port", "81"}}), "outer-default");
}

TEST(MatchTreeFactoryTest, NestedOnNoMatchWinsOverEnclosing) {
  auto tree = mustBuild(R"(
matcher_tree:
  input: IN(port)
  exact_match_map:
    map:
      "80":
        matcher:
          matcher_tree:
            input: IN(alpn)
            exact_match_map: {map: {"'h2c'": ACT(http)}}
          on_no_match: ACT(tcp)
on_no_match: ACT(outer-default)
)");
  EXPECT_EQ(run(tree, {{"port", "80"}, {"alpn", "'h2c'"}}), "http");
  EXPECT_EQ(run(tree, {{"port", "80"}, {"alpn", "'h2'"}}), "tcp");
  EXPECT_EQ(run(tree, {{"port", "9"}}), "outer-default");
}

TEST(MatchTreeFactoryTest, PrefixMapLongestFirstThenShorter) {
  auto tree = mustBuild(R"(
matcher_tree:
  input: IN(path)
  prefix_match_map:
    map:
      "/": ACT(root)
      "/api": ACT(api)
      "/api/v2":
        matcher:
          matcher_tree:
            input: IN(method)
            exact_match_map: {map: {"GET": ACT(v2-get)}}
      "": ACT(empty-prefix)
on_no_match: ACT(none)
)");
  EXPECT_EQ(run(tree, {{"path", "/api/v2/x"}, {"method", "GET"}}), "v2-get");
  // The longest prefix's subtree declines: the next shorter prefix takes it.
  EXPECT_EQ(run(tree, {{"path", "/api/v2/x"}, {"method", "PUT"}}), "api");
  EXPECT_EQ(run(tree, {{"path", "/apix"}}), "api");
  EXPECT_EQ(run(tree, {{"path", "/other"}}), "root");
  EXPECT_EQ(run(tree, {{"path", "other"}}), "empty-prefix");
  EXPECT_EQ(run(tree, {}), "none");
}

TEST(MatchTreeFactoryTest, ListFirstMatchWins) {
  auto tree = mustBuild(R"(
matcher_list:
  matchers:
  - predicate: {single_predicate: {input: IN(host), value_match: {exact: "a.example.com"}}}
    on_match: ACT(exact)
  - predicate: {single_predicate: {input: IN(host), value_match: {suffix: ".example.com"}}}
    on_match: ACT(suffix)
  - predicate: {single_predicate: {input: IN(host), value_match: {prefix: "API.", ignore_case: true}}}
    on_match: ACT(prefix-ignore-case)
  - predicate: {single_predicate: {input: IN(host), value_match: {safe_regex: {google_re2: {}, regex: "[0-9]+\\.test"}}}}
    on_match: ACT(regex)
  - predicate: {single_predicate: {input: IN(host), value_match: {contains: "mid"}}}
    on_match: ACT(contains)
on_no_match: ACT(none)
)");
  EXPECT_EQ(run(tree, {{"host", "a.example.com"}}), "exact");
  EXPECT_EQ(run(tree, {{"host", "b.example.com"}}), "suffix");
  EXPECT_EQ(run(tree, {{"host", "api.foo"}}), "prefix-ignore-case");
  EXPECT_EQ(run(tree, {{"host", "123.test"}}), "regex");
  EXPECT_EQ(run(tree, {{"host", "x123.test"}}), "none");  // regex must match fully
  EXPECT_EQ(run(tree, {{"host", "amidst"}}), "contains");
  EXPECT_EQ(run(tree, {{"host", "zzz"}}), "none");
  EXPECT_EQ(run(tree, {}), "none");  // no value never matches a value_match
}

TEST(MatchTreeFactoryTest, AbsentValueDoesNotMatchEmptyString) {
  auto tree = mustBuild(R"(
matcher_list:
  matchers:
  - predicate: {single_predicate: {input: IN(sni), value_match: {exact: ""}}}
    on_match: ACT(empty)
)");
  EXPECT_EQ(run(tree, {{"sni", ""}}), "empty");
  EXPECT_EQ(run(tree, {}), "-");
}

TEST(MatchTreeFactoryTest, AndOrNotPredicates) {
  auto tree = mustBuild(R"(
matcher_list:
  matchers:
  - predicate:
      and_matcher:
        predicate:
        - {single_predicate: {input: IN(port), value_match: {exact: "80"}}}
        - not_matcher: {single_predicate: {input: IN(tls), value_match: {exact: "tls"}}}
    on_match: ACT(plain-80)
  - predicate:
      or_matcher:
        predicate:
        - {single_predicate: {input: IN(port), value_match: {exact: "443"}}}
        - {single_predicate: {input: IN(port), value_match: {exact: "8443"}}}
    on_match: ACT(tls-ports)
)");
  EXPECT_EQ(run(tree, {{"port", "80"}}), "plain-80");
  EXPECT_EQ(run(tree, {{"port", "80"}, {"tls", "tls"}}), "-");
  EXPECT_EQ(run(tree, {{"port", "443"}}), "tls-ports");
  EXPECT_EQ(run(tree, {{"port", "8443"}}), "tls-ports");
  EXPECT_EQ(run(tree, {{"port", "22"}}), "-");
}

// A list entry whose predicate holds but whose nested matcher finds nothing does not end the
// search: the next entries are tried.
TEST(MatchTreeFactoryTest, ListNestedMissContinues) {
  auto tree = mustBuild(R"(
matcher_list:
  matchers:
  - predicate: {single_predicate: {input: IN(port), value_match: {exact: "80"}}}
    on_match:
      matcher:
        matcher_tree:
          input: IN(alpn)
          exact_match_map: {map: {"'h2c'": ACT(h2c)}}
  - predicate: {single_predicate: {input: IN(port), value_match: {prefix: "8"}}}
    on_match: ACT(eight)
on_no_match: ACT(none)
)");
  EXPECT_EQ(run(tree, {{"port", "80"}, {"alpn", "'h2c'"}}), "h2c");
  EXPECT_EQ(run(tree, {{"port", "80"}}), "eight");
  EXPECT_EQ(run(tree, {{"port", "90"}}), "none");
}

TEST(MatchTreeFactoryTest, IpInputMatcherPredicate) {
  auto tree = mustBuild(R"(
matcher_list:
  matchers:
  - predicate:
      single_predicate:
        input: IN(ip)
        custom_match:
          name: ip
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.matching.input_matchers.ip.v3.Ip
            stat_prefix: test
            cidr_ranges:
            - {address_prefix: 10.0.0.0, prefix_len: 8}
            - {address_prefix: "fd00::", prefix_len: 8}
    on_match: ACT(internal)
on_no_match: ACT(external)
)");
  EXPECT_EQ(run(tree, {{"ip", "10.2.3.4"}}), "internal");
  EXPECT_EQ(run(tree, {{"ip", "fd12::1"}}), "internal");
  EXPECT_EQ(run(tree, {{"ip", "11.2.3.4"}}), "external");
  EXPECT_EQ(run(tree, {{"ip", "not-an-ip"}}), "external");
  EXPECT_EQ(run(tree, {}), "external");
}

std::string ipMatcherYaml(bool exclusive) {
  // The example of ip.proto: X on 0.0.0.0/0, Y on 192.0.0.0/2 with nested condition Z.
  return absl::StrCat(R"(
matcher_tree:
  input: IN(ip)
  custom_match:
    name: ip
    typed_config:
      "@type": type.googleapis.com/xds.type.matcher.v3.IPMatcher
      range_matchers:
      - ranges: [{address_prefix: 0.0.0.0, prefix_len: 0}]
        exclusive: )",
                      exclusive ? "true" : "false", R"(
        on_match: ACT(X)
      - ranges: [{address_prefix: 192.0.0.0, prefix_len: 2}]
        on_match:
          matcher:
            matcher_tree:
              input: IN(z)
              exact_match_map: {map: {"yes": ACT(Y)}}
      - ranges: [{address_prefix: 192.168.0.0, prefix_len: 16}, {address_prefix: 172.16.0.0, prefix_len: 12}]
        on_match: ACT(private-first)
      - ranges: [{address_prefix: 192.168.0.0, prefix_len: 16}]
        on_match: ACT(private-second)
      - ranges: [{address_prefix: "2001:db8::", prefix_len: 32}]
        on_match: ACT(v6)
on_no_match: ACT(no-ip)
)");
}

TEST(MatchTreeFactoryTest, IpMatcherLongestPrefixThenDeclarationOrder) {
  auto tree = mustBuild(ipMatcherYaml(false));
  // Same prefix length: declaration order.
  EXPECT_EQ(run(tree, {{"ip", "192.168.0.1"}}), "private-first");
  EXPECT_EQ(run(tree, {{"ip", "172.20.0.1"}}), "private-first");
  EXPECT_EQ(run(tree, {{"ip", "192.1.0.1"}, {"z", "yes"}}), "Y");
  // Y's nested condition declines: the non-exclusive X (shorter) takes it.
  EXPECT_EQ(run(tree, {{"ip", "192.1.0.1"}}), "X");
  EXPECT_EQ(run(tree, {{"ip", "8.8.8.8"}}), "X");
  EXPECT_EQ(run(tree, {{"ip", "2001:db8::7"}}), "v6");
  EXPECT_EQ(run(tree, {{"ip", "2001:db9::7"}}), "no-ip");  // no IPv6 catch-all
  EXPECT_EQ(run(tree, {{"ip", "bogus"}}), "no-ip");
  EXPECT_EQ(run(tree, {}), "no-ip");
}

TEST(MatchTreeFactoryTest, IpMatcherExclusiveNeverCatchesWhatAMoreSpecificRangeDeclined) {
  auto tree = mustBuild(ipMatcherYaml(true));
  EXPECT_EQ(run(tree, {{"ip", "192.1.0.1"}, {"z", "yes"}}), "Y");
  // Y declines; X is exclusive and less specific: not selected; on_no_match applies.
  EXPECT_EQ(run(tree, {{"ip", "192.1.0.1"}}), "no-ip");
  // X is the most specific candidate here: selected.
  EXPECT_EQ(run(tree, {{"ip", "8.8.8.8"}}), "X");
}

TEST(MatchTreeFactoryTest, ErrorsNameTheFieldPath) {
  EXPECT_THAT(buildError(R"(
matcher_tree:
  input: {typed_config: {"@type": type.googleapis.com/google.protobuf.Int32Value, value: 3}}
  exact_match_map: {map: {"a": ACT(x)}}
)"),
              HasSubstr("matcher.matcher_tree.input.typed_config: unsupported input type "
                        "'google.protobuf.Int32Value'"));
  EXPECT_THAT(buildError(R"(
matcher_tree:
  input: IN(k)
  exact_match_map: {map: {"a": {action: {typed_config: {"@type": type.googleapis.com/google.protobuf.Int32Value}}}}}
)"),
              HasSubstr("matcher.matcher_tree.exact_match_map.map[\"a\"].action.typed_config: "
                        "not a name"));
  EXPECT_THAT(buildError(R"(
matcher_tree:
  input: IN(k)
  exact_match_map: {map: {"a": {}}}
)"),
              HasSubstr("matcher.matcher_tree.exact_match_map.map[\"a\"]: one of matcher or "
                        "action is required"));
  EXPECT_THAT(buildError("matcher_tree: {input: IN(k), exact_match_map: {}}"),
              HasSubstr("matcher.matcher_tree.exact_match_map.map: at least one entry"));
  EXPECT_THAT(buildError("matcher_tree: {exact_match_map: {map: {a: ACT(x)}}}"),
              HasSubstr("matcher.matcher_tree.input: required"));
  EXPECT_THAT(buildError("matcher_tree: {input: IN(k)}"),
              HasSubstr("matcher.matcher_tree: one of exact_match_map"));
  EXPECT_THAT(buildError(R"(
matcher_tree:
  input: IN(k)
  custom_match: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue}}
)"),
              HasSubstr("matcher.matcher_tree.custom_match.typed_config: unsupported custom "
                        "matcher type 'google.protobuf.StringValue'"));
  EXPECT_THAT(buildError(R"(
matcher_tree:
  input: IN(ip)
  custom_match:
    typed_config:
      "@type": type.googleapis.com/xds.type.matcher.v3.IPMatcher
      range_matchers:
      - ranges: [{address_prefix: 10.0.0.1, prefix_len: 32}, {address_prefix: 10.0.0.300, prefix_len: 32}]
        on_match: ACT(x)
)"),
              HasSubstr("matcher.matcher_tree.custom_match.typed_config.range_matchers[0]."
                        "ranges[1].address_prefix: malformed IP address '10.0.0.300'"));
  EXPECT_THAT(buildError(R"(
matcher_tree:
  input: IN(ip)
  custom_match:
    typed_config:
      "@type": type.googleapis.com/xds.type.matcher.v3.IPMatcher
      range_matchers: [{ranges: [{address_prefix: 10.0.0.1, prefix_len: 32}]}]
)"),
              HasSubstr("range_matchers[0].on_match: required"));
  EXPECT_THAT(buildError(R"(
matcher_list:
  matchers:
  - predicate: {or_matcher: {predicate: [{single_predicate: {input: IN(a), value_match: {exact: x}}}]}}
    on_match: ACT(x)
)"),
              HasSubstr("matcher.matcher_list.matchers[0].predicate.or_matcher.predicate: at "
                        "least two predicates"));
  EXPECT_THAT(buildError(R"(
matcher_list:
  matchers:
  - predicate: {single_predicate: {input: IN(a)}}
    on_match: ACT(x)
)"),
              HasSubstr("matcher.matcher_list.matchers[0].predicate.single_predicate: one of "
                        "value_match or custom_match is required"));
  EXPECT_THAT(buildError(R"(
matcher_list:
  matchers:
  - predicate:
      single_predicate:
        input: IN(a)
        custom_match: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue}}
    on_match: ACT(x)
)"),
              HasSubstr("single_predicate.custom_match.typed_config: unsupported input matcher "
                        "type 'google.protobuf.StringValue'"));
  EXPECT_THAT(buildError(R"(
matcher_list:
  matchers:
  - predicate: {single_predicate: {input: IN(a), value_match: {safe_regex: {google_re2: {}, regex: "(("}}}}
    on_match: ACT(x)
)"),
              HasSubstr("matcher.matcher_list.matchers[0].predicate.single_predicate.value_match."
                        "safe_regex"));
  EXPECT_THAT(buildError("matcher_list: {matchers: [{on_match: ACT(x)}]}"),
              HasSubstr("matcher.matcher_list.matchers[0].predicate: required"));
}

TEST(MatchTreeFactoryTest, DepthIsBounded) {
  std::string nested = "ACT(leaf)";
  for (int i = 0; i < kMaxMatcherDepth; ++i) {
    nested = absl::StrCat("{matcher: {on_no_match: ", nested, "}}");
  }
  // kMaxMatcherDepth nested matchers under the root: one too many.
  const std::string too_deep = absl::StrCat("on_no_match: ", nested);
  EXPECT_THAT(buildError(too_deep), HasSubstr("matchers nested deeper than"));

  std::string fits = "ACT(leaf)";
  for (int i = 0; i < kMaxMatcherDepth - 1; ++i) {
    fits = absl::StrCat("{matcher: {on_no_match: ", fits, "}}");
  }
  auto tree = mustBuild(absl::StrCat("on_no_match: ", fits));
  EXPECT_EQ(run(tree, {}), "leaf");
}

}  // namespace
}  // namespace waystone::matcher
