#include "test/common/http/conn_manager_impl_test_base.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/codec_factory.h"
#include "source/common/network/address.h"

namespace waystone::http::test {
namespace {

// First in every chain: keeps what the stream info says when the stream ends.
class InfoRecorder : public PassThroughDecoderFilter {
 public:
  explicit InfoRecorder(FilterScript& script) : script_(script) {}
  void onDestroy() override {
    const stream_info::StreamInfo& info = decoder_callbacks_->streamInfo();
    script_.ended.push_back({info.response_flags, info.response_code_details});
  }

 private:
  FilterScript& script_;
};

class LoggingFilter : public PassThroughFilter {
 public:
  LoggingFilter(std::string name, FilterScript& script) : name_(std::move(name)), script_(script) {}

  FilterHeadersStatus decodeHeaders(RequestHeaderMap&, bool end_stream) override {
    script_.log.push_back(name_ + ".decodeHeaders" + (end_stream ? "+end" : ""));
    if (script_.on_decode_headers) {
      return script_.on_decode_headers(name_, *decoder_callbacks_);
    }
    return FilterHeadersStatus::Continue;
  }
  FilterDataStatus decodeData(buffer::Instance& data, bool end_stream) override {
    script_.log.push_back(name_ + ".decodeData(" + data.toString() + ")" +
                          (end_stream ? "+end" : ""));
    return FilterDataStatus::Continue;
  }
  FilterHeadersStatus encodeHeaders(ResponseHeaderMap&, bool end_stream) override {
    script_.log.push_back(name_ + ".encodeHeaders" + (end_stream ? "+end" : ""));
    return FilterHeadersStatus::Continue;
  }
  FilterDataStatus encodeData(buffer::Instance& data, bool end_stream) override {
    script_.log.push_back(name_ + ".encodeData(" + data.toString() + ")" +
                          (end_stream ? "+end" : ""));
    return FilterDataStatus::Continue;
  }

 private:
  const std::string name_;
  FilterScript& script_;
};

// The terminal filter: records the request and answers it, or holds it for the test.
class Responder : public PassThroughDecoderFilter {
 public:
  explicit Responder(FilterScript& script) : script_(script) {}

  FilterHeadersStatus decodeHeaders(RequestHeaderMap& headers, bool end_stream) override {
    script_.log.push_back("responder.decodeHeaders");
    index_ = script_.seen.size();
    script_.seen.push_back({headers, "", end_stream});
    if (end_stream) {
      onRequestComplete();
    }
    return FilterHeadersStatus::StopIteration;
  }
  FilterDataStatus decodeData(buffer::Instance& data, bool end_stream) override {
    script_.seen[index_].body += data.toString();
    data.drain(data.length());
    if (end_stream) {
      script_.seen[index_].complete = true;
      onRequestComplete();
    }
    return FilterDataStatus::StopIterationNoBuffer;
  }
  void onDestroy() override {
    if (held_ != nullptr) {
      held_->destroyed = true;
      held_->callbacks = nullptr;
    }
  }

 private:
  void onRequestComplete() {
    if (script_.hold) {
      held_ = std::make_shared<FilterScript::HeldRequest>();
      held_->callbacks = decoder_callbacks_;
      script_.held.push_back(held_);
      return;
    }
    auto headers = std::make_unique<ResponseHeaderMap>();
    headers->addCopy(":status", "200");
    headers->addCopy("content-length", "2");
    for (const auto& [name, value] : script_.response_headers) {
      headers->addCopy(name, value);
    }
    decoder_callbacks_->encodeHeaders(std::move(headers), false, "via_test_responder");
    buffer::OwnedImpl body("ok");
    decoder_callbacks_->encodeData(body, true);
  }

