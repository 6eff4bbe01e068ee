#include "source/server/admin/admin_server.h"

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include <sys/socket.h>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/address.h"
#include "source/common/stats/store.h"
#include "source/server/admin/admin_connection.h"
#include "test/test_common/http_client.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/wait_for.h"

namespace waystone::server::admin {
namespace {

using std::chrono::milliseconds;
using test::FileDescriptor;
using test::HttpClient;
using test::HttpHeaders;
using test::HttpResponse;

constexpr milliseconds kTimeout{10000};

// One response cut out of a raw byte stream (the admin server always sends content-length).
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Splits `stream` into complete responses; a trailing incomplete one fails the test.
std::vector<RawResponse> parseResponses(absl::string_view stream) {
  std::vector<RawResponse> out;
  while (!stream.empty()) {
    const size_t head_end = stream.find("\r\n\r\n");
    if (head_end == absl::string_view::npos) {
      ADD_FAILURE() << "incomplete response head: " << stream;
      break;
    }
    std::vector<absl::string_view> lines =
        absl::StrSplit(stream.substr(0, head_end), absl::ByString("\r\n"));
    RawResponse response;
    std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
    EXPECT_EQ(status_line[0], "HTTP/1.1");
    if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &response.status)) {
      ADD_FAILURE() << "bad status line: " << lines[0];
      break;
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      EXPECT_NE(colon, absl::string_view::npos) << lines[i];
      response.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    size_t length = 0;
    if (!absl::SimpleAtoi(response.headers["content-length"], &length)) {
      ADD_FAILURE() << "no content-length";
      break;
    }
    stream.remove_prefix(head_end + 4);
    if (stream.size() < length) {
      ADD_FAILURE() << "truncated body";
      break;
    }
    response.body = std::string(stream.substr(0, length));
    stream.remove_prefix(length);
    out.push_back(std::move(response));
  }
  return out;
}

// Reads until the peer closes (EOF or reset after its data) or the deadline passes (failure).
std::string readUntilClosed(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  std::string received;
  while (true) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    absl::StatusOr<std::string> data = test::receiveSome(fd, std::max(left, milliseconds(0)));
    if (absl::IsDeadlineExceeded(data.status())) {
      ADD_FAILURE() << "the server did not close the connection; received: " << received;
      return received;
    }
    if (!data.ok() || data->empty()) {
      return received;  // EOF, or a reset after the response (the response is what counts)
    }
    received += *data;
  }
}

// Reads until `count` complete responses have arrived (the connection stays open).
std::string readResponses(int fd, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  std::string received;
  auto complete = [&] {
    size_t found = 0;
    absl::string_view rest = received;
    while (found < count) {
      const size_t head_end = rest.find("\r\n\r\n");
      if (head_end == absl::string_view::npos) {
        return false;
      }
      const std::string head = absl::AsciiStrToLower(rest.substr(0, head_end));
      const size_t cl = head.find("content-length: ");
      size_t length = 0;
      if (cl == std::string::npos ||
          !absl::SimpleAtoi(head.substr(cl + 16, head.find("\r\n", cl) - cl - 16), &length)) {
        return false;
      }
      if (rest.size() < head_end + 4 + length) {
        return false;
      }
      rest.remove_prefix(head_end + 4 + length);
      ++found;
    }
    return true;
  };
  while (!complete()) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    absl::StatusOr<std::string> data = test::receiveSome(fd, std::max(left, milliseconds(0)));
    if (!data.ok() || data->empty()) {
      ADD_FAILURE() << "connection ended before " << count
                    << " responses: " << data.status().ToString() << " received: " << received;
      break;
    }
    received += *data;
  }
  return received;
}

