#include "test/test_common/http_client.h"

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "test/test_common/file_util.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_http_server.h"

namespace waystone::test {
namespace {

constexpr std::chrono::seconds kTimeout(30);

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestHttpServer>> server = TestHttpServer::start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_NE(server_->port(), 0);
  }

  HttpClient client() { return HttpClient("127.0.0.1", server_->port()); }

  std::unique_ptr<TestHttpServer> server_;
};

TEST_F(HttpClientTest, ContentLengthResponseWithDefaultBody) {
  HttpClient http = client();
  absl::StatusOr<HttpResponse> response = http.get("/some/path?x=1", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello from backend: GET /some/path?x=1");
  EXPECT_EQ(response->header("content-length"), std::to_string(response->body.size()));
  EXPECT_EQ(response->header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(response->header("x-absent"), "");
  EXPECT_EQ(server_->requestCount(), 1u);

  std::optional<TestHttpRequest> request = server_->lastRequest();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->path, "/some/path?x=1");
  EXPECT_EQ(request->header("host"), absl::StrCat("127.0.0.1:", server_->port()));
  EXPECT_EQ(request->header("connection"), "close");
  EXPECT_EQ(findHeader(server_->lastRequestHeaders(), "Host"), request->header("host"));
  EXPECT_FALSE(http.connected());
}

TEST_F(HttpClientTest, ConfiguredStatusBodyAndHeaders) {
  server_->setResponse(503, "backend down", {{"X-Test", "yes"}});
  absl::StatusOr<HttpResponse> response = client().request(
      "PUT", "/x", {{"X-Custom", "v1"}, {"Host", "example.com"}}, "data", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "backend down");
  EXPECT_EQ(response->header("x-test"), "yes");
  std::optional<TestHttpRequest> request = server_->lastRequest();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "PUT");
  EXPECT_EQ(request->body, "data");
  EXPECT_EQ(request->header("content-length"), "4");
  EXPECT_EQ(request->header("x-custom"), "v1");
  EXPECT_EQ(request->header("host"), "example.com");  // caller's value replaces the default

  server_->setResponse(204, "");
  absl::StatusOr<HttpResponse> empty = client().get("/", kTimeout);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->body, "");
}

TEST_F(HttpClientTest, PostSendsBody) {
  absl::StatusOr<HttpResponse> response = client().post("/submit", "payload", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "hello from backend: POST /submit");
  std::optional<TestHttpRequest> request = server_->lastRequest();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->body, "payload");
}

TEST_F(HttpClientTest, ChunkedResponseIsDechunked) {
  server_->setRawResponse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n"
      "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
      /*close_after=*/false);
  HttpClient http = client();
  absl::StatusOr<HttpResponse> response =
      http.request("GET", "/", {{"Connection", "keep-alive"}}, "", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello, world");
  EXPECT_EQ(response->header("x-kind"), "chunked");
  // The chunked framing ended the message, so the connection stays usable.
  EXPECT_TRUE(http.connected());
}

TEST_F(HttpClientTest, BodyUntilConnectionClose) {
  server_->setRawResponse("HTTP/1.1 200 OK\r\nX-Kind: eof\r\n\r\nbody until close",
                          /*close_after=*/true);
  absl::StatusOr<HttpResponse> response = client().get("/", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "body until close");
}

TEST_F(HttpClientTest, InformationalResponseIsSkipped) {
  server_->setRawResponse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  absl::StatusOr<HttpResponse> response = client().post("/", "x", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "ok");
}

TEST_F(HttpClientTest, TruncatedOrMalformedResponsesAreErrors) {
  server_->setRawResponse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  absl::StatusOr<HttpResponse> truncated = client().get("/", kTimeout);
  EXPECT_FALSE(truncated.ok());

  server_->setRawResponse("this is not HTTP\r\n\r\n");
  absl::StatusOr<HttpResponse> garbage = client().get("/", kTimeout);
  EXPECT_FALSE(garbage.ok());
}

TEST_F(HttpClientTest, HeadResponseHasNoBody) {
  HttpClient http = client();
  absl::StatusOr<HttpResponse> head =
      http.request("HEAD", "/h", {{"Connection", "keep-alive"}}, "", kTimeout);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->header("content-length"), std::to_string(strlen("hello from backend: HEAD /h")));
  // Had the client waited for a body, the next response on the connection would be garbled.
  absl::StatusOr<HttpResponse> get = http.get("/after", kTimeout);
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->body, "hello from backend: GET /after");
  EXPECT_EQ(server_->connectionCount(), 1u);
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  HttpClient http = client();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> response =
        http.request("GET", absl::StrCat("/ka/", i), {{"Connection", "keep-alive"}}, "", kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, absl::StrCat("hello from backend: GET /ka/", i));
    EXPECT_TRUE(http.connected());
  }
  // The default Connection: close ends the kept-alive connection after this request.
  absl::StatusOr<HttpResponse> last = http.get("/last", kTimeout);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->header("connection"), "close");
  EXPECT_FALSE(http.connected());
  EXPECT_EQ(server_->requestCount(), 4u);
  EXPECT_EQ(server_->connectionCount(), 1u);

  // Without keep-alive every request has its own connection.
  ASSERT_TRUE(http.get("/a", kTimeout).ok());
  ASSERT_TRUE(http.get("/b", kTimeout).ok());
  EXPECT_EQ(server_->connectionCount(), 3u);
}

