#include "test/common/tls/tls_test_util.h"

#include <unistd.h>

#include <cerrno>

#include <sys/socket.h>

#include "source/common/network/address.h"

namespace waystone::tls::test {

void addInlineCertificate(tlsv3::CommonTlsContext& common, const IssuedCertificate& certificate) {
  tlsv3::TlsCertificate* added = common.add_tls_certificates();
  added->mutable_certificate_chain()->set_inline_string(certificate.chain_pem);
  added->mutable_private_key()->set_inline_string(certificate.key_pem);
}

void setInlineTrustedCa(tlsv3::CommonTlsContext& common, const std::string& ca_pem) {
  common.mutable_validation_context()->mutable_trusted_ca()->set_inline_string(ca_pem);
}

void addSanMatcher(tlsv3::CommonTlsContext& common, tlsv3::SubjectAltNameMatcher::SanType type,
                   const envoy::type::matcher::v3::StringMatcher& matcher) {
  tlsv3::SubjectAltNameMatcher* added =
      common.mutable_validation_context()->add_match_typed_subject_alt_names();
  added->set_san_type(type);
  *added->mutable_matcher() = matcher;
}

envoy::type::matcher::v3::StringMatcher exactMatcher(const std::string& value) {
  envoy::type::matcher::v3::StringMatcher matcher;
  matcher.set_exact(value);
  return matcher;
}

envoy::type::matcher::v3::StringMatcher prefixMatcher(const std::string& value) {
  envoy::type::matcher::v3::StringMatcher matcher;
  matcher.set_prefix(value);
  return matcher;
}

void setVersions(tlsv3::CommonTlsContext& common, tlsv3::TlsParameters::TlsProtocol min,
                 tlsv3::TlsParameters::TlsProtocol max) {
  common.mutable_tls_params()->set_tls_minimum_protocol_version(min);
  common.mutable_tls_params()->set_tls_maximum_protocol_version(max);
}

tlsv3::DownstreamTlsContext serverProto(const IssuedCertificate& certificate,
                                        const std::string& client_ca,
                                        bool require_client_certificate) {
  tlsv3::DownstreamTlsContext proto;
  addInlineCertificate(*proto.mutable_common_tls_context(), certificate);
  if (!client_ca.empty()) {
    setInlineTrustedCa(*proto.mutable_common_tls_context(), client_ca);
  }
  if (require_client_certificate) {
    proto.mutable_require_client_certificate()->set_value(true);
  }
  return proto;
}

tlsv3::UpstreamTlsContext clientProto(const std::string& server_ca,
                                      const IssuedCertificate* certificate) {
  tlsv3::UpstreamTlsContext proto;
  if (!server_ca.empty()) {
    setInlineTrustedCa(*proto.mutable_common_tls_context(), server_ca);
  }
  if (certificate != nullptr) {
    addInlineCertificate(*proto.mutable_common_tls_context(), *certificate);
  }
  return proto;
}

std::unique_ptr<ServerSslSocketFactory> serverFactory(const tlsv3::DownstreamTlsContext& proto) {
  absl::StatusOr<std::unique_ptr<ServerSslSocketFactory>> factory =
      ServerSslSocketFactory::create(proto);
  EXPECT_TRUE(factory.ok()) << factory.status();
  return factory.ok() ? *std::move(factory) : nullptr;
}

std::unique_ptr<ClientSslSocketFactory> clientFactory(const tlsv3::UpstreamTlsContext& proto) {
  absl::StatusOr<std::unique_ptr<ClientSslSocketFactory>> factory =
      ClientSslSocketFactory::create(proto);
  EXPECT_TRUE(factory.ok()) << factory.status();
  return factory.ok() ? *std::move(factory) : nullptr;
}

void TlsConnectionTest::listen(const ServerSslSocketFactory& factory) {
  server_factory_ = &factory;
  absl::StatusOr<network::address::InstanceConstSharedPtr> address =
      network::address::parseIpAndPort("127.0.0.1:0");
  ASSERT_TRUE(address.ok()) << address.status();
  auto socket = network::ListenSocket::create(*address, network::ListenSocketOptions());
  ASSERT_TRUE(socket.ok()) << socket.status();
  socket_ = *std::move(socket);
  accept_event_ = dispatcher_.createFileEvent(
      socket_->fd(), [this](uint32_t) { onAcceptReady(); }, event::FileReadyType::kRead);
}

void TlsConnectionTest::onAcceptReady() {
  while (true) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    const int fd = ::accept4(socket_->fd(), reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << "accept4: " << errno;
      return;
    }
    auto remote = network::address::fromSockAddr(ss, len);
    auto local = network::address::localAddressFromFd(fd);
    ASSERT_TRUE(remote.ok() && local.ok());
    auto endpoint = std::make_unique<Endpoint>();
    network::TransportSocketPtr transport = server_factory_->createTransportSocket();
    endpoint->ssl = dynamic_cast<SslSocket*>(transport.get());
    endpoint->connection = std::make_unique<network::ConnectionImpl>(
        dispatcher_, fd, *std::move(remote), *std::move(local), std::move(transport));
    endpoint->connection->addConnectionCallbacks(endpoint->callbacks);
    endpoint->connection->setReadCallback(&endpoint->reader);
    if (server_buffer_limit_.has_value()) {
      endpoint->connection->setBufferLimits(*server_buffer_limit_);
    }
    servers_.push_back(std::move(endpoint));
    if (on_accept_) {
      on_accept_(*servers_.back());
    }
  }
}

Endpoint& TlsConnectionTest::connect(const ClientSslSocketFactory& factory, absl::string_view sni) {
  auto endpoint = std::make_unique<Endpoint>();
  network::TransportSocketPtr transport = factory.createTransportSocket(sni);
  endpoint->ssl = dynamic_cast<SslSocket*>(transport.get());
  auto connection = std::make_unique<network::ClientConnectionImpl>(
      dispatcher_, socket_->localAddress(), nullptr, std::move(transport));
  connection->addConnectionCallbacks(endpoint->callbacks);
  connection->setReadCallback(&endpoint->reader);
  network::ClientConnectionImpl* raw = connection.get();
  endpoint->connection = std::move(connection);
  raw->connect();
  clients_.push_back(std::move(endpoint));
  return *clients_.back();
}

Endpoint& TlsConnectionTest::connectRaw() {
  auto endpoint = std::make_unique<Endpoint>();
  auto connection = std::make_unique<network::ClientConnectionImpl>(
      dispatcher_, socket_->localAddress(), nullptr, nullptr);
  connection->addConnectionCallbacks(endpoint->callbacks);
  connection->setReadCallback(&endpoint->reader);
  network::ClientConnectionImpl* raw = connection.get();
  endpoint->connection = std::move(connection);
  raw->connect();
  clients_.push_back(std::move(endpoint));
  return *clients_.back();
}

bool TlsConnectionTest::runUntil(const std::function<bool()>& done) {
  return network::test::runUntil(dispatcher_, done);
}

Endpoint* TlsConnectionTest::waitForServer(size_t index) {
  if (!runUntil([&] { return servers_.size() > index; })) {
    return nullptr;
  }
  return servers_[index].get();
}

bool TlsConnectionTest::waitForHandshake(Endpoint& client, size_t server_index) {
  return runUntil([&] {
    return client.connected() && servers_.size() > server_index &&
           servers_[server_index]->connected();
  });
}

void TlsConnectionTest::write(Endpoint& endpoint, absl::string_view data, bool end_stream) {
  buffer::OwnedImpl buffer(data);
  endpoint.connection->write(buffer, end_stream);
}

}  // namespace waystone::tls::test
