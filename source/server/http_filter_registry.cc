#include "source/server/http_filter_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "source/extensions/filters/http/header_mutation/config.h"
#include "source/extensions/filters/http/router/config.h"
#include "source/extensions/filters/http/set_filter_state/config.h"

namespace waystone::server {
namespace {

template <class Proto, class Factory>
HttpFilterConfigFactory typed(Factory factory) {
  return [factory](const google::protobuf::Any& any, HttpFilterFactoryContext& context,
                   const std::string& field_path) -> absl::StatusOr<http::FilterFactoryCb> {
    Proto proto;
    absl::Status status = protobuf::unpackTo(any, proto, context.load_options);
    if (status.ok()) {
      status = protobuf::validate(proto, context.load_options);
    }
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field_path, ": ", status.message()));
    }
    return factory(proto, context, field_path);
  };
}

}  // namespace

const HttpFilterRegistry& HttpFilterRegistry::get() {
  static const HttpFilterRegistry* registry = new HttpFilterRegistry();
  return *registry;
}

HttpFilterRegistry::HttpFilterRegistry() {
  using RouterProto = envoy::extensions::filters::http::router::v3::Router;
  factories_[RouterProto::descriptor()->full_name()] = typed<RouterProto>(
      [](const RouterProto& proto, HttpFilterFactoryContext& context, const std::string&) {
        return extensions::http_filters::router::createFilterFactory(
            proto, context.cluster_managers, context.store, context.stat_prefix);
      });
  terminal_.push_back(RouterProto::descriptor()->full_name());

  using HeaderMutationProto = envoy::extensions::filters::http::header_mutation::v3::HeaderMutation;
  factories_[HeaderMutationProto::descriptor()->full_name()] =
      typed<HeaderMutationProto>([](const HeaderMutationProto& proto, HttpFilterFactoryContext&,
                                    const std::string& field_path) {
        return extensions::http_filters::header_mutation::createFilterFactory(proto, field_path);
      });

  using SetFilterStateProto = envoy::extensions::filters::http::set_filter_state::v3::Config;
  factories_[SetFilterStateProto::descriptor()->full_name()] =
      typed<SetFilterStateProto>([](const SetFilterStateProto& proto, HttpFilterFactoryContext&,
                                    const std::string& field_path) {
        return extensions::http_filters::set_filter_state::createFilterFactory(proto, field_path);
      });
}

const HttpFilterConfigFactory* HttpFilterRegistry::find(const std::string& type_name) const {
  auto it = factories_.find(type_name);
  return it == factories_.end() ? nullptr : &it->second;
}

bool HttpFilterRegistry::isTerminal(const std::string& type_name) const {
  return std::find(terminal_.begin(), terminal_.end(), type_name) != terminal_.end();
}

std::vector<std::string> HttpFilterRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [name, factory] : factories_) {
    out.push_back(name);
  }
  return out;
}

}  // namespace waystone::server
