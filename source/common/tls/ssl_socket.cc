#include "source/common/tls/ssl_socket.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include <openssl/err.h>

#include "source/common/common/logger.h"

namespace waystone::tls {

std::unique_ptr<SslSocket> SslSocket::createServer(std::shared_ptr<const ServerContext> context) {
  return std::unique_ptr<SslSocket>(new SslSocket(std::move(context), /*is_server=*/true, ""));
}

std::unique_ptr<SslSocket> SslSocket::createClient(std::shared_ptr<const ClientContext> context,
                                                   std::string sni) {
  return std::unique_ptr<SslSocket>(
      new SslSocket(std::move(context), /*is_server=*/false, std::move(sni)));
}

SslSocket::SslSocket(std::shared_ptr<const ContextImpl> context, bool is_server, std::string sni)
    : context_(std::move(context)), is_server_(is_server), sni_(std::move(sni)) {
  // A failure here is reported by the first I/O (a constructor cannot return a status).
  ERR_clear_error();
  ssl_.reset(SSL_new(context_->sslCtx()));
  if (ssl_ == nullptr) {
    setFailure("cannot create a TLS session", SSL_ERROR_SSL, 0);
    state_ = State::Failed;
    return;
  }
  BIO* bio = newSocketBio(bio_state_);
  if (bio == nullptr) {
    setFailure("cannot create the socket BIO", SSL_ERROR_SSL, 0);
    state_ = State::Failed;
    return;
  }
  // One BIO for both directions: SSL_set_bio takes the one reference.
  SSL_set_bio(ssl_.get(), bio, bio);
  if (!ContextImpl::attachHandshakeCallbacks(ssl_.get(), this)) {
    setFailure("cannot attach the connection to its TLS session", SSL_ERROR_SSL, 0);
    state_ = State::Failed;
    return;
  }
  if (is_server_) {
    SSL_set_accept_state(ssl_.get());
    return;
  }
  SSL_set_connect_state(ssl_.get());
  if (!sni_.empty() && SSL_set_tlsext_host_name(ssl_.get(), sni_.c_str()) != 1) {
    setFailure(absl::StrCat("cannot send SNI \"", sni_, "\""), SSL_ERROR_SSL, 0);
    state_ = State::Failed;
    return;
  }
  const auto* client = static_cast<const ClientContext*>(context_.get());
  if (SslSessionPtr session = client->cachedSession(sni_); session != nullptr) {
    // Takes its own reference; a session the server no longer accepts costs a full handshake.
    if (SSL_set_session(ssl_.get(), session.get()) != 1) {
      ERR_clear_error();
    }
  }
}

void SslSocket::setTransportSocketCallbacks(network::TransportSocketCallbacks& callbacks) {
  callbacks_ = &callbacks;
  bio_state_.callbacks = &callbacks;
}

uint64_t SslSocket::connectionId() {
  return callbacks_ != nullptr ? callbacks_->connection().id() : 0;
}

void SslSocket::onConnected() {
  if (state_ == State::Failed) {
    callbacks_->raiseEvent(network::ConnectionEvent::RemoteClose);
    return;
  }
  if (state_ != State::NotStarted) {
    return;
  }
  if (doHandshake() == network::PostIoAction::Close) {
    callbacks_->raiseEvent(network::ConnectionEvent::RemoteClose);
  }
}

network::PostIoAction SslSocket::doHandshake() {
  state_ = State::InProgress;
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_.get());
  const int saved_errno = errno;
  if (rc == 1) {
    handshake_wants_write_ = false;
    onHandshakeComplete();
    return network::PostIoAction::KeepOpen;
  }
  const int error = SSL_get_error(ssl_.get(), rc);
  if (error == SSL_ERROR_WANT_READ) {
    handshake_wants_write_ = false;
    return network::PostIoAction::KeepOpen;
  }
  if (error == SSL_ERROR_WANT_WRITE) {
    handshake_wants_write_ = true;
    return network::PostIoAction::KeepOpen;
  }
  setFailure("TLS handshake failed", error, saved_errno);
  state_ = State::Failed;
  WAYSTONE_LOG(debug, connection, "[C%d] %s", connectionId(), failure_reason_);
  return network::PostIoAction::Close;
}

void SslSocket::onHandshakeComplete() {
  state_ = State::Complete;
  SSL* ssl = ssl_.get();
  info_.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl); cipher != nullptr) {
    info_.cipher = SSL_CIPHER_get_name(cipher);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  if (alpn != nullptr && alpn_length > 0) {
    info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  }
  if (is_server_) {
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); name != nullptr) {
      info_.sni = name;
    }
  } else {
    info_.sni = sni_;
  }
  info_.session_reused = SSL_session_reused(ssl) == 1;
  if (const X509* peer = SSL_get0_peer_certificate(ssl); peer != nullptr) {
    info_.peer_presented = true;
    // The handshake only completes with a certificate that passed our checks (for a resumed
    // session: passed them when the session was made, under this same context).
    info_.peer_validated = context_->validatesPeer() && SSL_get_verify_result(ssl) == X509_V_OK;
    info_.peer_sans = certificateSans(peer);
    info_.peer_uri_san = std::string(info_.peer_sans.uniqueSpiffeUri());
    info_.peer_subject = subjectString(peer);
    info_.peer_sha256 = sha256Hex(peer);
  }
  info_.local_uri_san = std::string(context_->localUriSan(SSL_get_certificate(ssl)));
  WAYSTONE_LOG(debug, connection, "[C%d] TLS handshake complete: %s %s alpn=%s peer=%s%s",
               connectionId(), info_.version, info_.cipher, info_.alpn,
               info_.peer_uri_san.empty() ? "-" : info_.peer_uri_san,
               info_.session_reused ? " (resumed)" : "");
  callbacks_->raiseEvent(network::ConnectionEvent::Connected);
}

