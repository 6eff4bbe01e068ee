// gRPC through the proxy: a real gRPC C++ client and server (grpc++), Waystone in between over
// h2c both ways. The service is Envoy's own SecretDiscoveryService, compiled in //api, used as a
// plain test service: unary FetchSecrets echoes the request's version_info; bidirectional
// StreamSecrets answers every request; a version_info of "fail" makes the server return an error
// status (carried in trailers).

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/service/secret/v3/sds.grpc.pb.h"
#include "gtest/gtest.h"
#include <grpcpp/grpcpp.h>

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"

namespace waystone::test {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using envoy::service::secret::v3::SecretDiscoveryService;

class EchoSecretService final : public SecretDiscoveryService::Service {
 public:
  grpc::Status FetchSecrets(grpc::ServerContext* context, const DiscoveryRequest* request,
                            DiscoveryResponse* response) override {
    if (request->version_info() == "fail") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "told to fail");
    }
    response->set_version_info(request->version_info());
    // Echo a request header so the test sees metadata crossing the proxy.
    auto it = context->client_metadata().find("x-test");
    if (it != context->client_metadata().end()) {
      response->set_nonce(std::string(it->second.data(), it->second.size()));
    }
    return grpc::Status::OK;
  }

  grpc::Status StreamSecrets(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    DiscoveryRequest request;
    while (stream->Read(&request)) {
      DiscoveryResponse response;
      response.set_version_info(absl::StrCat("echo:", request.version_info()));
      stream->Write(response);
    }
    return grpc::Status::OK;
  }
};

class GrpcIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &backend_port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(backend_port_, 0);

    BootstrapBuilder bootstrap;
    ClusterOptions options;
    options.http2 = true;  // gRPC needs HTTP/2 to the upstream
    bootstrap.addCluster("grpc", {static_cast<uint16_t>(backend_port_)}, options);
    auto proxy = HttpProxy::start(bootstrap);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", proxy_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = SecretDiscoveryService::NewStub(channel_);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    }
  }

  static std::chrono::system_clock::time_point deadline() {
    return std::chrono::system_clock::now() + std::chrono::seconds(10);
  }

  EchoSecretService service_;
  int backend_port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpProxy> proxy_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<SecretDiscoveryService::Stub> stub_;
};

TEST_F(GrpcIntegrationTest, UnaryCallsCrossTheProxy) {
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext context;
    context.set_deadline(deadline());
    context.AddMetadata("x-test", "metadata-" + std::to_string(i));
    DiscoveryRequest request;
    request.set_version_info(absl::StrCat("v", i));
    DiscoveryResponse response;
    const grpc::Status status = stub_->FetchSecrets(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_EQ(response.version_info(), absl::StrCat("v", i));
    EXPECT_EQ(response.nonce(), "metadata-" + std::to_string(i));
  }
  EXPECT_EQ(proxy_->clusterStat("grpc", "upstream_rq_total"), 20u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 20u);
}

TEST_F(GrpcIntegrationTest, ErrorStatusArrivesInTrailers) {
  grpc::ClientContext context;
  context.set_deadline(deadline());
  DiscoveryRequest request;
  request.set_version_info("fail");
  DiscoveryResponse response;
  const grpc::Status status = stub_->FetchSecrets(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(), "told to fail");
}

TEST_F(GrpcIntegrationTest, BidirectionalStreamCrossesTheProxy) {
  grpc::ClientContext context;
  context.set_deadline(deadline());
  auto stream = stub_->StreamSecrets(&context);
  for (int i = 0; i < 50; ++i) {
    DiscoveryRequest request;
    request.set_version_info(absl::StrCat(i));
    ASSERT_TRUE(stream->Write(request));
    DiscoveryResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.version_info(), absl::StrCat("echo:", i));
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(GrpcIntegrationTest, NoRouteIsAGrpcStatus) {
  // A gRPC request the proxy cannot route gets a trailers-only gRPC error (404 -> UNIMPLEMENTED),
  // not an HTTP error page.
  BootstrapBuilder bootstrap;
  bootstrap.addCluster("grpc", {static_cast<uint16_t>(backend_port_)}, ClusterOptions{});
  bootstrap.setRouteConfig(R"(
    virtual_hosts:
    - name: none
      domains: ["elsewhere.example"]
      routes:
      - match: { prefix: "/" }
        route: { cluster: grpc }
  )");
  auto proxy = HttpProxy::start(bootstrap);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*proxy)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = SecretDiscoveryService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(deadline());
  DiscoveryResponse response;
  const grpc::Status status = stub->FetchSecrets(&context, DiscoveryRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace waystone::test
