#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/codec_options.h"
#include "source/common/network/connection.h"
#include "source/upstream/host.h"

namespace waystone::http {

class CodecClient;

// Told about the upstream connection's life; the connection pool implements it.
class CodecClientCallbacks {
 public:
  virtual ~CodecClientCallbacks() = default;
  // The connection can take requests: connected, and for HTTP/2 the peer's SETTINGS arrived, so
  // its stream limit is known before any stream is opened.
  virtual void onConnected(CodecClient& client) = 0;
  // The connection closed (or failed to connect: `connected` false).
  virtual void onClose(CodecClient& client, bool connected, absl::string_view reason) = 0;
  // A request on `client` finished (response complete or reset): capacity is free again.
  virtual void onStreamComplete(CodecClient& client) = 0;
  // The peer sent GOAWAY: no new streams on this client.
  virtual void onGoAway(CodecClient& client) = 0;
  // The peer's SETTINGS changed after onConnected (maxConcurrentStreams() may differ).
  virtual void onSettingsChanged(CodecClient& client) { (void)client; }
};

// One upstream connection and its HTTP client codec. Counts its active requests so the pool
// knows its spare capacity.
class CodecClient final : public network::ConnectionCallbacks,
                          public network::ReadCallback,
                          public CodecTransport,
                          public ConnectionCallbacks,
                          public event::DeferredDeletable {
 public:
  CodecClient(Protocol protocol, network::ClientConnectionPtr connection,
              upstream::HostConstSharedPtr host, event::Dispatcher& dispatcher,
              const Http2Settings& http2_settings, const HeaderLimits& limits,
              CodecClientCallbacks& callbacks);
  ~CodecClient() override;

  void connect();
  // Starts a request; `decoder` gets the response. Only when connected and with capacity.
  RequestEncoder& newStream(ResponseDecoder& decoder);
  void close();

  Protocol protocol() const { return protocol_; }
  const upstream::HostConstSharedPtr& host() const { return host_; }
  uint64_t numActiveRequests() const { return active_requests_.size(); }
  uint64_t totalRequests() const { return total_requests_; }
  bool connected() const { return connected_; }
  // The peer's limit on concurrent streams (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
  uint64_t maxConcurrentStreams() const;
  bool remoteGoAway() const { return remote_goaway_; }

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;
  // CodecTransport
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override;
  uint32_t bufferLimit() const override;
  // http::ConnectionCallbacks
  void onGoAway() override;
  void onSettings() override;

  std::list<std::unique_ptr<CodecClient>>::iterator position_;  // in the pool's lists

 private:
  class ActiveRequest;
  void onRequestDone(ActiveRequest& request, bool reset);

  const Protocol protocol_;
  network::ClientConnectionPtr connection_;
  const upstream::HostConstSharedPtr host_;
  event::Dispatcher& dispatcher_;
  CodecClientCallbacks& callbacks_;
  ClientConnectionPtr codec_;
  std::list<std::unique_ptr<ActiveRequest>> active_requests_;
  uint64_t total_requests_ = 0;
  bool connected_ = false;            // usable: reported to the pool by onConnected()
  bool transport_connected_ = false;  // the connection (and TLS) is up
  bool settings_received_ = false;    // HTTP/2: the peer's first SETTINGS arrived
  bool closed_ = false;
  bool remote_goaway_ = false;
};

using CodecClientPtr = std::unique_ptr<CodecClient>;

}  // namespace waystone::http