  FilterScript& script_;
  size_t index_ = 0;
  std::shared_ptr<FilterScript::HeldRequest> held_;
};

}  // namespace

std::vector<FilterFactoryCb> FilterScript::factories() {
  std::vector<FilterFactoryCb> out;
  out.push_back([this](FilterChainFactoryCallbacks& chain) {
    chain.addStreamDecoderFilter(std::make_shared<InfoRecorder>(*this));
  });
  for (const std::string& name : logging_filters) {
    out.push_back([this, name](FilterChainFactoryCallbacks& chain) {
      chain.addStreamFilter(std::make_shared<LoggingFilter>(name, *this));
    });
  }
  out.push_back([this](FilterChainFactoryCallbacks& chain) {
    chain.addStreamDecoderFilter(std::make_shared<Responder>(*this));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------

HcmConnection::HcmConnection(event::Dispatcher& dispatcher, network::ConnectionPtr connection,
                             ConnectionManagerConfigConstSharedPtr config)
    : dispatcher_(dispatcher),
      connection_(std::move(connection)),
      hcm_(std::make_unique<ConnectionManagerImpl>(std::move(config))) {
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
  hcm_->initializeReadFilterCallbacks(*this);
  hcm_->onNewConnection();
}

HcmConnection::~HcmConnection() {
  // As a worker shutting down: close first, so the manager hears of it while the connection is
  // alive; then the manager goes, then the connection.
  connection_->close(network::ConnectionCloseType::NoFlush);
  hcm_.reset();
}

bool RawResponse::has(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return true;
    }
  }
  return false;
}

std::string RawResponse::header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

H2Client::H2Client(event::Dispatcher& dispatcher, network::ClientConnectionPtr conn)
    : connection(std::move(conn)) {
  connection->addConnectionCallbacks(callbacks);
  connection->setReadCallback(this);
  codec =
      createClientCodec(Protocol::Http2, *this, *this, Http2Settings(), HeaderLimits(), dispatcher);
}

http2::test::TestResponseDecoder& H2Client::request(
    absl::string_view method, absl::string_view path, bool end_stream,
    const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  responses.push_back(std::make_unique<http2::test::TestResponseDecoder>());
  http2::test::TestResponseDecoder& decoder = *responses.back();
  RequestEncoder& encoder = codec->newStream(decoder);
  encoder.getStream().addCallbacks(decoder);
  encoders_.push_back(&encoder);
  RequestHeaderMap headers;
  headers.addCopy(":method", method);
  headers.addCopy(":path", path);
  headers.addCopy(":scheme", "http");
  headers.addCopy(":authority", "unit.test");
  for (const auto& [name, value] : extra_headers) {
    headers.addCopy(name, value);
  }
  const absl::Status encoded = encoder.encodeHeaders(headers, end_stream);
  EXPECT_TRUE(encoded.ok()) << encoded;
  return decoder;
}

std::vector<uint32_t> H2Client::goAwayLastStreamIds() const {
  std::vector<uint32_t> ids;
  for (const http2::test::Frame& frame : frames()) {
    if (frame.type == http2::test::kGoAway && frame.payload.size() >= 8) {
      const auto* p = reinterpret_cast<const unsigned char*>(frame.payload.data());
      ids.push_back(((p[0] & 0x7fu) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
    }
  }
  return ids;
}

void H2Client::onData(buffer::Instance& data, bool end_stream) {
  raw += data.toString();
  peer_end_stream |= end_stream;
  if (status.ok()) {
    status = codec->dispatch(data);
  }
  data.drain(data.length());
}

void H2Client::write(buffer::Instance& data, bool end_stream) {
  connection->write(data, end_stream);
}

// ---------------------------------------------------------------------------------------------

ConnectionManagerTest::ConnectionManagerTest() : config_(makeConfig()) {}

ConnectionManagerTest::~ConnectionManagerTest() {
  servers_.clear();
  listener_.reset();
  dispatcher_.clearDeferredDeleteList();
}

std::shared_ptr<ConnectionManagerConfig> ConnectionManagerTest::makeConfig() {
  auto config = std::make_shared<ConnectionManagerConfig>();
  config->stat_prefix = "test";
  config->scope = store_.createScope("http.test.");
  config->stats = std::make_shared<ConnectionManagerStats>(*config->scope);
  // Built when the stream starts, so tests may change the script after makeConfig().
  config->filter_factories.push_back([this](FilterChainFactoryCallbacks& chain) {
    for (const FilterFactoryCb& factory : script_.factories()) {
      factory(chain);
    }
  });
  return config;
}

void ConnectionManagerTest::listen() {
  auto address = network::address::parseIpAndPort("127.0.0.1:0");
  ASSERT_TRUE(address.ok()) << address.status();
  auto socket = network::ListenSocket::create(*address, network::ListenSocketOptions());
  ASSERT_TRUE(socket.ok()) << socket.status();
  socket_ = *std::move(socket);
  listener_ = std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this);
}

void ConnectionManagerTest::onAccept(network::ConnectionPtr&& connection) {
  servers_.push_back(std::make_unique<HcmConnection>(dispatcher_, std::move(connection), config_));
}

std::unique_ptr<RawClient> ConnectionManagerTest::connectRaw() {
  auto client = std::make_unique<RawClient>();
  client->connection = network::createClientConnection(dispatcher_, socket_->localAddress());
  client->connection->addConnectionCallbacks(client->callbacks);
  client->connection->setReadCallback(&client->reader);
  const size_t before = servers_.size();
  client->connection->connect();
  EXPECT_TRUE(runUntil([&] {
    return client->callbacks.count(network::ConnectionEvent::Connected) == 1 &&
           servers_.size() == before + 1;
  }));
  return client;
}

std::unique_ptr<H2Client> ConnectionManagerTest::connectH2() {
  const size_t before = servers_.size();
  auto client = std::make_unique<H2Client>(
      dispatcher_, network::createClientConnection(dispatcher_, socket_->localAddress()));
  client->connection->connect();
  EXPECT_TRUE(runUntil([&] {
    return client->callbacks.count(network::ConnectionEvent::Connected) == 1 &&
           servers_.size() == before + 1;
  }));
  return client;
}

void ConnectionManagerTest::send(RawClient& client, absl::string_view bytes) {
  buffer::OwnedImpl data(bytes);
  client.connection->write(data, false);
}

namespace {

// Parses one response from the front of `text`: its length, or 0 if incomplete. Bodies are
// content-length framed, or (without one) run to the end when `at_end` says the peer closed.
size_t parseResponse(absl::string_view text, bool at_end, RawResponse& out) {
  const size_t head_end = text.find("\r\n\r\n");
  if (head_end == absl::string_view::npos) {
    return 0;
  }
  std::vector<absl::string_view> lines = absl::StrSplit(text.substr(0, head_end), "\r\n");
  RawResponse response;
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &response.status)) {
    ADD_FAILURE() << "bad status line: " << lines[0];
    return 0;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) {
      ADD_FAILURE() << "bad header line: " << lines[i];
      return 0;
    }
    response.headers.emplace_back(
        absl::AsciiStrToLower(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  const size_t body_start = head_end + 4;
  uint64_t length = 0;
  if (response.has("content-length")) {
    if (!absl::SimpleAtoi(response.header("content-length"), &length)) {
      ADD_FAILURE() << "bad content-length";
      return 0;
    }
  } else if (response.status >= 200 && response.status != 204 && response.status != 304) {
    if (!at_end) {
      return 0;
    }
    length = text.size() - body_start;
  }
  if (text.size() - body_start < length) {
    return 0;
  }
  response.body = std::string(text.substr(body_start, length));
  out = std::move(response);
  return body_start + length;
}

}  // namespace

std::optional<RawResponse> ConnectionManagerTest::readResponse(RawClient& client) {
  RawResponse response;
  size_t length = 0;
  runUntil([&] {
    length = parseResponse(absl::string_view(client.reader.received).substr(client.consumed),
                           client.sawEndOfStream(), response);
    return length > 0 || client.callbacks.closed();
  });
  if (length == 0) {
    length = parseResponse(absl::string_view(client.reader.received).substr(client.consumed), true,
                           response);
  }
  if (length == 0) {
    return std::nullopt;
  }
  client.consumed += length;
  return response;
}

std::string ConnectionManagerTest::get(absl::string_view path, absl::string_view extra_headers) {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: unit.test\r\n", extra_headers, "\r\n");
}

uint64_t ConnectionManagerTest::counter(absl::string_view name) {
  return store_.counterFromString(absl::StrCat("http.test.", name)).value();
}

void ConnectionManagerTest::respond(FilterScript::HeldRequest& held, absl::string_view body) {
  ASSERT_NE(held.callbacks, nullptr) << "the held stream is gone";
  auto headers = std::make_unique<ResponseHeaderMap>();
  headers->addCopy(":status", "200");
  headers->addCopy("content-length", absl::StrCat(body.size()));
  held.callbacks->encodeHeaders(std::move(headers), false, "via_test_responder");
  buffer::OwnedImpl data(body);
  held.callbacks->encodeData(data, true);
}

network::DrainEvent ConnectionManagerTest::immediateDrain() {
  network::DrainEvent event;
  event.start_time = std::chrono::steady_clock::now();
  event.drain_time = std::chrono::seconds(600);
  event.strategy = network::DrainEvent::Strategy::Immediate;
  return event;
}

}  // namespace waystone::http::test
