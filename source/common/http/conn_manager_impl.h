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
  // Starts the drain sequence when the event's strategy says this connection's turn has come.
  void onDrainStart(const network::DrainEvent& event) override;

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

  // Starts Envoy's drain sequence now: HTTP/2 sends a GOAWAY with last stream id 2^31-1 (new
  // streams still welcome), HTTP/1 answers the next response with "connection: close". After
  // drain_timeout comes the final GOAWAY (HTTP/2: the real last stream id) and the connection
  // closes as soon as its streams are done. Does nothing if a drain already started.
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
  void onDrainTimeout();
  void onMaxConnectionDuration();
  // Closes the connection once a drain reached Closing and nothing is left to send.
  void checkForDeferredClose();

  // Envoy's drain states. Draining: the peer was asked to go away (first GOAWAY, or
  // "connection: close" on responses). Closing: no new streams; close when the last one ends.
  enum class DrainState { NotDraining, Draining, Closing };

  const ConnectionManagerConfigConstSharedPtr config_;
  ConnectionManagerStats& stats_;
  network::ReadFilterCallbacks* read_callbacks_ = nullptr;
  ServerConnectionPtr codec_;
  std::list<ActiveStreamPtr> streams_;
  event::TimerPtr idle_timer_;
  event::TimerPtr drain_timer_;         // drain_timeout, Draining -> Closing
  event::TimerPtr drain_start_timer_;   // this connection's turn in a gradual listener drain
  event::TimerPtr max_duration_timer_;  // max_connection_duration
  std::mt19937_64 random_;
  uint64_t next_stream_id_ = 1;
  bool remote_closed_ = false;
  bool closing_ = false;
  DrainState drain_state_ = DrainState::NotDraining;
};

}  // namespace waystone::http
