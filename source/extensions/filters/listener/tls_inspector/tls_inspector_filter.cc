#include "source/extensions/filters/listener/tls_inspector/tls_inspector_filter.h"

#include "absl/strings/ascii.h"
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "source/common/common/logger.h"

namespace waystone::extensions::listener_filters::tls_inspector {
namespace {

// One context for every inspection, on every worker (SSL_new on a shared SSL_CTX is
// thread-safe). It never completes a handshake, so it needs no certificate.
SSL_CTX* inspectorContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_client_hello_cb(
        c,
        [](SSL* ssl, int* alert, void* /*arg*/) -> int {
          auto* hello = static_cast<TlsInspectorFilter::ClientHello*>(SSL_get_app_data(ssl));
          hello->status = TlsInspectorFilter::ClientHello::Status::Tls;
          const unsigned char* ext = nullptr;
          size_t len = 0;
          // server_name: list length (2), then entries of type (1), length (2), name.
          if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1 &&
              len >= 5 && ext[2] == TLSEXT_NAMETYPE_host_name) {
            const size_t name_len = (static_cast<size_t>(ext[3]) << 8) | ext[4];
            if (5 + name_len <= len) {
              // Host names are case-insensitive; matchers compare lower case.
              hello->server_name = absl::AsciiStrToLower(
                  absl::string_view(reinterpret_cast<const char*>(ext + 5), name_len));
            }
          }
          // ALPN: list length (2), then length-prefixed (1) protocol names.
          if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
                                        &ext, &len) == 1 &&
              len >= 2) {
            size_t pos = 2;
            while (pos < len) {
              const size_t proto_len = ext[pos++];
              if (proto_len == 0 || pos + proto_len > len) {
                break;
              }
              hello->alpn.emplace_back(reinterpret_cast<const char*>(ext + pos), proto_len);
              pos += proto_len;
            }
          }
          // Stop here: we only wanted to read the hello.
          *alert = SSL_AD_USER_CANCELLED;
          return SSL_CLIENT_HELLO_ERROR;
        },
        nullptr);
    return c;
  }();
  return ctx;
}

}  // namespace

TlsInspectorFilter::ClientHello TlsInspectorFilter::parse(absl::string_view data) {
  ClientHello hello;
  // A TLS record starts with content type handshake (22) and major version 3.
  if (!data.empty() && static_cast<unsigned char>(data[0]) != 22) {
    hello.status = ClientHello::Status::NotTls;
    return hello;
  }
  if (data.size() >= 2 && static_cast<unsigned char>(data[1]) != 3) {
    hello.status = ClientHello::Status::NotTls;
    return hello;
  }
  if (data.empty()) {
    return hello;
  }
  SSL* ssl = SSL_new(inspectorContext());
  BIO* in = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
  BIO_set_mem_eof_return(in, -1);  // out of bytes means "retry", not EOF
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_app_data(ssl, &hello);
  SSL_set_accept_state(ssl);
  const int rc = SSL_do_handshake(ssl);
  if (hello.status != ClientHello::Status::Tls) {
    const int error = SSL_get_error(ssl, rc);
    hello.status = error == SSL_ERROR_WANT_READ ? ClientHello::Status::NeedMoreData
                                                : ClientHello::Status::NotTls;
  }
  SSL_free(ssl);  // frees both BIOs
  return hello;
}

network::ListenerFilterStatus TlsInspectorFilter::onAccept(
    network::ListenerFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  return tryInspect() ? network::ListenerFilterStatus::Continue
                      : network::ListenerFilterStatus::StopIteration;
}

bool TlsInspectorFilter::tryInspect() {
  network::ConnectionSocket& socket = callbacks_->socket();
  const auto peeked = socket.peek(kMaxClientHelloBytes);
  ClientHello hello = parse(peeked.data);
  if (hello.status == ClientHello::Status::NeedMoreData &&
      (peeked.end_stream || peeked.data.size() >= kMaxClientHelloBytes)) {
    hello.status = ClientHello::Status::NotTls;
  }
  switch (hello.status) {
    case ClientHello::Status::NeedMoreData:
      socket.waitForData([this] {
        if (tryInspect()) {
          callbacks_->continueFilterChain(true);
        }
      });
      return false;
    case ClientHello::Status::Tls:
      socket.setDetectedTransportProtocol("tls");
      socket.setRequestedServerName(hello.server_name);
      socket.setRequestedApplicationProtocols(std::move(hello.alpn));
      WAYSTONE_LOG(trace, filter, "tls_inspector: TLS, sni \"%s\"", hello.server_name);
      break;
    case ClientHello::Status::NotTls:
      WAYSTONE_LOG(trace, filter, "tls_inspector: not TLS");
      break;
  }
  return true;
}

}  // namespace waystone::extensions::listener_filters::tls_inspector