// An AdminServer on 127.0.0.1:0 whose dispatcher runs on its own thread while the test thread
// plays the client with blocking sockets. The server and its handlers live on the dispatcher
// thread only: they are created, used and destroyed there.
class AdminServerTest : public testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { dispatcher_.run(event::Dispatcher::RunType::RunUntilExit); });
    absl::Status status;
    runOnDispatcher([this, &status] {
      server_ = std::make_unique<AdminServer>(dispatcher_, store_);
      server_->addHandler(
          "/hello", "say hello",
          [this](const AdminRequest& request, AdminResponse& response) {
            record(request);
            response.body = "hello\n";
          },
          false);
      server_->addHandler(
          "/echo", "describe the request",
          [this](const AdminRequest& request, AdminResponse& response) {
            record(request);
            response.content_type = "application/json";
            response.headers.emplace_back("x-echo", "yes");
            response.body = absl::StrCat(request.method, " ", request.path, " n=", request.get("n"),
                                         " body=", request.body.size());
          },
          false);
      server_->addHandler(
          "/quitquitquit", "exit the server",
          [this](const AdminRequest& request, AdminResponse& response) {
            record(request);
            response.body = "OK\n";
          },
          true);
      auto address = network::address::parseIp("127.0.0.1", 0);
      if (!address.ok()) {
        status = address.status();
        return;
      }
      status = server_->start(*address);
      if (status.ok()) {
        port_ = server_->boundAddress()->port();
      }
    });
    ASSERT_TRUE(status.ok()) << status;
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    runOnDispatcher([this] { server_.reset(); });
    dispatcher_.exit();
    thread_.join();
  }

  // Runs `fn` on the dispatcher thread and waits for it.
  void runOnDispatcher(std::function<void()> fn) {
    std::promise<void> done;
    dispatcher_.post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  void record(const AdminRequest& request) {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
  }

  std::vector<AdminRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  HttpClient client() { return HttpClient("127.0.0.1", port_); }

  FileDescriptor connectRaw() {
    absl::StatusOr<FileDescriptor> fd = test::connectTcp("127.0.0.1", port_, kTimeout);
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.ok() ? std::move(*fd) : FileDescriptor();
  }

  void sendRaw(const FileDescriptor& fd, absl::string_view data) {
    absl::Status status = test::sendAll(fd.get(), data, kTimeout);
    EXPECT_TRUE(status.ok()) << status;
  }

  uint64_t counter(absl::string_view name) { return store_.counterFromString(name).value(); }
  uint64_t gauge(absl::string_view name) { return store_.gaugeFromString(name).value(); }

  stats::Store store_;
  event::DispatcherImpl dispatcher_{"admin_test"};
  std::thread thread_;
  std::unique_ptr<AdminServer> server_;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::vector<AdminRequest> requests_;
};

TEST_F(AdminServerTest, GetRegisteredPath) {
  absl::StatusOr<HttpResponse> response = client().get("/hello");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello\n");
  EXPECT_EQ(response->header("content-type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(response->header("content-length"), "6");
  EXPECT_EQ(response->header("cache-control"), "no-cache, max-age=0");
  EXPECT_EQ(response->header("x-content-type-options"), "nosniff");
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].method, "GET");
  EXPECT_EQ(requests()[0].path, "/hello");
}

TEST_F(AdminServerTest, HandlerSetsContentTypeAndHeaders) {
  absl::StatusOr<HttpResponse> response = client().get("/echo");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->header("x-echo"), "yes");
  EXPECT_EQ(response->body, "GET /echo n= body=0");
}

TEST_F(AdminServerTest, UnknownPathIs404ListingEndpoints) {
  absl::StatusOr<HttpResponse> response = client().get("/no/such/endpoint");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  EXPECT_TRUE(absl::StartsWith(response->body, "invalid path. admin commands are:\n"))
      << response->body;
  EXPECT_TRUE(absl::StrContains(response->body, "  /hello: say hello\n")) << response->body;
  EXPECT_TRUE(absl::StrContains(response->body, "  /echo: describe the request\n"));
  EXPECT_TRUE(absl::StrContains(response->body, "  /quitquitquit: exit the server\n"));
  EXPECT_TRUE(absl::StrContains(response->body, "  /help: print out list of admin commands\n"));
  EXPECT_TRUE(requests().empty());
}

TEST_F(AdminServerTest, PrefixOfAnEndpointIsNotTheEndpoint) {
  // Paths match exactly: "/hello/x" and "/hell" are not "/hello".
  absl::StatusOr<HttpResponse> response = client().get("/hello/x");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  response = client().get("/hell");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  EXPECT_TRUE(requests().empty());
}

