#include "source/extensions/transport_sockets/transport_socket_config.h"

#include "absl/strings/str_cat.h"
#include "envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream.pb.h"
#include "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

#include "source/common/protobuf/utility.h"
#include "source/common/tls/ssl_socket_factory.h"

namespace waystone::extensions::transport_sockets {
namespace {

using envoy::extensions::transport_sockets::internal_upstream::v3::InternalUpstreamTransport;
using envoy::extensions::transport_sockets::raw_buffer::v3::RawBuffer;
using envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext;
using envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext;

template <class Proto>
absl::StatusOr<Proto> unpack(const envoy::config::core::v3::TransportSocket& proto,
                             const protobuf::LoadOptions& options, const std::string& path) {
  Proto out;
  absl::Status status = protobuf::unpackTo(proto.typed_config(), out, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".typed_config: ", status.message()));
  }
  return out;
}

absl::Status unsupported(const std::string& path, const std::string& type) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ".typed_config: unsupported transport socket type \"", type, "\""));
}

}  // namespace

absl::StatusOr<network::TransportSocketFactoryCb> createServerTransportFactory(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path) {
  const std::string type = protobuf::typeUrlOf(proto.typed_config());
  if (type == RawBuffer::descriptor()->full_name()) {
    return network::TransportSocketFactoryCb();
  }
  if (type != DownstreamTlsContext::descriptor()->full_name()) {
    return unsupported(path, type);
  }
  auto tls = unpack<DownstreamTlsContext>(proto, options, path);
  if (!tls.ok()) {
    return tls.status();
  }
  auto factory = tls::ServerSslSocketFactory::create(*tls);
  if (!factory.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".typed_config.", factory.status().message()));
  }
  std::shared_ptr<const tls::ServerSslSocketFactory> shared = std::move(*factory);
  return network::TransportSocketFactoryCb([shared] { return shared->createTransportSocket(); });
}

absl::StatusOr<network::TransportSocketFactoryCb> createClientTransportFactory(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path) {
  const std::string type = protobuf::typeUrlOf(proto.typed_config());
  if (type == RawBuffer::descriptor()->full_name()) {
    return network::TransportSocketFactoryCb();
  }
  if (type == InternalUpstreamTransport::descriptor()->full_name()) {
    auto internal = unpack<InternalUpstreamTransport>(proto, options, path);
    if (!internal.ok()) {
      return internal.status();
    }
    // Internal connections move buffers in process; TLS inside an internal hop (DestinationRule
    // TLS origination inside the tunnel) is not supported yet.
    const std::string inner = protobuf::typeUrlOf(internal->transport_socket().typed_config());
    if (internal->has_transport_socket() && inner != RawBuffer::descriptor()->full_name()) {
      return absl::UnimplementedError(
          absl::StrCat(path,
                       ".typed_config.transport_socket: only raw_buffer is supported inside "
                       "internal_upstream (got \"",
                       inner, "\")"));
    }
    return network::TransportSocketFactoryCb();
  }
  if (type != UpstreamTlsContext::descriptor()->full_name()) {
    return unsupported(path, type);
  }
  auto tls = unpack<UpstreamTlsContext>(proto, options, path);
  if (!tls.ok()) {
    return tls.status();
  }
  auto factory = tls::ClientSslSocketFactory::create(*tls);
  if (!factory.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".typed_config.", factory.status().message()));
  }
  std::shared_ptr<const tls::ClientSslSocketFactory> shared = std::move(*factory);
  return network::TransportSocketFactoryCb([shared] { return shared->createTransportSocket(); });
}

absl::StatusOr<std::vector<MetadataPassthrough>> internalUpstreamPassthrough(
    const envoy::config::core::v3::TransportSocket& proto, const protobuf::LoadOptions& options,
    const std::string& path) {
  std::vector<MetadataPassthrough> out;
  if (protobuf::typeUrlOf(proto.typed_config()) !=
      InternalUpstreamTransport::descriptor()->full_name()) {
    return out;
  }
  auto internal = unpack<InternalUpstreamTransport>(proto, options, path);
  if (!internal.ok()) {
    return internal.status();
  }
  for (int i = 0; i < internal->passthrough_metadata_size(); ++i) {
    const auto& entry = internal->passthrough_metadata(i);
    const std::string field = absl::StrCat(path, ".typed_config.passthrough_metadata[", i, "]");
    if (entry.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".name: required"));
    }
    if (entry.kind().has_host()) {
      out.push_back({MetadataPassthrough::Kind::Host, entry.name()});
    } else if (entry.kind().has_cluster()) {
      out.push_back({MetadataPassthrough::Kind::Cluster, entry.name()});
    } else {
      return absl::UnimplementedError(
          absl::StrCat(field, ".kind: only host and cluster metadata can be passed through"));
    }
  }
  return out;
}

}  // namespace waystone::extensions::transport_sockets
