#pragma once

#include <openssl/bio.h>

#include "source/common/network/transport_socket.h"

namespace waystone::tls {

// State behind one socket BIO. Owned by the SslSocket and outliving its SSL (and so the BIO).
struct SocketBioState {
  network::TransportSocketCallbacks* callbacks = nullptr;
  // The last read returned 0: the peer closed its side. OpenSSL asks (BIO_eof) to tell an EOF
  // from an error.
  bool eof = false;
};

// A BIO over the connection's socket: recv() / send(MSG_NOSIGNAL) on callbacks->fd(), read at the
// time of each call (a client connection creates its descriptor after the transport), EAGAIN as
// a retry. Unlike OpenSSL's socket BIO it never raises SIGPIPE. Null on allocation failure.
BIO* newSocketBio(SocketBioState& state);

}  // namespace waystone::tls
