#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/http/codec.h"
#include "source/common/http/http2/server_connection_impl.h"
#include "source/common/network/address.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener.h"
#include "source/common/network/listener_impl.h"

namespace waystone::extensions::network_filters::tcp_proxy::test {

// An HTTP/2 CONNECT server on the test thread's dispatcher (plain h2c on 127.0.0.1:0), using
// the real nghttp2 server codec over real loopback connections, scripted per test: how each
// CONNECT is answered, and what it does with the tunnel's bytes. Records every stream.
class H2ConnectServer : public network::ListenerCallbacks {
 public:
  enum class Mode {
    Echo,            // 200, then echoes bytes and the half-close
    Refuse,          // answers `status` with END_STREAM
    ResetOnHeaders,  // resets the stream instead of answering
    ByeFirst,        // 200, sends "bye" with END_STREAM, then collects what the client sends
    ByeThenReset,    // as ByeFirst, then RST_STREAM(NO_ERROR) (Go's net/http does this)
    ResetOnData,     // 200, then resets the stream at the first bytes
  };

  struct Options {
    Mode mode = Mode::Echo;
    uint32_t status = 503;  // Refuse
    uint32_t max_concurrent_streams = 100;
    // Receive windows (stream and connection): small ones make flow control bite early.
    uint32_t window = 65535;
    // Added to each 200 response.
    std::vector<std::pair<std::string, std::string>> response_headers;
  };

  struct Stream : public http::RequestDecoder, public http::StreamCallbacks {
    Stream(H2ConnectServer& server, http::ResponseEncoder& encoder, uint64_t connection_id);
    void decodeHeaders(http::RequestHeaderMapPtr&& headers, bool end_stream) override;
    void decodeData(buffer::Instance& data, bool end_stream) override;
    void decodeTrailers(http::RequestTrailerMapPtr&&) override {}
    void onResetStream(http::StreamResetReason reason, absl::string_view details) override;

    H2ConnectServer& server;
    http::ResponseEncoder* encoder;  // null once the stream is gone
    const uint64_t connection_id;
    http::RequestHeaderMapPtr headers;
    std::string received;
    bool end_stream = false;
    bool reset = false;
    bool finished = false;  // reset, or both directions ended
    bool response_ended = false;
    event::TimerPtr reset_timer;
  };

  H2ConnectServer(event::Dispatcher& dispatcher, Options options);
  ~H2ConnectServer() override;

  uint16_t port() const;
  const std::vector<std::unique_ptr<Stream>>& streams() const { return streams_; }
  size_t connections() const { return connections_.size(); }
  // Streams open at the same time on one connection, at most (over the server's life).
  size_t maxConcurrentStreamsSeen() const { return max_concurrent_; }
  // Stops (true) / resumes (false) reading every stream: the peer runs out of window.
  void pauseReading(bool pause);
  // Closes every connection at once (the peer sees them go away).
  void closeConnections();

  // network::ListenerCallbacks
  void onAccept(network::ConnectionPtr&& connection) override;

 private:
  class Connection;
  friend struct Stream;

  event::Dispatcher& dispatcher_;
  const Options options_;
  std::unique_ptr<network::ListenSocket> socket_;
  std::unique_ptr<network::ListenerImpl> listener_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Stream>> streams_;
  size_t max_concurrent_ = 0;
  bool paused_ = false;
};

}  // namespace waystone::extensions::network_filters::tcp_proxy::test
