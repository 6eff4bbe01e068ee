#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

#include "source/common/network/transport_socket.h"
#include "source/common/tls/context_config.h"

namespace waystone::tls {

class ServerContext;
class ClientContext;

// Transport socket factories: what a listener's filter chain (server) or a cluster (client) holds
// to give each new connection its TLS transport. No OpenSSL in this header.
//
// The context is swappable at run time (certificate rotation, later SDS): updateContext() or
// updateConfig() replace it for the connections created afterwards; a live connection keeps the
// context it was created with (its SslSocket holds a reference) and so its certificate and
// sessions. createTransportSocket() reads the current context once per new connection under a
// mutex that only updates contend with; it may be called from any worker thread.

class ServerSslSocketFactory {
 public:
  // Builds config and context from the proto. Errors name the field path.
  static absl::StatusOr<std::unique_ptr<ServerSslSocketFactory>> create(
      const envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext& proto);

  explicit ServerSslSocketFactory(std::shared_ptr<const ServerContext> context);

  // A transport for one accepted connection (pass it to the ConnectionImpl constructor).
  network::TransportSocketPtr createTransportSocket() const;

  void updateContext(std::shared_ptr<const ServerContext> context);
  // Builds a context from `config` and swaps it in; on error the current context stays.
  absl::Status updateConfig(const ServerContextConfig& config);

  std::shared_ptr<const ServerContext> context() const;

 private:
  mutable absl::Mutex mutex_;
  std::shared_ptr<const ServerContext> context_ ABSL_GUARDED_BY(mutex_);
};

class ClientSslSocketFactory {
 public:
  static absl::StatusOr<std::unique_ptr<ClientSslSocketFactory>> create(
      const envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext& proto);

  explicit ClientSslSocketFactory(std::shared_ptr<const ClientContext> context);

  // A transport for one outgoing connection. `sni_override`, when not empty, replaces the
  // context's configured SNI (e.g. the host name of the request that caused the connection).
  network::TransportSocketPtr createTransportSocket(absl::string_view sni_override = {}) const;

  void updateContext(std::shared_ptr<const ClientContext> context);
  absl::Status updateConfig(const ClientContextConfig& config);

  std::shared_ptr<const ClientContext> context() const;

 private:
  mutable absl::Mutex mutex_;
  std::shared_ptr<const ClientContext> context_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace waystone::tls