TEST_F(HttpClientTest, ConcurrentClientsAreAllCounted) {
  constexpr int kThreads = 4;
  constexpr int kRequests = 10;
  std::vector<std::thread> threads;
  std::atomic<int> ok_count{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient http = client();
      for (int i = 0; i < kRequests; ++i) {
        absl::StatusOr<HttpResponse> response =
            http.request("GET", "/c", {{"Connection", "keep-alive"}}, "", kTimeout);
        if (response.ok() && response->status == 200) {
          ++ok_count;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ok_count.load(), kThreads * kRequests);
  EXPECT_EQ(server_->requestCount(), static_cast<uint64_t>(kThreads * kRequests));
  EXPECT_EQ(server_->connectionCount(), static_cast<uint64_t>(kThreads));
}

TEST_F(HttpClientTest, ServerRejectsMalformedRequest) {
  absl::StatusOr<FileDescriptor> fd = connectTcp("127.0.0.1", server_->port(), kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(sendAll(fd->get(), "NOT AN HTTP REQUEST\r\n\r\n", kTimeout).ok());
  std::string received;
  while (true) {
    absl::StatusOr<std::string> data = receiveSome(fd->get(), kTimeout);
    ASSERT_TRUE(data.ok()) << data.status();
    if (data->empty()) {
      break;
    }
    received += *data;
  }
  EXPECT_TRUE(absl::StartsWith(received, "HTTP/1.1 400 ")) << received;
  EXPECT_EQ(server_->requestCount(), 0u);
}

TEST_F(HttpClientTest, ServerSendsContinueBeforeBody) {
  absl::StatusOr<FileDescriptor> fd = connectTcp("127.0.0.1", server_->port(), kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(sendAll(fd->get(),
                      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      "Expect: 100-continue\r\nConnection: close\r\n\r\n",
                      kTimeout)
                  .ok());
  std::string received;
  while (!absl::StrContains(received, "\r\n\r\n")) {
    absl::StatusOr<std::string> data = receiveSome(fd->get(), kTimeout);
    ASSERT_TRUE(data.ok()) << data.status();
    ASSERT_FALSE(data->empty()) << received;
    received += *data;
  }
  EXPECT_EQ(received, "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(server_->requestCount(), 0u);
  ASSERT_TRUE(sendAll(fd->get(), "body", kTimeout).ok());
  received.clear();
  while (true) {
    absl::StatusOr<std::string> data = receiveSome(fd->get(), kTimeout);
    ASSERT_TRUE(data.ok()) << data.status();
    if (data->empty()) {
      break;
    }
    received += *data;
  }
  EXPECT_TRUE(absl::StartsWith(received, "HTTP/1.1 200 OK\r\n")) << received;
  EXPECT_TRUE(absl::EndsWith(received, "hello from backend: POST /upload")) << received;
  EXPECT_EQ(server_->lastRequest().value_or(TestHttpRequest()).body, "body");
}

TEST(HttpClientErrorTest, ConnectToClosedPortIsUnavailable) {
  const uint16_t port = findFreeTcpPort();
  ASSERT_NE(port, 0);
  HttpClient http("127.0.0.1", port);
  absl::StatusOr<HttpResponse> response = http.get("/", kTimeout);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST(HttpClientErrorTest, SilentServerTimesOut) {
  // Listening but never accepting: the connect succeeds through the backlog, no answer comes.
  FileDescriptor listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<struct sockaddr*>(&addr), &len), 0);

  HttpClient http("127.0.0.1", ntohs(addr.sin_port));
  absl::StatusOr<HttpResponse> response = http.get("/", std::chrono::milliseconds(100));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
}

TEST(HttpClientUnixTest, RequestOverUnixSocket) {
  TempDir dir;
  const std::string path = dir.file("admin.sock");
  absl::StatusOr<std::unique_ptr<TestHttpServer>> server = TestHttpServer::startUnix(path);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient http = HttpClient::unixSocket(path);
  absl::StatusOr<HttpResponse> response = http.get("/ready", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello from backend: GET /ready");
  std::optional<TestHttpRequest> request = (*server)->lastRequest();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->header("host"), "localhost");
  server->reset();
  EXPECT_FALSE(fileExists(path));  // the socket file goes with the server
}

}  // namespace
}  // namespace waystone::test