TEST_F(AdminServerTest, HelpListsEndpointsInOrder) {
  absl::StatusOr<HttpResponse> response = client().get("/help");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body,
            "admin commands are:\n"
            "  /echo: describe the request\n"
            "  /hello: say hello\n"
            "  /help: print out list of admin commands\n"
            "  /quitquitquit: exit the server\n");
}

TEST_F(AdminServerTest, MutatingEndpointRefusesGetWith405) {
  absl::StatusOr<HttpResponse> response = client().get("/quitquitquit");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->header("allow"), "POST");
  EXPECT_TRUE(absl::StrContains(response->body, "use POST")) << response->body;
  EXPECT_TRUE(requests().empty()) << "the handler must not run for GET";

  response = client().request("PUT", "/quitquitquit");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 405);
  EXPECT_TRUE(requests().empty());

  response = client().post("/quitquitquit", "");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "OK\n");
  EXPECT_EQ(response->header("allow"), "");
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].method, "POST");
}

TEST_F(AdminServerTest, NonMutatingEndpointAcceptsPost) {
  absl::StatusOr<HttpResponse> response = client().post("/hello", "");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello\n");
}

TEST_F(AdminServerTest, QueryParametersReachTheHandler) {
  absl::StatusOr<HttpResponse> response =
      client().get("/echo?n=7&filter=%5Ecluster%5C.(a|b)%24&usedonly&filter=x+y");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /echo n=7 body=0");
  ASSERT_EQ(requests().size(), 1u);
  const AdminRequest request = requests()[0];
  EXPECT_EQ(request.path, "/echo");
  EXPECT_TRUE(request.has("usedonly"));
  EXPECT_EQ(request.get("usedonly"), "");
  EXPECT_FALSE(request.has("missing"));
  EXPECT_EQ(request.get("missing"), "");
  EXPECT_EQ(request.query.count("filter"), 2u);
  EXPECT_EQ(request.get("filter"), "^cluster\\.(a|b)$");
  auto [begin, end] = request.query.equal_range("filter");
  ASSERT_NE(begin, end);
  EXPECT_EQ(std::next(begin)->second, "x+y");
}

TEST_F(AdminServerTest, RequestBodyReachesTheHandler) {
  const std::string body = "level=debug&name=admin";
  absl::StatusOr<HttpResponse> response = client().post("/echo?n=1", body);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, absl::StrCat("POST /echo n=1 body=", body.size()));
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].body, body);
}

TEST_F(AdminServerTest, ChunkedBodyReachesTheHandler) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd,
          "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
          "\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].body, "abcdefg");
}

TEST_F(AdminServerTest, BodyOfExactlyTheLimitIsAccepted) {
  const std::string body(AdminConnection::kMaxBodyBytes, 'b');
  absl::StatusOr<HttpResponse> response = client().post("/echo", body);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, absl::StrCat("POST /echo n= body=", body.size()));
}

TEST_F(AdminServerTest, PipelinedRequestsAreAnsweredInOrder) {
  FileDescriptor fd = connectRaw();
  // All three requests in one write: the server sees them in one read.
  sendRaw(fd,
          "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
          "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
          "POST /echo?n=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].body, "GET /echo n=1 body=0");
  EXPECT_EQ(responses[1].body, "hello\n");
  EXPECT_EQ(responses[2].body, "POST /echo n=3 body=2");
  EXPECT_EQ(responses[0].headers.count("connection"), 0u);
  EXPECT_EQ(responses[1].headers.count("connection"), 0u);
  EXPECT_EQ(responses[2].headers["connection"], "close");
  ASSERT_EQ(requests().size(), 3u);
  EXPECT_EQ(requests()[2].body, "hi");
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 1u);
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 3u);
}

TEST_F(AdminServerTest, PipelinedRequestsSplitAcrossWrites) {
  FileDescriptor fd = connectRaw();
  // The first request and half of the second, then the rest: the parser keeps its state.
  sendRaw(fd, "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?n=2 HT");
  std::vector<RawResponse> first = parseResponses(readResponses(fd.get(), 1));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].body, "GET /echo n=1 body=0");
  sendRaw(fd, "TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::vector<RawResponse> second = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].body, "GET /echo n=2 body=0");
}

