// Request smuggling vectors and malformed HTTP/1.1 sent over raw sockets: each must be refused
// with 400 (431 for oversized headers) and the connection closed, without anything reaching the
// backend, and counted as downstream_cx_protocol_error.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/http/raw_http_connection.h"
#include "test/test_common/test_http_server.h"

namespace waystone::test {
namespace {

struct MalformedRequest {
  std::string name;
  std::string bytes;
  int status;
};

std::ostream& operator<<(std::ostream& out, const MalformedRequest& request) {
  return out << request.name;
}

// A smuggled request hides behind each framing ambiguity: if the proxy reads the framing one way
// and a backend another, /smuggled would reach the backend as a request of its own.
constexpr char kSmuggled[] = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

std::vector<MalformedRequest> malformedRequests() {
  return {
      {"ContentLengthAndChunked",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    kSmuggled),
       400},
      {"ChunkedAndContentLength",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 40\r\n\r\n0\r\n\r\n",
                    kSmuggled),
       400},
      {"DuplicateDifferingContentLength",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 41\r\n\r\n"
                    "hello",
                    kSmuggled),
       400},
      {"ContentLengthListWithDifferentValues",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 41\r\n\r\nhello", kSmuggled),
       400},
      {"ObsFoldedHeader",
       absl::StrCat("GET / HTTP/1.1\r\nHost: x\r\nX-Folded: first\r\n second\r\n\r\n", kSmuggled),
       400},
      {"ObsFoldedTransferEncoding",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n"
                    " chunked\r\n\r\nhello",
                    kSmuggled),
       400},
      {"BadChunkSize",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "zz\r\nhello\r\n0\r\n\r\n",
                    kSmuggled),
       400},
      {"OverflowingChunkSize",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "10000000000000000000001\r\nhello\r\n0\r\n\r\n",
                    kSmuggled),
       400},
      {"WhitespaceBeforeColon",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello", kSmuggled),
       400},
      {"NonNumericContentLength",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello", kSmuggled),
       400},
      {"OversizedHeaders",
       absl::StrCat("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(70 * 1024, 'a'),
                    "\r\n\r\n"),
       431},
  };
}

class ProtocolErrorIntegrationTest : public ::testing::TestWithParam<MalformedRequest> {
 protected:
  void SetUp() override {
    auto backend = TestHttpServer::start();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("backend", {backend_->port()});
    auto proxy = HttpProxy::start(bootstrap);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  std::unique_ptr<TestHttpServer> backend_;
  std::unique_ptr<HttpProxy> proxy_;
};

TEST_P(ProtocolErrorIntegrationTest, RefusedWithErrorAndConnectionClosed) {
  const MalformedRequest& request = GetParam();
  auto connection = RawHttpConnection::connect(proxy_->port());
  ASSERT_TRUE(connection.ok()) << connection.status();
  // The proxy may close while the rest is still being written: that is fine.
  (*connection)->send(request.bytes).IgnoreError();

  auto response = (*connection)->readResponse(std::chrono::seconds(10));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, request.status) << response->body;
  EXPECT_EQ(response->header("connection"), "close");
  std::string after;
  EXPECT_TRUE((*connection)->waitForClose(std::chrono::seconds(5), &after))
      << "the connection stayed open after the error reply";
  EXPECT_EQ(after, "") << "bytes after the error reply";

  EXPECT_EQ(proxy_->httpStat("downstream_cx_protocol_error"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 0u);
  // Nothing of it, and certainly not the smuggled request, reached the backend.
  EXPECT_EQ(backend_->requestCount(), 0u);

  // The proxy still serves well-formed requests.
  auto good = RawHttpConnection::connect(proxy_->port());
  ASSERT_TRUE(good.ok()) << good.status();
  ASSERT_TRUE((*good)->send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto fine = (*good)->readResponse(std::chrono::seconds(10));
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->status, 200);
  EXPECT_EQ(fine->body, "hello from backend: GET /fine");
  EXPECT_EQ(backend_->requestCount(), 1u);
}

INSTANTIATE_TEST_SUITE_P(SmugglingAndMalformed, ProtocolErrorIntegrationTest,
                         ::testing::ValuesIn(malformedRequests()),
                         [](const ::testing::TestParamInfo<MalformedRequest>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace waystone::test
