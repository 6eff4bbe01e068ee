#include "source/common/tls/ssl_socket_factory.h"

#include "source/common/tls/context_impl.h"
#include "source/common/tls/ssl_socket.h"

namespace waystone::tls {

absl::StatusOr<std::unique_ptr<ServerSslSocketFactory>> ServerSslSocketFactory::create(
    const envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext& proto) {
  absl::StatusOr<ServerContextConfig> config = ServerContextConfig::create(proto);
  if (!config.ok()) {
    return config.status();
  }
  absl::StatusOr<std::shared_ptr<const ServerContext>> context = ServerContext::create(*config);
  if (!context.ok()) {
    return context.status();
  }
  return std::make_unique<ServerSslSocketFactory>(*std::move(context));
}

ServerSslSocketFactory::ServerSslSocketFactory(std::shared_ptr<const ServerContext> context)
    : context_(std::move(context)) {}

network::TransportSocketPtr ServerSslSocketFactory::createTransportSocket() const {
  return SslSocket::createServer(context());
}

void ServerSslSocketFactory::updateContext(std::shared_ptr<const ServerContext> context) {
  // The old context is released outside the lock (its last reference may be here).
  std::shared_ptr<const ServerContext> old;
  {
    absl::MutexLock lock(&mutex_);
    old = std::move(context_);
    context_ = std::move(context);
  }
}

absl::Status ServerSslSocketFactory::updateConfig(const ServerContextConfig& config) {
  absl::StatusOr<std::shared_ptr<const ServerContext>> context = ServerContext::create(config);
  if (!context.ok()) {
    return context.status();
  }
  updateContext(*std::move(context));
  return absl::OkStatus();
}

std::shared_ptr<const ServerContext> ServerSslSocketFactory::context() const {
  absl::MutexLock lock(&mutex_);
  return context_;
}

absl::StatusOr<std::unique_ptr<ClientSslSocketFactory>> ClientSslSocketFactory::create(
    const envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext& proto) {
  absl::StatusOr<ClientContextConfig> config = ClientContextConfig::create(proto);
  if (!config.ok()) {
    return config.status();
  }
  absl::StatusOr<std::shared_ptr<const ClientContext>> context = ClientContext::create(*config);
  if (!context.ok()) {
    return context.status();
  }
  return std::make_unique<ClientSslSocketFactory>(*std::move(context));
}

ClientSslSocketFactory::ClientSslSocketFactory(std::shared_ptr<const ClientContext> context)
    : context_(std::move(context)) {}

network::TransportSocketPtr ClientSslSocketFactory::createTransportSocket(
    absl::string_view sni_override) const {
  std::shared_ptr<const ClientContext> current = context();
  std::string sni = sni_override.empty() ? current->sni() : std::string(sni_override);
  return SslSocket::createClient(std::move(current), std::move(sni));
}

void ClientSslSocketFactory::updateContext(std::shared_ptr<const ClientContext> context) {
  std::shared_ptr<const ClientContext> old;
  {
    absl::MutexLock lock(&mutex_);
    old = std::move(context_);
    context_ = std::move(context);
  }
}

absl::Status ClientSslSocketFactory::updateConfig(const ClientContextConfig& config) {
  absl::StatusOr<std::shared_ptr<const ClientContext>> context = ClientContext::create(config);
  if (!context.ok()) {
    return context.status();
  }
  updateContext(*std::move(context));
  return absl::OkStatus();
}

std::shared_ptr<const ClientContext> ClientSslSocketFactory::context() const {
  absl::MutexLock lock(&mutex_);
  return context_;
}

}  // namespace waystone::tls