void SslSocket::setFailure(absl::string_view what, int ssl_error, int saved_errno) {
  std::string reason(what);
  if (!refused_detail_.empty()) {
    absl::StrAppend(&reason, ": ", refused_detail_);
  }
  const std::string errors = drainOpensslErrors();
  if (!errors.empty()) {
    absl::StrAppend(&reason, ": ", errors);
  } else if (ssl_error == SSL_ERROR_SYSCALL && saved_errno != 0) {
    absl::StrAppend(&reason, ": ", std::strerror(saved_errno));
  } else if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
    absl::StrAppend(&reason, ": connection closed by peer");
  }
  failure_reason_ = std::move(reason);
}

network::IoResult SslSocket::doRead(buffer::OwnedImpl& buffer, uint64_t max_bytes) {
  network::IoResult result;
  if (state_ == State::Failed || closed_) {
    result.action = network::PostIoAction::Close;
    return result;
  }
  if (state_ != State::Complete) {
    if (doHandshake() == network::PostIoAction::Close) {
      result.action = network::PostIoAction::Close;
      return result;
    }
    // Connected's callbacks may have closed the connection.
    if (state_ != State::Complete || closed_) {
      return result;
    }
  }
  SSL* ssl = ssl_.get();
  char chunk[16 * 1024];
  while (true) {
    const int pending = SSL_pending(ssl);
    int want = static_cast<int>(sizeof(chunk));
    if (result.bytes_processed >= max_bytes) {
      // Over budget: only what OpenSSL already decrypted (no socket event would bring it out).
      if (pending <= 0) {
        break;
      }
      want = std::min(want, pending);
    }
    ERR_clear_error();
    const int rc = SSL_read(ssl, chunk, want);
    const int saved_errno = errno;
    if (rc > 0) {
      buffer.add(chunk, static_cast<uint64_t>(rc));
      result.bytes_processed += static_cast<uint64_t>(rc);
      if (callbacks_->shouldDrainReadBuffer() && SSL_pending(ssl) <= 0) {
        break;
      }
      continue;
    }
    const int error = SSL_get_error(ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      break;  // the socket is empty (or full, for a post-handshake reply): wait for the next event
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
      // close_notify, or a FIN without one (SSL_OP_IGNORE_UNEXPECTED_EOF).
      result.end_stream = true;
      break;
    }
    setFailure("TLS read failed", error, saved_errno);
    state_ = State::Failed;
    WAYSTONE_LOG(debug, connection, "[C%d] %s", connectionId(), failure_reason_);
    result.action = network::PostIoAction::Close;
    break;
  }
  return result;
}

network::IoResult SslSocket::doWrite(buffer::OwnedImpl& buffer, bool end_stream) {
  network::IoResult result;
  if (state_ == State::Failed || closed_) {
    result.action = network::PostIoAction::Close;
    return result;
  }
  if (state_ != State::Complete) {
    // Waiting for the peer's handshake messages: only a read can advance it (a writable socket
    // says nothing new). Not stepping it here also keeps Connected from being raised inside a
    // caller's write().
    if (state_ == State::InProgress && !handshake_wants_write_) {
      return result;
    }
    if (doHandshake() == network::PostIoAction::Close) {
      result.action = network::PostIoAction::Close;
      return result;
    }
    if (state_ != State::Complete || closed_) {
      return result;
    }
  }
  if (shutdown_sent_) {
    // Nothing may follow close_notify; the connection never writes after end_stream anyway.
    result.end_stream = end_stream;
    return result;
  }
  SSL* ssl = ssl_.get();
  while (buffer.length() > 0) {
    // The same first bytes (at least as many) are offered again after WANT_WRITE, as OpenSSL
    // requires: only this loop drains the buffer, and only what was written.
    const uint64_t length = std::min<uint64_t>(buffer.length(), kMaxWriteChunk);
    const absl::string_view data = buffer.linearize(length);
    ERR_clear_error();
    const int rc = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    const int saved_errno = errno;
    if (rc > 0) {
      buffer.drain(static_cast<uint64_t>(rc));
      result.bytes_processed += static_cast<uint64_t>(rc);
      continue;
    }
    const int error = SSL_get_error(ssl, rc);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
      return result;
    }
    setFailure("TLS write failed", error, saved_errno);
    state_ = State::Failed;
    WAYSTONE_LOG(debug, connection, "[C%d] %s", connectionId(), failure_reason_);
    result.action = network::PostIoAction::Close;
    return result;
  }
  if (end_stream) {
    ERR_clear_error();
    const int rc = SSL_shutdown(ssl);
    const int saved_errno = errno;
    if (rc < 0) {
      const int error = SSL_get_error(ssl, rc);
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
        return result;  // the alert is queued; the next writable event flushes it
      }
      setFailure("TLS shutdown failed", error, saved_errno);
      state_ = State::Failed;
      result.action = network::PostIoAction::Close;
      return result;
    }
    shutdown_sent_ = true;
    result.end_stream = true;
  }
  return result;
}

void SslSocket::closeSocket(network::ConnectionEvent) {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (state_ == State::Complete && !shutdown_sent_) {
    // Best effort, non-blocking: a full socket loses it, as in Envoy. The peer then sees a FIN
    // without close_notify, which it may treat as a truncation.
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    shutdown_sent_ = true;
  }
}

}  // namespace waystone::tls
