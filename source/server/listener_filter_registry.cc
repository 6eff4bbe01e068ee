#include "source/server/listener_filter_registry.h"

#include "absl/strings/str_cat.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"

#include "source/common/protobuf/utility.h"
#include "source/extensions/filters/listener/http_inspector/http_inspector_filter.h"
#include "source/extensions/filters/listener/original_dst/original_dst_filter.h"
#include "source/extensions/filters/listener/tls_inspector/tls_inspector_filter.h"

namespace waystone::server {
namespace {

// A filter whose config has nothing Waystone acts on: unpack and validate it (so typos and
// wrong types are still refused), then make one instance per socket.
template <class Proto, class Filter>
ListenerFilterConfigFactory simple() {
  return [](const google::protobuf::Any& any, const protobuf::LoadOptions& options,
            const std::string& field_path) -> absl::StatusOr<network::ListenerFilterFactoryCb> {
    Proto proto;
    absl::Status status = protobuf::unpackTo(any, proto, options);
    if (status.ok()) {
      status = protobuf::validate(proto, options);
    }
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field_path, ": ", status.message()));
    }
    return network::ListenerFilterFactoryCb([] { return std::make_unique<Filter>(); });
  };
}

}  // namespace

const ListenerFilterRegistry& ListenerFilterRegistry::get() {
  static const ListenerFilterRegistry* registry = new ListenerFilterRegistry();
  return *registry;
}

ListenerFilterRegistry::ListenerFilterRegistry() {
  using OriginalDstProto = envoy::extensions::filters::listener::original_dst::v3::OriginalDst;
  factories_[OriginalDstProto::descriptor()->full_name()] =
      simple<OriginalDstProto, extensions::listener_filters::original_dst::OriginalDstFilter>();
  using HttpInspectorProto =
      envoy::extensions::filters::listener::http_inspector::v3::HttpInspector;
  factories_[HttpInspectorProto::descriptor()->full_name()] =
      simple<HttpInspectorProto,
             extensions::listener_filters::http_inspector::HttpInspectorFilter>();
  // initial_read_buffer_size only tunes Envoy's first read; Waystone peeks up to a full
  // ClientHello anyway. enable_ja3_fingerprinting is accepted and not acted on.
  using TlsInspectorProto = envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector;
  factories_[TlsInspectorProto::descriptor()->full_name()] =
      simple<TlsInspectorProto, extensions::listener_filters::tls_inspector::TlsInspectorFilter>();
}

const ListenerFilterConfigFactory* ListenerFilterRegistry::find(
    const std::string& type_name) const {
  auto it = factories_.find(type_name);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> ListenerFilterRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [name, factory] : factories_) {
    out.push_back(name);
  }
  return out;
}

}  // namespace waystone::server
