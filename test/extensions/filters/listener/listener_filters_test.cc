#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/tcp_connection_socket.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "source/extensions/filters/listener/http_inspector/http_inspector_filter.h"
#include "source/extensions/filters/listener/original_dst/original_dst_filter.h"
#include "source/extensions/filters/listener/tls_inspector/tls_inspector_filter.h"

namespace waystone::extensions::listener_filters {
namespace {

using http_inspector::HttpInspectorFilter;
using tls_inspector::TlsInspectorFilter;

// The first flight of a real OpenSSL client: its ClientHello, with the given SNI and ALPN.
std::string clientHello(const std::string& sni, const std::vector<std::string>& alpn) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  if (!sni.empty()) {
    SSL_set_tlsext_host_name(ssl, sni.c_str());
  }
  std::string wire;
  for (const auto& proto : alpn) {
    wire.push_back(static_cast<char>(proto.size()));
    wire += proto;
  }
  if (!wire.empty()) {
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()), wire.size());
  }
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants to read the server's reply; the hello is in `out`
  char* data = nullptr;
  const long len = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(len));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

TEST(TlsInspectorTest, ReadsSniAndAlpnFromARealClientHello) {
  const std::string hello = clientHello("reviews.default.svc", {"h2", "http/1.1"});
  ASSERT_GT(hello.size(), 50u);
  auto parsed = TlsInspectorFilter::parse(hello);
  EXPECT_EQ(TlsInspectorFilter::ClientHello::Status::Tls, parsed.status);
  EXPECT_EQ("reviews.default.svc", parsed.server_name);
  EXPECT_EQ((std::vector<std::string>{"h2", "http/1.1"}), parsed.alpn);
}

TEST(TlsInspectorTest, NoSniNoAlpn) {
  auto parsed = TlsInspectorFilter::parse(clientHello("", {}));
  EXPECT_EQ(TlsInspectorFilter::ClientHello::Status::Tls, parsed.status);
  EXPECT_EQ("", parsed.server_name);
  EXPECT_TRUE(parsed.alpn.empty());
}

TEST(TlsInspectorTest, EveryPrefixOfAHelloNeedsMoreData) {
  const std::string hello = clientHello("a.example", {"h2"});
  for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{40}, hello.size() - 1}) {
    EXPECT_EQ(TlsInspectorFilter::ClientHello::Status::NeedMoreData,
              TlsInspectorFilter::parse(hello.substr(0, n)).status)
        << n;
  }
}

TEST(TlsInspectorTest, PlaintextIsNotTls) {
  EXPECT_EQ(TlsInspectorFilter::ClientHello::Status::NotTls,
            TlsInspectorFilter::parse("GET / HTTP/1.1\r\n").status);
  // A handshake record type with a garbage body.
  EXPECT_EQ(TlsInspectorFilter::ClientHello::Status::NotTls,
            TlsInspectorFilter::parse(std::string("\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff", 10))
                .status);
}

