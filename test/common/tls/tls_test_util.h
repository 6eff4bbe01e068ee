#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "envoy/extensions/transport_sockets/tls/v3/common.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/listen_socket.h"
#include "source/common/tls/ssl_socket.h"
#include "source/common/tls/ssl_socket_factory.h"
#include "test/common/network/network_test_util.h"
#include "test/test_common/test_certificate_authority.h"

namespace waystone::tls::test {

namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
using waystone::test::IssuedCertificate;

// Proto builders (inline PEM).
void addInlineCertificate(tlsv3::CommonTlsContext& common, const IssuedCertificate& certificate);
void setInlineTrustedCa(tlsv3::CommonTlsContext& common, const std::string& ca_pem);
void addSanMatcher(tlsv3::CommonTlsContext& common, tlsv3::SubjectAltNameMatcher::SanType type,
                   const envoy::type::matcher::v3::StringMatcher& matcher);
envoy::type::matcher::v3::StringMatcher exactMatcher(const std::string& value);
envoy::type::matcher::v3::StringMatcher prefixMatcher(const std::string& value);
void setVersions(tlsv3::CommonTlsContext& common, tlsv3::TlsParameters::TlsProtocol min,
                 tlsv3::TlsParameters::TlsProtocol max);

// A server context presenting `certificate`; with `client_ca`, client certificates are verified
// against it (and required when `require_client_certificate`).
tlsv3::DownstreamTlsContext serverProto(const IssuedCertificate& certificate,
                                        const std::string& client_ca = "",
                                        bool require_client_certificate = false);
// A client context trusting `server_ca` (none: no verification), presenting `certificate` if set.
tlsv3::UpstreamTlsContext clientProto(const std::string& server_ca,
                                      const IssuedCertificate* certificate = nullptr);

std::unique_ptr<ServerSslSocketFactory> serverFactory(const tlsv3::DownstreamTlsContext& proto);
std::unique_ptr<ClientSslSocketFactory> clientFactory(const tlsv3::UpstreamTlsContext& proto);

// One end of a connection under test, with its recorders. Not movable: the connection points at
// the recorders.
struct Endpoint {
  network::test::RecordingCallbacks callbacks;
  network::test::CollectingReader reader;
  // Owned by `connection` (null for a raw connection).
  SslSocket* ssl = nullptr;
  // Declared last: destroyed first, while the recorders it points to still exist.
  std::unique_ptr<network::ConnectionImpl> connection;

  bool connected() const { return callbacks.count(network::ConnectionEvent::Connected) > 0; }
  bool closed() const { return callbacks.closed(); }
  std::string failureReason() const { return std::string(connection->transportFailureReason()); }
};

// A TLS listener on 127.0.0.1:0 and TLS clients on one dispatcher, with real sockets.
class TlsConnectionTest : public testing::Test {
 protected:
  // Accepts connections with a transport from `factory` (which must outlive the test's
  // connections' creation).
  void listen(const ServerSslSocketFactory& factory);
  // Starts a TLS client connection (does not wait).
  Endpoint& connect(const ClientSslSocketFactory& factory, absl::string_view sni = {});
  // Starts a plain TCP client connection.
  Endpoint& connectRaw();

  // Runs the loop until `done` holds (20 s at most).
  bool runUntil(const std::function<bool()>& done);
  // Waits for the n-th accepted connection and returns it.
  Endpoint* waitForServer(size_t index);
  // Client and its server connection both report Connected.
  bool waitForHandshake(Endpoint& client, size_t server_index);

  void write(Endpoint& endpoint, absl::string_view data, bool end_stream);

  // Declared first: destroyed last.
  event::DispatcherImpl dispatcher_{"tls_test"};
  std::unique_ptr<network::ListenSocket> socket_;
  event::FileEventPtr accept_event_;
  const ServerSslSocketFactory* server_factory_ = nullptr;
  std::optional<uint32_t> server_buffer_limit_;
  std::function<void(Endpoint&)> on_accept_;
  std::vector<std::unique_ptr<Endpoint>> servers_;
  std::vector<std::unique_ptr<Endpoint>> clients_;

 private:
  void onAcceptReady();
};

}  // namespace waystone::tls::test
