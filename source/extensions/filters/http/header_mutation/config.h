#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/http/header_mutation/v3/header_mutation.pb.h"

#include "source/common/formatter/text_formatter.h"
#include "source/common/http/filter.h"

namespace waystone::extensions::http_filters::header_mutation {

// One mutation: remove a header, or set/append a value (a substitution format string, evaluated
// as Envoy's header formatter does: a command with no value contributes nothing).
struct Mutation {
  enum class Action {
    Remove,
    AppendIfExistsOrAdd,
    AddIfAbsent,
    OverwriteIfExistsOrAdd,
    OverwriteIfExists
  };
  Action action = Action::AppendIfExistsOrAdd;
  // Lower case.
  std::string key;
  // Null for Remove.
  std::unique_ptr<const formatter::TextFormatter> value;
  bool keep_empty_value = false;
};

// The immutable config of one header_mutation filter
// (envoy.extensions.filters.http.header_mutation.v3.HeaderMutation): request mutations applied
// on the way in, response mutations on the way out, in order.
class HeaderMutationConfig {
 public:
  static absl::StatusOr<std::shared_ptr<const HeaderMutationConfig>> create(
      const envoy::extensions::filters::http::header_mutation::v3::HeaderMutation& proto,
      const std::string& field_path);

  const std::vector<Mutation>& requestMutations() const { return request_; }
  const std::vector<Mutation>& responseMutations() const { return response_; }

 private:
  std::vector<Mutation> request_;
  std::vector<Mutation> response_;
};

using HeaderMutationConfigConstSharedPtr = std::shared_ptr<const HeaderMutationConfig>;

// Factory entry point used by the HTTP filter registry.
absl::StatusOr<http::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::http::header_mutation::v3::HeaderMutation& proto,
    const std::string& field_path);

}  // namespace waystone::extensions::http_filters::header_mutation