TEST(HttpInspectorTest, RecognisesHttp1AndH2c) {
  using R = HttpInspectorFilter::Result;
  EXPECT_EQ(R::Http11, HttpInspectorFilter::inspect("GET /x HTTP/1.1\r\nHost: a\r\n"));
  EXPECT_EQ(R::Http10, HttpInspectorFilter::inspect("POST / HTTP/1.0\r\n"));
  EXPECT_EQ(R::Http2, HttpInspectorFilter::inspect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00"));
  EXPECT_EQ(R::NeedMoreData, HttpInspectorFilter::inspect("PRI * HTTP/2"));
  EXPECT_EQ(R::NeedMoreData, HttpInspectorFilter::inspect("GET /long/path"));
  EXPECT_EQ(R::NeedMoreData, HttpInspectorFilter::inspect("GE"));
  EXPECT_EQ(R::NotHttp, HttpInspectorFilter::inspect("SSH-2.0-OpenSSH_9.2\r\n"));
  EXPECT_EQ(R::NotHttp, HttpInspectorFilter::inspect(std::string("\x16\x03\x01", 3)));
  EXPECT_EQ(R::NotHttp, HttpInspectorFilter::inspect("GET / HTTP/3.0\r\n"));
  EXPECT_EQ(R::NotHttp, HttpInspectorFilter::inspect(" GET / HTTP/1.1\r\n"));
}

// Real accepted sockets: a connected pair of loopback TCP sockets, the server side wrapped as
// a TcpConnectionSocket, the filter run with minimal callbacks.
class SocketFilterTest : public testing::Test, public network::ListenerFilterCallbacks {
 protected:
  void SetUp() override {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
    ASSERT_EQ(0, ::listen(listener, 1));
    socklen_t len = sizeof(addr);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    client_ = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(0, ::connect(client_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
    const int server = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
    ::close(listener);
    ASSERT_GE(server, 0);
    auto local = network::address::localAddressFromFd(server);
    auto remote = network::address::peerAddressFromFd(server);
    socket_ = std::make_unique<network::TcpConnectionSocket>(dispatcher_, server, *local, *remote);
  }
  void TearDown() override { ::close(client_); }

  void send(const std::string& data) {
    ASSERT_EQ(static_cast<ssize_t>(data.size()), ::write(client_, data.data(), data.size()));
  }

  // network::ListenerFilterCallbacks
  network::ConnectionSocket& socket() override { return *socket_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  void continueFilterChain(bool success) override {
    continued_ = success ? 1 : 0;
    dispatcher_.exit();
  }

  event::DispatcherImpl dispatcher_{"test"};
  int client_ = -1;
  std::unique_ptr<network::TcpConnectionSocket> socket_;
  int continued_ = -1;
};

TEST_F(SocketFilterTest, HttpInspectorWaitsForTheRequestLineThenContinues) {
  HttpInspectorFilter filter;
  send("GET /a");
  // Bytes may not have arrived yet; either way the line is incomplete.
  EXPECT_EQ(network::ListenerFilterStatus::StopIteration, filter.onAccept(*this));
  send(" HTTP/1.1\r\n");
  dispatcher_.run(event::Dispatcher::RunType::RunUntilExit);
  EXPECT_EQ(1, continued_);
  EXPECT_EQ(std::vector<std::string>{"http/1.1"}, socket_->requestedApplicationProtocols());
  // Peeking consumed nothing: the whole request is still there for the connection.
  EXPECT_EQ("GET /a HTTP/1.1\r\n", std::string(socket_->peek(100).data));
}

TEST_F(SocketFilterTest, HttpInspectorGivesUpAtEndOfStream) {
  HttpInspectorFilter filter;
  send("GET /a");
  EXPECT_EQ(network::ListenerFilterStatus::StopIteration, filter.onAccept(*this));
  ::shutdown(client_, SHUT_WR);
  dispatcher_.run(event::Dispatcher::RunType::RunUntilExit);
  EXPECT_EQ(1, continued_);
  EXPECT_TRUE(socket_->requestedApplicationProtocols().empty());
}

TEST_F(SocketFilterTest, TlsInspectorOnARealSocket) {
  TlsInspectorFilter filter;
  const std::string hello = clientHello("svc.example", {"h2"});
  send(hello.substr(0, 10));
  EXPECT_EQ(network::ListenerFilterStatus::StopIteration, filter.onAccept(*this));
  send(hello.substr(10));
  dispatcher_.run(event::Dispatcher::RunType::RunUntilExit);
  EXPECT_EQ(1, continued_);
  EXPECT_EQ("tls", socket_->detectedTransportProtocol());
  EXPECT_EQ("svc.example", socket_->requestedServerName());
  EXPECT_EQ(std::vector<std::string>{"h2"}, socket_->requestedApplicationProtocols());
}

TEST_F(SocketFilterTest, OriginalDstLeavesAnUnredirectedSocketAlone) {
  original_dst::OriginalDstFilter filter;
  const std::string before = socket_->localAddress()->asString();
  EXPECT_EQ(network::ListenerFilterStatus::Continue, filter.onAccept(*this));
  EXPECT_FALSE(socket_->localAddressRestored());
  EXPECT_EQ(before, socket_->localAddress()->asString());
}

// An internal connection's socket as original_dst sees it: no kernel socket, addresses handed
// over in filter state or metadata.
class FakeInternalSocket : public network::ConnectionSocket {
 public:
  FakeInternalSocket()
      : ConnectionSocket(*network::address::parseIpAndPort("127.0.0.9:1"),
                         *network::address::parseIpAndPort("127.0.0.9:2")) {}
  PeekResult peek(uint64_t) override { return {}; }
  void waitForData(std::function<void()>) override {}
  void cancelWait() override {}
  bool isInternal() const override { return true; }
  network::ConnectionPtr createConnection(event::Dispatcher&,
                                          network::TransportSocketPtr) override {
    return nullptr;
  }
};

class InternalOriginalDstTest : public testing::Test, public network::ListenerFilterCallbacks {
 protected:
  network::ConnectionSocket& socket() override { return socket_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  void continueFilterChain(bool) override {}

  void setState(absl::string_view key, absl::string_view value) {
    auto object = stream_info::createFilterStateObject(key, value);
    ASSERT_TRUE(object.ok());
    ASSERT_TRUE(
        socket_.streamInfo()
            .filter_state->setData(key, *object, stream_info::FilterState::StateType::ReadOnly)
            .ok());
  }
  void setMetadataLocal(const std::string& value) {
    (*(*socket_.streamInfo()
            .dynamic_metadata.mutable_filter_metadata())["envoy.filters.listener.original_dst"]
          .mutable_fields())["local"]
        .set_string_value(value);
  }

  event::DispatcherImpl dispatcher_{"test"};
  FakeInternalSocket socket_;
  original_dst::OriginalDstFilter filter_;
};

TEST_F(InternalOriginalDstTest, RestoresBothAddressesFromFilterState) {
  setState(stream_info::kOriginalDstLocalIp, "10.96.0.10:9080");
  setState(stream_info::kOriginalDstRemoteIp, "10.0.0.5:41000");
  EXPECT_EQ(network::ListenerFilterStatus::Continue, filter_.onAccept(*this));
  EXPECT_TRUE(socket_.localAddressRestored());
  EXPECT_EQ("10.96.0.10:9080", socket_.localAddress()->asString());
  EXPECT_EQ("10.0.0.5:41000", socket_.remoteAddress()->asString());
  EXPECT_EQ("127.0.0.9:2", socket_.directRemoteAddress()->asString());
}

TEST_F(InternalOriginalDstTest, FallsBackToEndpointMetadata) {
  setMetadataLocal("10.0.2.3:9080");
  filter_.onAccept(*this);
  EXPECT_EQ("10.0.2.3:9080", socket_.localAddress()->asString());
  EXPECT_EQ("127.0.0.9:2", socket_.remoteAddress()->asString());
}

TEST_F(InternalOriginalDstTest, FilterStateWinsOverMetadataAndBadMetadataIsIgnored) {
  setMetadataLocal("not-an-address");
  filter_.onAccept(*this);
  EXPECT_FALSE(socket_.localAddressRestored());
  setState(stream_info::kOriginalDstLocalIp, "10.96.0.10:80");
  filter_.onAccept(*this);
  EXPECT_EQ("10.96.0.10:80", socket_.localAddress()->asString());
}

}  // namespace
}  // namespace waystone::extensions::listener_filters
