// Interoperability with HTTP implementations we did not write, through the real binary: curl
// (HTTP/1.1, h2c with prior knowledge, chunked uploads from stdin), nghttp (concurrent h2c
// streams), h2load (h2c load), python3-h2 (hand-driven h2c frames) as clients, and nginx as the
// backend over HTTP/1.1 and over h2c.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include <sys/stat.h>

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/external_tool.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/http/nginx_process.h"
#include "test/integration/http/pattern_body.h"
#include "test/test_common/file_util.h"
#include "test/test_common/http_client.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_http_server.h"

namespace waystone::test {
namespace {

constexpr std::chrono::seconds kToolTimeout{60};

// Proxy in front of a TestHttpServer, for the client-side peers.
class ClientInteropTest : public ::testing::Test {
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

  ToolResult run(std::vector<std::string> argv) {
    auto result = runTool(std::move(argv), kToolTimeout);
    if (!result.ok()) {
      ADD_FAILURE() << result.status();
      return ToolResult{-1, "", ""};
    }
    return *result;
  }

  std::unique_ptr<TestHttpServer> backend_;
  std::unique_ptr<HttpProxy> proxy_;
  TempDir temp_;
};

TEST_F(ClientInteropTest, CurlHttp11) {
  const ToolResult get =
      run({"curl", "-sS", "-i", "--max-time", "20", proxy_->url("/curl/get?q=1")});
  ASSERT_EQ(get.exit_status, 0) << get.describe();
  EXPECT_TRUE(absl::StartsWith(get.out, "HTTP/1.1 200 OK\r\n")) << get.out;
  EXPECT_TRUE(absl::EndsWith(get.out, "\r\n\r\nhello from backend: GET /curl/get?q=1")) << get.out;
  EXPECT_TRUE(absl::StrContains(get.out, "x-envoy-upstream-service-time: ")) << get.out;

  const ToolResult post = run({"curl", "-sS", "--max-time", "20", "--data-binary",
                               "form=posted&by=curl", proxy_->url("/curl/post")});
  ASSERT_EQ(post.exit_status, 0) << post.describe();
  EXPECT_EQ(post.out, "hello from backend: POST /curl/post");
  ASSERT_TRUE(backend_->lastRequest().has_value());
  EXPECT_EQ(backend_->lastRequest()->body, "form=posted&by=curl");
  EXPECT_EQ(proxy_->httpStat("downstream_cx_http1_total"), 2u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 2u);
}

TEST_F(ClientInteropTest, CurlH2cPriorKnowledge) {
  const ToolResult get = run({"curl", "-sS", "-i", "--http2-prior-knowledge", "--max-time", "20",
                              proxy_->url("/curl/h2")});
  ASSERT_EQ(get.exit_status, 0) << get.describe();
  EXPECT_TRUE(absl::StartsWith(get.out, "HTTP/2 200 \r\n")) << get.out;
  EXPECT_TRUE(absl::EndsWith(get.out, "hello from backend: GET /curl/h2")) << get.out;

  const ToolResult post = run({"curl", "-sS", "--http2-prior-knowledge", "--max-time", "20",
                               "--data-binary", "h2 body", proxy_->url("/curl/h2post")});
  ASSERT_EQ(post.exit_status, 0) << post.describe();
  EXPECT_EQ(post.out, "hello from backend: POST /curl/h2post");
  EXPECT_EQ(backend_->lastRequest()->body, "h2 body");
  EXPECT_EQ(proxy_->httpStat("downstream_cx_http2_total"), 2u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_http2_total"), 2u);
}

// `curl -T -` streams stdin as a chunked upload (HTTP/1.1) or as DATA frames of unknown length
// (h2c); the backend must receive every byte.
TEST_F(ClientInteropTest, CurlChunkedUploadFromStdin) {
  constexpr size_t kSize = 3 * 1024 * 1024 + 17;
  const std::string file = temp_.file("upload.bin");
  ASSERT_TRUE(writeFile(file, PatternBody::slice(0, kSize)).ok());
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2c" : "HTTP/1.1");
    const std::string curl =
        absl::StrCat("curl -sS --max-time 30 ", h2 ? "--http2-prior-knowledge " : "", "-T - ",
                     proxy_->url(h2 ? "/upload/h2" : "/upload/h1"));
    const ToolResult upload = run({"sh", "-c", absl::StrCat("cat ", file, " | ", curl)});
    ASSERT_EQ(upload.exit_status, 0) << upload.describe();
    EXPECT_EQ(upload.out, absl::StrCat("hello from backend: PUT /upload/", h2 ? "h2" : "h1"));
    std::optional<TestHttpRequest> seen = backend_->lastRequest();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->method, "PUT");
    EXPECT_EQ(seen->header("transfer-encoding"), "chunked");
    ASSERT_EQ(seen->body.size(), kSize);
    EXPECT_TRUE(seen->body == PatternBody::slice(0, kSize));
  }
}

TEST_F(ClientInteropTest, NghttpConcurrentStreamsOnOneConnection) {
  constexpr int kStreams = 12;
  std::vector<std::string> argv = {"nghttp", "-v", "-t", "20"};
  for (int i = 0; i < kStreams; ++i) {
    argv.push_back(proxy_->url(absl::StrCat("/nghttp/", i)));
  }
  const ToolResult result = run(argv);
  ASSERT_EQ(result.exit_status, 0) << result.describe();
  int ok = 0;
  re2::StringPiece out(result.out);
  std::string stream;
  while (RE2::FindAndConsume(&out, R"(recv \(stream_id=(\d+)\) :status: 200)", &stream)) {
    ++ok;
  }
  EXPECT_EQ(ok, kStreams) << result.out;
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_TRUE(absl::StrContains(result.out, absl::StrCat("hello from backend: GET /nghttp/", i)))
        << i;
  }
  EXPECT_EQ(backend_->requestCount(), static_cast<uint64_t>(kStreams));
  EXPECT_EQ(proxy_->httpStat("downstream_cx_http2_total"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_http2_total"), static_cast<uint64_t>(kStreams));
}

TEST_F(ClientInteropTest, PythonH2RawClient) {
  const std::string script = runfilesPath("test/integration/http/h2c_client.py");
  const ToolResult result =
      run({"python3", script, "--port", std::to_string(proxy_->port()), "--path", "/py/h2"});
  ASSERT_EQ(result.exit_status, 0) << result.describe();
  const std::vector<std::string> lines = absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  auto has = [&lines](absl::string_view line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  EXPECT_TRUE(has("stream 1 :status 200")) << result.out;
  EXPECT_TRUE(has("stream 1 body hello from backend: GET /py/h2")) << result.out;
  EXPECT_TRUE(has("stream 3 :status 200")) << result.out;
  EXPECT_TRUE(has("stream 3 body hello from backend: POST /py/h2")) << result.out;
  EXPECT_TRUE(has("stream 1 header server: waystone")) << result.out;
  EXPECT_EQ(backend_->requestCount(), 2u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_http2_total"), 2u);
}

// nginx serving static files behind the proxy.
class NginxBackendTest : public ::testing::Test {
 protected:
  static constexpr size_t kSmall = 1024;
  static constexpr size_t kLarge = 10 * 1024 * 1024;

  void SetUp() override {
    root_ = temp_.file("www");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_TRUE(writeFile(absl::StrCat(root_, "/small.bin"), PatternBody::slice(0, kSmall)).ok());
    ASSERT_TRUE(writeFile(absl::StrCat(root_, "/large.bin"), PatternBody::slice(0, kLarge)).ok());
  }

  void startProxy(bool upstream_http2) {
    auto nginx = NginxProcess::start(root_, upstream_http2);
    ASSERT_TRUE(nginx.ok()) << nginx.status();
    nginx_ = std::move(*nginx);
    BootstrapBuilder bootstrap;
    ClusterOptions cluster;
    cluster.http2 = upstream_http2;
    bootstrap.addCluster("nginx", {nginx_->port()}, cluster);
    auto proxy = HttpProxy::start(bootstrap);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  void TearDown() override {
    if (nginx_ != nullptr) {
      // Keep-alive connections from the proxy would delay nginx's graceful exit: stop the proxy
      // first, then nginx, which must exit cleanly.
      if (proxy_ != nullptr) {
        proxy_->process().stop();
      }
      const std::optional<int> status = nginx_->stop();
      EXPECT_EQ(status, 0) << nginx_->logs();
      if (HasFailure()) {
        ::fprintf(stderr, "%s\n", nginx_->logs().c_str());
      }
    }
  }

  // Small and large files, a range request and a 404, over one keep-alive connection.
  void fetchFiles() {
    HttpClient client = proxy_->client();
    const HttpHeaders keep_alive = {{"Connection", "keep-alive"}};
    auto small = client.request("GET", "/small.bin", keep_alive);
    ASSERT_TRUE(small.ok()) << small.status();
    EXPECT_EQ(small->status, 200);
    EXPECT_EQ(small->header("server"), "waystone");
    EXPECT_TRUE(small->body == PatternBody::slice(0, kSmall));

    auto large = client.request("GET", "/large.bin", keep_alive, "", std::chrono::seconds(30));
    ASSERT_TRUE(large.ok()) << large.status();
    EXPECT_EQ(large->status, 200);
    ASSERT_EQ(large->body.size(), kLarge);
    PatternBody check;
    check.update(large->body);
    EXPECT_TRUE(check.matches()) << "first wrong byte at " << check.firstMismatch();

    auto range = client.request("GET", "/large.bin",
                                {{"Connection", "keep-alive"}, {"Range", "bytes=1000000-1000099"}});
    ASSERT_TRUE(range.ok()) << range.status();
    EXPECT_EQ(range->status, 206);
    EXPECT_EQ(range->header("content-range"), absl::StrCat("bytes 1000000-1000099/", kLarge));
    EXPECT_TRUE(range->body == PatternBody::slice(1000000, 100));

    auto missing = client.request("GET", "/missing.bin", keep_alive);
    ASSERT_TRUE(missing.ok()) << missing.status();
    EXPECT_EQ(missing->status, 404);

    EXPECT_EQ(proxy_->clusterStat("nginx", "upstream_rq_2xx"), 3u);
    EXPECT_EQ(proxy_->clusterStat("nginx", "upstream_rq_4xx"), 1u);
    EXPECT_EQ(proxy_->httpStat("downstream_cx_total"), 1u);
  }

  TempDir temp_;
  std::string root_;
  std::unique_ptr<NginxProcess> nginx_;
  std::unique_ptr<HttpProxy> proxy_;
};

TEST_F(NginxBackendTest, StaticFilesOverHttp11Upstream) {
  ASSERT_NO_FATAL_FAILURE(startProxy(false));
  ASSERT_NO_FATAL_FAILURE(fetchFiles());
  EXPECT_EQ(proxy_->clusterStat("nginx", "upstream_cx_http1_total"), 1u);
}

TEST_F(NginxBackendTest, StaticFilesOverH2cUpstream) {
  ASSERT_NO_FATAL_FAILURE(startProxy(true));
  ASSERT_NO_FATAL_FAILURE(fetchFiles());
  EXPECT_EQ(proxy_->clusterStat("nginx", "upstream_cx_http2_total"), 1u);
}

// h2load: 2000 requests over 4 h2c connections, 10 concurrent streams each; every one must
// succeed.
TEST_F(NginxBackendTest, H2loadAllRequestsSucceed) {
  ASSERT_NO_FATAL_FAILURE(startProxy(false));
  auto result = runTool({"h2load", "-n", "2000", "-c", "4", "-m", "10", "-T", "30", "-N", "30",
                         proxy_->url("/small.bin")},
                        std::chrono::seconds(90));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_status, 0) << result->describe();
  EXPECT_TRUE(absl::StrContains(
      result->out,
      "requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, "
      "0 timeout"))
      << result->out;
  EXPECT_TRUE(absl::StrContains(result->out, "status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx"))
      << result->out;
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 2000u);
  EXPECT_EQ(proxy_->httpStat("downstream_cx_http2_total"), 4u);
  EXPECT_EQ(proxy_->clusterStat("nginx", "upstream_rq_2xx"), 2000u);
}

}  // namespace
}  // namespace waystone::test