TEST_F(AdminServerTest, NothingIsAnsweredAfterConnectionClose) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd,
          "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, "GET /echo n=1 body=0");
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].get("n"), "1");
}

TEST_F(AdminServerTest, KeepAliveReusesTheConnection) {
  HttpClient keep_alive = client();
  const HttpHeaders headers = {{"Connection", "keep-alive"}};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> response = keep_alive.request("GET", "/hello", headers);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("connection"), "");
    EXPECT_TRUE(keep_alive.connected());
  }
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 1u);
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 3u);
  EXPECT_EQ(gauge("listener.admin.downstream_cx_active"), 1u);

  // The same connection asking to close gets "connection: close" and is closed.
  absl::StatusOr<HttpResponse> response =
      keep_alive.request("GET", "/hello", {{"Connection", "close"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_FALSE(keep_alive.connected());
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 1u);
  EXPECT_TRUE(
      test::waitFor([&] { return gauge("listener.admin.downstream_cx_active") == 0; }, kTimeout));
}

TEST_F(AdminServerTest, ConnectionCloseClosesTheConnection) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  // readUntilClosed fails the test if the server keeps the connection open.
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].headers["connection"], "close");
}

TEST_F(AdminServerTest, Http10ClosesByDefault) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd, "GET /hello HTTP/1.0\r\n\r\n");
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].headers["connection"], "close");
}

TEST_F(AdminServerTest, MalformedRequestIs400AndCloses) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd, "THIS IS NOT HTTP\r\n\r\n");
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400);
  EXPECT_EQ(responses[0].headers["connection"], "close");
  EXPECT_TRUE(absl::StartsWith(responses[0].body, "malformed request")) << responses[0].body;
  EXPECT_TRUE(requests().empty());
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 0u);
}

TEST_F(AdminServerTest, MalformedRequestAfterAGoodOneIs400) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nBad Header\r\n\r\n");
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[1].status, 400);
  EXPECT_EQ(requests().size(), 1u);
}

TEST_F(AdminServerTest, HeadersOverTheLimitAre431) {
  FileDescriptor fd = connectRaw();
  // No end of headers is ever sent: the server must refuse on size alone, without buffering
  // (and without anything unread left behind, so the close is a clean FIN).
  sendRaw(fd, absl::StrCat("GET /hello HTTP/1.1\r\nHost: x\r\nx-big: ",
                           std::string(AdminConnection::kMaxHeaderBytes, 'a')));
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 431);
  EXPECT_EQ(responses[0].headers["connection"], "close");
  EXPECT_TRUE(requests().empty());
}

