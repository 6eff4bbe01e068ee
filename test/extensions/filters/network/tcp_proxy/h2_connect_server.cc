#include "test/extensions/filters/network/tcp_proxy/h2_connect_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http2/codec_runtime.h"

namespace waystone::extensions::network_filters::tcp_proxy::test {

// One accepted connection: the server codec over the real connection.
class H2ConnectServer::Connection final : public network::ReadCallback,
                                          public network::ConnectionCallbacks,
                                          public http::CodecTransport,
                                          public http::ServerConnectionCallbacks {
 public:
  Connection(H2ConnectServer& server, network::ConnectionPtr connection, uint64_t id)
      : server_(server), connection_(std::move(connection)), id_(id) {
    connection_->addConnectionCallbacks(*this);
    connection_->setReadCallback(this);
    http::Http2Settings settings;
    settings.allow_connect = true;
    settings.max_concurrent_streams = server_.options_.max_concurrent_streams;
    settings.initial_stream_window_size = server_.options_.window;
    settings.initial_connection_window_size = server_.options_.window;
    codec_ = std::make_unique<http::http2::ServerConnectionImpl>(
        *this, *this, settings, http::HeaderLimits(),
        http::http2::CodecRuntime::fromDispatcher(server_.dispatcher_));
  }
  ~Connection() override {
    closed_ = true;
    if (connection_->state() != network::Connection::State::Closed) {
      connection_->close(network::ConnectionCloseType::NoFlush);
    }
    codec_.reset();
  }

  void close() {
    if (!closed_) {
      connection_->close(network::ConnectionCloseType::NoFlush);
    }
  }

  // network::ReadCallback
  void onData(buffer::Instance& data, bool) override {
    if (closed_) {
      data.drain(data.length());
      return;
    }
    const absl::Status status = codec_->dispatch(data);
    if (!status.ok()) {
      ADD_FAILURE() << "server codec error: " << status;
      connection_->close(network::ConnectionCloseType::NoFlush);
    }
  }
  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override {
    if (event == network::ConnectionEvent::Connected || closed_) {
      return;
    }
    closed_ = true;
    // The codec frees its streams without telling them: forget their encoders first.
    for (auto& stream : server_.streams_) {
      if (stream->connection_id == id_ && stream->encoder != nullptr) {
        stream->encoder = nullptr;
        stream->finished = true;
      }
    }
  }
  void onAboveWriteBufferHighWatermark() override {
    codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  }
  void onBelowWriteBufferLowWatermark() override {
    codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  }
  // http::CodecTransport
  void write(buffer::Instance& data, bool end_stream) override {
    connection_->write(data, end_stream);
  }
  void readDisable(bool disable) override { connection_->readDisable(disable); }
  uint32_t bufferLimit() const override { return connection_->bufferLimit(); }
  // http::ServerConnectionCallbacks
  http::RequestDecoder& newStream(http::ResponseEncoder& encoder) override {
    server_.streams_.push_back(std::make_unique<Stream>(server_, encoder, id_));
    Stream& stream = *server_.streams_.back();
    size_t open = 0;
    for (const auto& s : server_.streams_) {
      open += s->connection_id == id_ && !s->finished ? 1 : 0;
    }
    server_.max_concurrent_ = std::max(server_.max_concurrent_, open);
    if (server_.paused_) {
      encoder.getStream().readDisable(true);
    }
    return stream;
  }

 private:
  H2ConnectServer& server_;
  network::ConnectionPtr connection_;
  const uint64_t id_;
  std::unique_ptr<http::http2::ServerConnectionImpl> codec_;
  bool closed_ = false;
};

H2ConnectServer::Stream::Stream(H2ConnectServer& server, http::ResponseEncoder& encoder,
                                uint64_t connection_id)
    : server(server), encoder(&encoder), connection_id(connection_id) {
  encoder.getStream().addCallbacks(*this);
}

void H2ConnectServer::Stream::decodeHeaders(http::RequestHeaderMapPtr&& request, bool end) {
  headers = std::move(request);
  end_stream = end;
  if (encoder == nullptr) {
    return;
  }
  const Mode mode = server.options_.mode;
  if (mode == Mode::ResetOnHeaders) {
    encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
    return;
  }
  http::ResponseHeaderMap response;
  if (mode == Mode::Refuse) {
    response.setCopy(":status", absl::StrCat(server.options_.status));
    response_ended = true;
    encoder->encodeHeaders(response, true);
    return;
  }
  response.setCopy(":status", "200");
  for (const auto& [name, value] : server.options_.response_headers) {
    response.addCopy(name, value);
  }
  encoder->encodeHeaders(response, false);
  if (mode == Mode::ByeFirst || mode == Mode::ByeThenReset) {
    buffer::OwnedImpl bye("bye");
    response_ended = true;
    encoder->encodeData(bye, true);
    if (mode == Mode::ByeThenReset) {
      // Once our END_STREAM went out (frames queued inside the codec's receive callback are
      // sent when it returns), a reset says NO_ERROR: "stop sending, I am done". Resetting at
      // once would let RST_STREAM overtake the queued frames.
      reset_timer = server.dispatcher_.createTimer([this] {
        if (encoder != nullptr) {
          encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
        }
      });
      reset_timer->enableTimer(std::chrono::milliseconds(0));
    }
  }
}

void H2ConnectServer::Stream::decodeData(buffer::Instance& data, bool end) {
  received += data.toString();
  end_stream = end_stream || end;
  if (encoder == nullptr) {
    data.drain(data.length());
    return;
  }
  switch (server.options_.mode) {
    case Mode::Echo:
      response_ended = end;
      encoder->encodeData(data, end);
      break;
    case Mode::ResetOnData:
      data.drain(data.length());
      encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
      return;
    default:
      data.drain(data.length());
      break;
  }
  if (encoder != nullptr && end_stream && response_ended) {
    finished = true;
    encoder = nullptr;  // the codec frees the stream
  }
}

void H2ConnectServer::Stream::onResetStream(http::StreamResetReason, absl::string_view) {
  reset = true;
  finished = true;
  encoder = nullptr;
}

H2ConnectServer::H2ConnectServer(event::Dispatcher& dispatcher, Options options)
    : dispatcher_(dispatcher), options_(std::move(options)) {
  auto address = network::address::parseIp("127.0.0.1", 0);
  EXPECT_TRUE(address.ok()) << address.status();
  auto socket = network::ListenSocket::create(*address, network::ListenSocketOptions());
  EXPECT_TRUE(socket.ok()) << socket.status();
  socket_ = *std::move(socket);
  listener_ = std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this);
}

H2ConnectServer::~H2ConnectServer() {
  listener_.reset();
  for (auto& stream : streams_) {
    stream->encoder = nullptr;
  }
  connections_.clear();
}

uint16_t H2ConnectServer::port() const { return socket_->localAddress()->port(); }

void H2ConnectServer::pauseReading(bool pause) {
  if (paused_ == pause) {
    return;
  }
  paused_ = pause;
  for (auto& stream : streams_) {
    if (stream->encoder != nullptr) {
      stream->encoder->getStream().readDisable(pause);
    }
  }
}

void H2ConnectServer::closeConnections() {
  for (auto& connection : connections_) {
    connection->close();
  }
}

void H2ConnectServer::onAccept(network::ConnectionPtr&& connection) {
  connections_.push_back(
      std::make_unique<Connection>(*this, std::move(connection), connections_.size() + 1));
}

}  // namespace waystone::extensions::network_filters::tcp_proxy::test
