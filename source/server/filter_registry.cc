#include "source/server/filter_registry.h"

#include "absl/strings/str_cat.h"

#include "source/extensions/filters/network/http_connection_manager/config.h"
#include "source/extensions/filters/network/set_filter_state/config.h"
#include "source/extensions/filters/network/tcp_proxy/config.h"

namespace waystone::server {
namespace {

// Adapts a typed factory function to the registry's Any-based signature: unpack (honouring
// TypedStruct and unknown-field rules), validate, then call the factory.
template <class Proto, class Factory>
NetworkFilterConfigFactory typed(Factory factory) {
  return [factory](const google::protobuf::Any& any, FactoryContext& context,
                   const std::string& field_path) -> absl::StatusOr<network::FilterFactoryCb> {
    Proto proto;
    absl::Status status = protobuf::unpackTo(any, proto, context.load_options);
    if (status.ok()) {
      status = protobuf::validate(proto);
    }
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field_path, ": ", status.message()));
    }
    return factory(proto, context, field_path);
  };
}

}  // namespace

const FilterRegistry& FilterRegistry::get() {
  static const FilterRegistry* registry = new FilterRegistry();
  return *registry;
}

FilterRegistry::FilterRegistry() {
  using HcmProto =
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
  network_filters_[HcmProto::descriptor()->full_name()] = typed<HcmProto>(
      [](const HcmProto& proto, FactoryContext& context, const std::string& field_path) {
        HttpFilterFactoryContext http_context{context.worker_cluster_managers, context.store,
                                              context.load_options, ""};
        return extensions::network_filters::http_connection_manager::createFilterFactory(
            proto, http_context, field_path);
      });

  using TcpProxyProto = envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
  network_filters_[TcpProxyProto::descriptor()->full_name()] = typed<TcpProxyProto>(
      [](const TcpProxyProto& proto, FactoryContext& context, const std::string& field_path) {
        return extensions::network_filters::tcp_proxy::createFilterFactory(
            proto, context.cluster_manager, context.worker_cluster_managers, context.store,
            field_path);
      });

  using SetFilterStateProto = envoy::extensions::filters::network::set_filter_state::v3::Config;
  network_filters_[SetFilterStateProto::descriptor()->full_name()] = typed<SetFilterStateProto>(
      [](const SetFilterStateProto& proto, FactoryContext&, const std::string& field_path) {
        return extensions::network_filters::set_filter_state::createFilterFactory(proto,
                                                                                  field_path);
      });
}

const NetworkFilterConfigFactory* FilterRegistry::networkFilter(
    const std::string& type_name) const {
  auto it = network_filters_.find(type_name);
  return it == network_filters_.end() ? nullptr : &it->second;
}

std::vector<std::string> FilterRegistry::networkFilterTypes() const {
  std::vector<std::string> out;
  for (const auto& [name, factory] : network_filters_) {
    out.push_back(name);
  }
  return out;
}

}  // namespace waystone::server