TEST_F(AdminServerTest, HeadersJustUnderTheLimitAreAccepted) {
  // The limit counts the URL, header names and values; stay a few bytes under it.
  const std::string value(AdminConnection::kMaxHeaderBytes - 100, 'a');
  absl::StatusOr<HttpResponse> response = client().request("GET", "/hello", {{"x-big", value}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST_F(AdminServerTest, BodyOverTheLimitIs413) {
  const std::string body(AdminConnection::kMaxBodyBytes + 1, 'b');
  FileDescriptor fd = connectRaw();
  sendRaw(fd, absl::StrCat("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ", body.size(),
                           "\r\n\r\n", body));
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_EQ(responses[0].headers["connection"], "close");
  EXPECT_TRUE(requests().empty()) << "the handler must not see a truncated body";
}

TEST_F(AdminServerTest, HalfClosedClientStillGetsTheResponse) {
  FileDescriptor fd = connectRaw();
  // A keep-alive request (HTTP/1.1 default) followed by the client's FIN.
  sendRaw(fd, "GET /echo?n=5 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, "GET /echo n=5 body=0");
  EXPECT_TRUE(
      test::waitFor([&] { return gauge("listener.admin.downstream_cx_active") == 0; }, kTimeout));
}

TEST_F(AdminServerTest, HalfClosedPipelinedRequestsAreAllAnswered) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd,
          "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
          "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  std::vector<RawResponse> responses = parseResponses(readUntilClosed(fd.get()));
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].body, "GET /echo n=1 body=0");
  EXPECT_EQ(responses[1].body, "GET /echo n=2 body=0");
}

TEST_F(AdminServerTest, StatsCountConnectionsAndRequests) {
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 0u);
  EXPECT_EQ(gauge("listener.admin.downstream_cx_active"), 0u);
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 0u);

  // Two open connections at once.
  HttpClient first = client();
  HttpClient second = client();
  const HttpHeaders keep = {{"Connection", "keep-alive"}};
  ASSERT_TRUE(first.request("GET", "/hello", keep).ok());
  ASSERT_TRUE(second.request("GET", "/nothing-here", keep).ok());  // 404s count as requests
  ASSERT_TRUE(second.request("GET", "/help", keep).ok());
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 2u);
  EXPECT_EQ(gauge("listener.admin.downstream_cx_active"), 2u);
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 3u);

  // A third connection with one request, closed by the server.
  ASSERT_TRUE(client().get("/quitquitquit").ok());  // a 405 is a request too
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 3u);
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 4u);
  EXPECT_TRUE(
      test::waitFor([&] { return gauge("listener.admin.downstream_cx_active") == 2; }, kTimeout));

  // Closing the clients' sockets ends the kept-alive connections.
  ASSERT_TRUE(first.request("GET", "/hello", {{"Connection", "close"}}).ok());
  ASSERT_TRUE(second.request("GET", "/hello", {{"Connection", "close"}}).ok());
  EXPECT_TRUE(
      test::waitFor([&] { return gauge("listener.admin.downstream_cx_active") == 0; }, kTimeout));
  EXPECT_EQ(counter("listener.admin.downstream_cx_total"), 3u);
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 6u);
}

TEST_F(AdminServerTest, ClientClosingMidRequestIsCleanedUp) {
  {
    FileDescriptor fd = connectRaw();
    sendRaw(fd, "GET /hel");  // half a request, then the client closes
    ASSERT_TRUE(test::waitFor([&] { return counter("listener.admin.downstream_cx_total") == 1; },
                              kTimeout));
  }
  EXPECT_TRUE(
      test::waitFor([&] { return gauge("listener.admin.downstream_cx_active") == 0; }, kTimeout));
  EXPECT_TRUE(requests().empty());
  // The server still serves.
  absl::StatusOr<HttpResponse> response = client().get("/hello");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST_F(AdminServerTest, DestroyingTheServerClosesOpenConnections) {
  FileDescriptor fd = connectRaw();
  sendRaw(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  std::vector<RawResponse> responses = parseResponses(readResponses(fd.get(), 1));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(gauge("listener.admin.downstream_cx_active"), 1u);
  runOnDispatcher([this] { server_.reset(); });
  EXPECT_EQ(readUntilClosed(fd.get()), "");
  EXPECT_EQ(gauge("listener.admin.downstream_cx_active"), 0u);
}

TEST_F(AdminServerTest, HandleRunsTheEndpointTableDirectly) {
  // handle() is also the entry point for in-process callers; it needs no socket.
  AdminResponse response;
  size_t endpoints = 0;
  runOnDispatcher([&] {
    AdminRequest request;
    request.method = "GET";
    request.path = "/echo";
    request.query.emplace("n", "9");
    server_->handle(request, response);
    endpoints = server_->endpoints().size();
  });
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "GET /echo n=9 body=0");
  EXPECT_EQ(counter("http.admin.downstream_rq_total"), 1u);
  EXPECT_EQ(endpoints, 4u);  // the three of the fixture and /help
}

TEST(AdminServerStartTest, StartFailsOnAnAddressInUse) {
  stats::Store store;
  event::DispatcherImpl dispatcher("admin_test");
  AdminServer first(dispatcher, store);
  ASSERT_TRUE(first.start(*network::address::parseIp("127.0.0.1", 0)).ok());
  AdminServer second(dispatcher, store);
  absl::Status status = second.start(first.boundAddress());
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(absl::StartsWith(status.message(), "admin.address: cannot listen: "))
      << status.message();
}

}  // namespace
}  // namespace waystone::server::admin
