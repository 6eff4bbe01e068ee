#include "source/extensions/filters/http/header_mutation/config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "source/extensions/filters/http/header_mutation/header_mutation_filter.h"

namespace waystone::extensions::http_filters::header_mutation {
namespace {

using envoy::config::core::v3::HeaderValueOption;

absl::StatusOr<std::vector<Mutation>> parseMutations(
    const google::protobuf::RepeatedPtrField<
        envoy::config::common::mutation_rules::v3::HeaderMutation>& mutations,
    const std::string& path) {
  std::vector<Mutation> out;
  for (int i = 0; i < mutations.size(); ++i) {
    const auto& m = mutations[i];
    const std::string item = absl::StrCat(path, "[", i, "]");
    Mutation mutation;
    if (m.has_append()) {
      const HeaderValueOption& option = m.append();
      mutation.key = absl::AsciiStrToLower(option.header().key());
      if (mutation.key.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(item, ".append.header.key: must not be empty"));
      }
      if (mutation.key[0] == ':' || mutation.key == "host") {
        return absl::InvalidArgumentError(absl::StrCat(
            item, ".append.header.key: pseudo-headers and host cannot be mutated here"));
      }
      // omit_empty_values: a missing value is "" rather than the access log's "-" (Envoy).
      auto value = formatter::TextFormatter::create(option.header().value(),
                                                    absl::StrCat(item, ".append.header.value"),
                                                    /*omit_empty_values=*/true);
      if (!value.ok()) {
        return value.status();
      }
      mutation.value = std::move(*value);
      mutation.keep_empty_value = option.keep_empty_value();
      switch (option.append_action()) {
        case HeaderValueOption::ADD_IF_ABSENT:
          mutation.action = Mutation::Action::AddIfAbsent;
          break;
        case HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD:
          mutation.action = Mutation::Action::OverwriteIfExistsOrAdd;
          break;
        case HeaderValueOption::OVERWRITE_IF_EXISTS:
          mutation.action = Mutation::Action::OverwriteIfExists;
          break;
        default:
          mutation.action = Mutation::Action::AppendIfExistsOrAdd;
          break;
      }
      // The deprecated `append` bool, when set, wins as in Envoy.
      if (option.has_append()) {
        mutation.action = option.append().value() ? Mutation::Action::AppendIfExistsOrAdd
                                                  : Mutation::Action::OverwriteIfExistsOrAdd;
      }
    } else if (!m.remove().empty()) {
      mutation.action = Mutation::Action::Remove;
      mutation.key = absl::AsciiStrToLower(m.remove());
      if (mutation.key[0] == ':' || mutation.key == "host") {
        return absl::InvalidArgumentError(
            absl::StrCat(item, ".remove: pseudo-headers and host cannot be removed"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(item, ": one of append or remove is required"));
    }
    out.push_back(std::move(mutation));
  }
  return out;
}

}  // namespace

absl::StatusOr<HeaderMutationConfigConstSharedPtr> HeaderMutationConfig::create(
    const envoy::extensions::filters::http::header_mutation::v3::HeaderMutation& proto,
    const std::string& field_path) {
  auto config = std::shared_ptr<HeaderMutationConfig>(new HeaderMutationConfig());
  auto request = parseMutations(proto.mutations().request_mutations(),
                                absl::StrCat(field_path, ".mutations.request_mutations"));
  if (!request.ok()) {
    return request.status();
  }
  auto response = parseMutations(proto.mutations().response_mutations(),
                                 absl::StrCat(field_path, ".mutations.response_mutations"));
  if (!response.ok()) {
    return response.status();
  }
  config->request_ = std::move(*request);
  config->response_ = std::move(*response);
  return HeaderMutationConfigConstSharedPtr(std::move(config));
}

absl::StatusOr<http::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::http::header_mutation::v3::HeaderMutation& proto,
    const std::string& field_path) {
  auto config = HeaderMutationConfig::create(proto, field_path);
  if (!config.ok()) {
    return config.status();
  }
  HeaderMutationConfigConstSharedPtr shared = std::move(*config);
  return http::FilterFactoryCb([shared](http::FilterChainFactoryCallbacks& callbacks) {
    callbacks.addStreamFilter(std::make_shared<HeaderMutationFilter>(shared));
  });
}

}  // namespace waystone::extensions::http_filters::header_mutation
