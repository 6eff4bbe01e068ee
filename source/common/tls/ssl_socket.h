#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "source/common/network/transport_socket.h"
#include "source/common/tls/connection_info.h"
#include "source/common/tls/context_impl.h"
#include "source/common/tls/openssl_util.h"
#include "source/common/tls/socket_bio.h"

namespace waystone::tls {

// The TLS transport of one connection: an OpenSSL SSL over the connection's socket, driven by
// the connection's non-blocking reads and writes (see network/transport_socket.h).
//
// Handshake: a client starts it in onConnected(); a server on its first doRead (the ClientHello).
// It then advances whenever the socket is readable (doRead) or, after OpenSSL asked to write,
// writable (doWrite). On completion both sides raise ConnectionEvent::Connected (as Envoy does;
// for a server connection it is the moment the peer identity is known) and the ConnectionInfo
// facts are fixed. A failure closes the connection (PostIoAction::Close) with the reason:
// OpenSSL's error text plus, when one of our checks refused the peer, what it refused.
//
// Data: doRead decrypts into the connection's buffer up to `max_bytes`, but always empties
// OpenSSL's own buffer of already-decrypted bytes: the connection's file event is
// level-triggered on the socket and would never fire again for bytes held inside OpenSSL.
// doWrite encrypts from the front of the buffer, at most one record (16 KiB) per SSL_write, and
// drains exactly what OpenSSL accepted (partial-write mode); after WANT_WRITE the same bytes are
// still at the front for the retry (and may have moved: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
//
// End of stream: doWrite with end_stream sends close_notify once the buffer is empty (TLS half
// close; the TCP write side stays open for alerts, as in Envoy). The peer's close_notify, or a TCP
// FIN without one, is end_stream on read. closeSocket() sends close_notify if it has not gone yet.
class SslSocket final : public network::TransportSocket,
                        public ConnectionInfo,
                        private ContextImpl::HandshakeCallbacks {
 public:
  // Bytes given to one SSL_write: one full TLS record.
  static constexpr uint64_t kMaxWriteChunk = 16 * 1024;

  static std::unique_ptr<SslSocket> createServer(std::shared_ptr<const ServerContext> context);
  // `sni` is sent in the ClientHello (none if empty) and keys the session cache.
  static std::unique_ptr<SslSocket> createClient(std::shared_ptr<const ClientContext> context,
                                                 std::string sni);

  ~SslSocket() override = default;
  SslSocket(const SslSocket&) = delete;
  SslSocket& operator=(const SslSocket&) = delete;

  // network::TransportSocket
  void setTransportSocketCallbacks(network::TransportSocketCallbacks& callbacks) override;
  absl::string_view protocol() const override { return info_.alpn; }
  void onConnected() override;
  network::IoResult doRead(buffer::OwnedImpl& buffer, uint64_t max_bytes) override;
  network::IoResult doWrite(buffer::OwnedImpl& buffer, bool end_stream) override;
  void closeSocket(network::ConnectionEvent event) override;
  absl::string_view failureReason() const override { return failure_reason_; }
  // No write events for buffered data while the handshake runs (the loop would spin on a
  // writable socket); only when the handshake itself is blocked on a full socket.
  bool canFlushWrite() const override { return state_ != State::InProgress; }
  bool wantsWriteEvent() const override { return handshake_wants_write_; }

  // ConnectionInfo
  bool handshakeComplete() const override { return state_ == State::Complete; }
  bool peerCertificatePresented() const override { return info_.peer_presented; }
  bool peerCertificateValidated() const override { return info_.peer_validated; }
  absl::string_view peerUriSan() const override { return info_.peer_uri_san; }
  const std::vector<std::string>& peerUriSans() const override { return info_.peer_sans.uri; }
  const std::vector<std::string>& peerDnsSans() const override { return info_.peer_sans.dns; }
  absl::string_view peerSubject() const override { return info_.peer_subject; }
  absl::string_view peerCertificateSha256() const override { return info_.peer_sha256; }
  absl::string_view localUriSan() const override { return info_.local_uri_san; }
  absl::string_view tlsVersion() const override { return info_.version; }
  absl::string_view cipherSuite() const override { return info_.cipher; }
  absl::string_view sni() const override { return info_.sni; }
  absl::string_view alpn() const override { return info_.alpn; }
  bool sessionReused() const override { return info_.session_reused; }

  // The context this connection was made with (it keeps it alive).
  const ContextImpl& context() const { return *context_; }

 private:
  enum class State { NotStarted, InProgress, Complete, Failed };

  // Facts fixed at handshake completion.
  struct Info {
    bool peer_presented = false;
    bool peer_validated = false;
    CertificateSans peer_sans;
    std::string peer_uri_san;
    std::string peer_subject;
    std::string peer_sha256;
    std::string local_uri_san;
    std::string version;
    std::string cipher;
    std::string sni;
    std::string alpn;
    bool session_reused = false;
  };

  SslSocket(std::shared_ptr<const ContextImpl> context, bool is_server, std::string sni);

  // ContextImpl::HandshakeCallbacks
  void onHandshakeRefused(std::string detail) override { refused_detail_ = std::move(detail); }
  const std::string& sessionKey() const override { return sni_; }

  // One step of the handshake. Close on failure (failure_reason_ set).
  network::PostIoAction doHandshake();
  void onHandshakeComplete();
  // Records why the connection fails: `what`, our own refusal if any, OpenSSL's queued errors
  // or the socket error. `saved_errno` is errno right after the failing call.
  void setFailure(absl::string_view what, int ssl_error, int saved_errno);
  uint64_t connectionId();

  // Declaration order matters for destruction: the SSL goes first, then the BIO state it points
  // to, then (possibly) the last reference to the context.
  std::shared_ptr<const ContextImpl> context_;
  const bool is_server_;
  const std::string sni_;
  SocketBioState bio_state_;
  SslPtr ssl_;
  network::TransportSocketCallbacks* callbacks_ = nullptr;
  State state_ = State::NotStarted;
  // The last handshake step stopped on a full socket: a writable socket may advance it.
  bool handshake_wants_write_ = false;
  bool shutdown_sent_ = false;
  // The connection called closeSocket(): no more I/O.
  bool closed_ = false;
  std::string refused_detail_;
  std::string failure_reason_;
  Info info_;
};

}  // namespace waystone::tls
