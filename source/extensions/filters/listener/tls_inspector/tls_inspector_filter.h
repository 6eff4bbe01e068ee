#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "source/common/network/listener_filter.h"

namespace waystone::extensions::listener_filters::tls_inspector {

// envoy.filters.listener.tls_inspector: peeks at the first bytes of a connection and, if they
// are a TLS ClientHello, records transport protocol "tls", the SNI and the offered ALPN
// protocols for filter chain selection. The ClientHello is parsed by OpenSSL itself (a
// throwaway server handshake stopped in its client-hello callback), not by hand. Waits for more
// bytes while the hello is incomplete, up to kMaxClientHelloBytes; anything that is not TLS is
// left as "raw_buffer".
class TlsInspectorFilter final : public network::ListenerFilter {
 public:
  static constexpr uint64_t kMaxClientHelloBytes = 16 * 1024 + 5;

  struct ClientHello {
    enum class Status { NeedMoreData, Tls, NotTls } status = Status::NeedMoreData;
    std::string server_name;
    std::vector<std::string> alpn;
  };
  // The verdict on the bytes seen so far (exposed for tests).
  static ClientHello parse(absl::string_view data);

  network::ListenerFilterStatus onAccept(network::ListenerFilterCallbacks& callbacks) override;

 private:
  bool tryInspect();

  network::ListenerFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace waystone::extensions::listener_filters::tls_inspector
