#include "source/common/router/per_filter_configs.h"

#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {

absl::StatusOr<PerFilterConfigs> PerFilterConfigs::create(
    const google::protobuf::Map<std::string, google::protobuf::Any>& configs,
    absl::string_view path) {
  PerFilterConfigs result;
  for (const auto& [name, any] : configs) {
    if (name.empty()) {
      return ConfigUtility::error(absl::StrCat(path, "[\"\"]"), "filter name must not be empty");
    }
    if (any.type_url().empty()) {
      return ConfigUtility::error(absl::StrCat(path, "[\"", name, "\"]"),
                                  "the config needs a type (@type)");
    }
    result.configs_.emplace(name, any);
  }
  return result;
}

const google::protobuf::Any* PerFilterConfigs::get(absl::string_view filter_name) const {
  const auto it = configs_.find(filter_name);
  return it == configs_.end() ? nullptr : &it->second;
}

}  // namespace waystone::router
