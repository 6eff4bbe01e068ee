#pragma once

#include <list>
#include <memory>
#include <random>

#include "source/common/event/timer.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_manager_config.h"
#include "source/common/http/filter_manager.h"
#include "source/common/network/filter.h"

namespace waystone::http {

// The http_connection_manager network filter: owns one downstream connection's HTTP codec
// (HTTP/1.1 or HTTP/2, chosen by config or sniffed), and one ActiveStream per request, each
// running the configured HTTP filters through a FilterManager. Lives on one worker.
class ConnectionManagerImpl final : public network::ReadFilter,
                                    public network::ConnectionCallbacks,
                                    public ServerConnectionCallbacks,
                                    public CodecTransport {
 public:
  explicit ConnectionManagerImpl(ConnectionManagerConfigConstSharedPtr config);
  ~ConnectionManagerImpl() override;

  // network::ReadFilter
  void initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) override;
  network::FilterStatus onNewConnection() override;
  network::FilterStatus onData(buffer::Instance& data, bool end_stream) override;

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // ServerConnectionCallbacks
  RequestDecoder& newStream(ResponseEncoder& encoder) override;
  void onGoAway() override {}

  // CodecTransport
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override;
  uint32_t bufferLimit() const override;

  // Drain: ask the peer to stop (HTTP/2 GOAWAY, HTTP/1 connection: close on the next response).
  void startDrain();

 private:
  class ActiveStream;
  using ActiveStreamPtr = std::unique_ptr<ActiveStream>;

  bool createCodec(buffer::Instance& data, bool end_stream);
  void handleCodecError(const absl::Status& status);
  void doEndStream(ActiveStream& stream);
  void resetAllStreams(StreamResetReason reason);
  void onIdleTimeout();
  void checkIdle();

  const ConnectionManagerConfigConstSharedPtr config_;
  ConnectionManagerStats& stats_;
  network::ReadFilterCallbacks* read_callbacks_ = nullptr;
  ServerConnectionPtr codec_;
  std::list<ActiveStreamPtr> streams_;
  event::TimerPtr idle_timer_;
  std::mt19937_64 random_;
  uint64_t next_stream_id_ = 1;
  bool remote_closed_ = false;
  bool closing_ = false;
  bool draining_ = false;
};

}  // namespace waystone::http
