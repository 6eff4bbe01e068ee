#pragma once

// The fixture of the HTTP connection manager unit tests: a real ConnectionManagerImpl on the
// server end of a real loopback connection, with the real HTTP/1 and HTTP/2 codecs, driven by a
// raw-bytes HTTP/1 client or our HTTP/2 client codec (whose received bytes are kept, so tests can
// read the frames, GOAWAYs included). The HTTP filters are test filters that log what they see;
// the terminal one answers (or holds the request until the test releases it).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_manager_config.h"
#include "source/common/http/conn_manager_impl.h"
#include "source/common/http/filter.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/filter.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener_impl.h"
#include "source/common/stats/store.h"
#include "test/common/http/http2/codec_test_util.h"
#include "test/common/http/http2/http2_frame.h"
#include "test/common/network/network_test_util.h"

namespace waystone::http::test {

// One downstream connection with its connection manager, as server::ActiveConnection hosts it.
class HcmConnection : public network::ReadFilterCallbacks,
                      public network::ReadCallback,
                      public network::ConnectionCallbacks {
 public:
  HcmConnection(event::Dispatcher& dispatcher, network::ConnectionPtr connection,
                ConnectionManagerConfigConstSharedPtr config);
  ~HcmConnection() override;

  ConnectionManagerImpl& hcm() { return *hcm_; }
  bool closed() const { return closed_; }

  // network::ReadFilterCallbacks
  network::Connection& connection() override { return *connection_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  void continueReading() override {}
  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override { hcm_->onData(data, end_stream); }
  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override {
    closed_ |= event != network::ConnectionEvent::Connected;
  }

 private:
  event::Dispatcher& dispatcher_;
  network::ConnectionPtr connection_;
  std::unique_ptr<ConnectionManagerImpl> hcm_;
  bool closed_ = false;
};

// An HTTP/1 response as the raw client parsed it (content-length framed, or up to the close).
struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  bool has(absl::string_view name) const;
  std::string header(absl::string_view name) const;
};

// A client that writes bytes and parses HTTP/1 responses from what it reads.
struct RawClient {
  network::ClientConnectionPtr connection;
  network::test::RecordingCallbacks callbacks;
  network::test::CollectingReader reader;
  size_t consumed = 0;  // of reader.received, by parsed responses

  // The peer half-closed or closed.
  bool sawEndOfStream() const { return reader.end_streams > 0 || callbacks.closed(); }
};

// Our HTTP/2 client codec on a real connection; every byte received is kept in `raw`.
class H2Client : public network::ReadCallback, public CodecTransport, public ConnectionCallbacks {
 public:
  H2Client(event::Dispatcher& dispatcher, network::ClientConnectionPtr connection);

  // Sends a request on a new stream; the decoder records the response.
  http2::test::TestResponseDecoder& request(
      absl::string_view method, absl::string_view path, bool end_stream = true,
      const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  RequestEncoder& encoder(size_t index) { return *encoders_[index]; }

  // Frames received so far, and the last-stream-ids of the GOAWAYs among them.
  std::vector<http2::test::Frame> frames() const { return http2::test::parseFrames(raw); }
  std::vector<uint32_t> goAwayLastStreamIds() const;

  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;
  // CodecTransport
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override { connection->readDisable(disable); }
  uint32_t bufferLimit() const override { return 1024 * 1024; }
  // ConnectionCallbacks
  void onGoAway() override { ++goaways; }

  // The peer half-closed or closed.
  bool sawEndOfStream() const { return peer_end_stream || callbacks.closed(); }

  network::ClientConnectionPtr connection;
  network::test::RecordingCallbacks callbacks;
  ClientConnectionPtr codec;
  std::string raw;
  bool peer_end_stream = false;
  absl::Status status;
  int goaways = 0;
  std::vector<std::unique_ptr<http2::test::TestResponseDecoder>> responses;

 private:
  std::vector<RequestEncoder*> encoders_;
};

// What the test HTTP filters do and what they saw. Built into every stream's chain in this order:
// a recorder of the stream info, the logging filters, the terminal filter.
struct FilterScript {
  // A request that reached the terminal filter.
  struct SeenRequest {
    RequestHeaderMap headers;
    std::string body;
    bool complete = false;
  };
  // A stream's info when its filters were destroyed (the stream ended).
  struct EndedStream {
    uint64_t response_flags = 0;
    std::string details;
  };
  // A request the terminal filter holds until the test answers it.
  struct HeldRequest {
    StreamDecoderFilterCallbacks* callbacks = nullptr;
    bool destroyed = false;
  };

  // Decoder/encoder filters that log "<name>.<callback>" to `log`.
  std::vector<std::string> logging_filters;
  std::vector<std::string> log;
  // Called from a logging filter's decodeHeaders: (name, callbacks) -> status. Continue if unset.
  std::function<FilterHeadersStatus(const std::string&, StreamDecoderFilterCallbacks&)>
      on_decode_headers;
  // The terminal filter answers 200 "ok" (plus response_headers) once the request is complete,
  // unless `hold` is set: then it records the request in `held` and waits for the test.
  bool hold = false;
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::vector<SeenRequest> seen;
  std::vector<std::shared_ptr<HeldRequest>> held;
  std::vector<EndedStream> ended;

  // The filter factories for ConnectionManagerConfig::filter_factories.
  std::vector<FilterFactoryCb> factories();
};

class ConnectionManagerTest : public testing::Test, public network::ListenerCallbacks {
 protected:
  ConnectionManagerTest();
  ~ConnectionManagerTest() override;

  // network::ListenerCallbacks
  void onAccept(network::ConnectionPtr&& connection) override;

  // A config with Envoy's defaults and the test filters, stats under "http.test.".
  std::shared_ptr<ConnectionManagerConfig> makeConfig();
  // Starts listening. Each accepted connection uses config_ as it is when it arrives.
  void listen();

  std::unique_ptr<RawClient> connectRaw();
  std::unique_ptr<H2Client> connectH2();
  void send(RawClient& client, absl::string_view bytes);
  // Waits for the next complete response; nullopt if none comes (or the connection closes first).
  std::optional<RawResponse> readResponse(RawClient& client);
  // "GET <path> HTTP/1.1" with a Host and the given extra header lines ("Name: value\r\n"...).
  static std::string get(absl::string_view path, absl::string_view extra_headers = "");

  bool runUntil(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return network::test::runUntil(dispatcher_, done, timeout);
  }
  uint64_t counter(absl::string_view name);
  HcmConnection& server(size_t index = 0) { return *servers_.at(index); }
  // Answers a held request: 200 with `body`.
  void respond(FilterScript::HeldRequest& held, absl::string_view body = "released");

  // An immediate drain starting now.
  static network::DrainEvent immediateDrain();

  // Declared first: destroyed last.
  event::DispatcherImpl dispatcher_{"test"};
  stats::Store store_;
  FilterScript script_;
  std::shared_ptr<ConnectionManagerConfig> config_;
  std::unique_ptr<network::ListenSocket> socket_;
  std::unique_ptr<network::ListenerImpl> listener_;
  std::vector<std::unique_ptr<HcmConnection>> servers_;
};

}  // namespace waystone::http::test
