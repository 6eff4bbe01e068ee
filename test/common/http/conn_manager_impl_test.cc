// The HTTP connection manager on a real loopback connection with the real codecs: filter chain,
// local replies, request header handling, limits, path normalisation and the stream and
// connection timeouts. (Draining: conn_manager_drain_test.cc.) What the integration tests already
// cover through the binary (server_name overwrite, date, x-request-id generation and
// preservation, XFF appending, hop-by-hop headers) is not repeated here.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/common/http/conn_manager_impl_test_base.h"

namespace waystone::http::test {
namespace {

using std::chrono::milliseconds;

TEST_F(ConnectionManagerTest, FiltersRunInOrderAndResumeAfterStopIteration) {
  script_.logging_filters = {"a", "b"};
  StreamDecoderFilterCallbacks* paused = nullptr;
  script_.on_decode_headers = [&](const std::string& name, StreamDecoderFilterCallbacks& cb) {
    if (name == "a") {
      paused = &cb;
      return FilterHeadersStatus::StopIteration;
    }
    return FilterHeadersStatus::Continue;
  };
  listen();
  auto client = connectRaw();
  send(*client, get("/order"));
  ASSERT_TRUE(runUntil([&] { return paused != nullptr; }));
  // "a" holds the headers: nothing after it has run, nothing was answered.
  EXPECT_EQ(script_.log, std::vector<std::string>{"a.decodeHeaders+end"});
  EXPECT_TRUE(client->reader.received.empty());

  paused->continueDecoding();
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");
  // Decoding in configuration order, encoding in reverse.
  EXPECT_EQ(script_.log, (std::vector<std::string>{"a.decodeHeaders+end", "b.decodeHeaders+end",
                                                   "responder.decodeHeaders", "b.encodeHeaders",
                                                   "a.encodeHeaders", "b.encodeData(ok)+end",
                                                   "a.encodeData(ok)+end"}));
  EXPECT_EQ(counter("downstream_rq_2xx"), 1u);
  EXPECT_EQ(counter("downstream_rq_completed"), 1u);
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].details, "via_test_responder");
  EXPECT_EQ(script_.ended[0].response_flags, 0u);
}

TEST_F(ConnectionManagerTest, LocalReplyFromAFilterRunsOnlyTheEncodersBeforeIt) {
  config_->server_name = "unit-proxy";
  script_.logging_filters = {"a", "b"};
  script_.on_decode_headers = [](const std::string& name, StreamDecoderFilterCallbacks& cb) {
    if (name == "b") {
      cb.sendLocalReply(
          403, "denied by b", [](ResponseHeaderMap& headers) { headers.addCopy("x-why", "b"); },
          std::nullopt, "b_denied");
      return FilterHeadersStatus::StopIteration;
    }
    return FilterHeadersStatus::Continue;
  };
  listen();
  auto client = connectRaw();
  send(*client, get("/denied"));
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 403);
  EXPECT_EQ(response->body, "denied by b");
  EXPECT_EQ(response->header("content-length"), "11");
  EXPECT_EQ(response->header("x-why"), "b");
  EXPECT_EQ(response->header("server"), "unit-proxy");
  EXPECT_FALSE(response->header("date").empty());
  // b answered: a's encoder runs, b's does not, the responder never sees the request.
  EXPECT_EQ(script_.log,
            (std::vector<std::string>{"a.decodeHeaders+end", "b.decodeHeaders+end",
                                      "a.encodeHeaders", "a.encodeData(denied by b)+end"}));
  EXPECT_TRUE(script_.seen.empty());
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].details, "b_denied");
  EXPECT_EQ(counter("downstream_rq_4xx"), 1u);
  // A local reply does not end a keep-alive connection.
  EXPECT_FALSE(response->has("connection"));
  send(*client, get("/again"));
  auto again = readResponse(*client);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 403);
}

TEST_F(ConnectionManagerTest, RefusedRequestsCarryInvalidHeadersFlagAndDetails) {
  config_->normalize_path = true;
  listen();
  auto client = connectRaw();
  // CONNECT without an upgrade_config allowing it.
  send(*client, "CONNECT backend.test:443 HTTP/1.1\r\nHost: backend.test:443\r\n\r\n");
  auto connect = readResponse(*client);
  ASSERT_TRUE(connect.has_value());
  EXPECT_EQ(connect->status, 403);
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].details, "upgrade_failed");
  EXPECT_EQ(script_.ended[0].response_flags, stream_info::InvalidEnvoyRequestHeaders);

  // A path that cannot be normalised (an encoded NUL).
  auto client2 = connectRaw();
  send(*client2, get("/a/%00/b"));
  auto bad_path = readResponse(*client2);
  ASSERT_TRUE(bad_path.has_value());
  EXPECT_EQ(bad_path->status, 400);
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 2; }));
  EXPECT_EQ(script_.ended[1].details, "path_normalization_failed");
  EXPECT_EQ(script_.ended[1].response_flags, stream_info::InvalidEnvoyRequestHeaders);
  EXPECT_TRUE(script_.seen.empty());
}

TEST_F(ConnectionManagerTest, ServerHeaderTransformations) {
  script_.response_headers = {{"server", "backend"}};
  config_->server_name = "unit-proxy";
  listen();
  auto overwrite = connectRaw();
  send(*overwrite, get("/"));
  auto r1 = readResponse(*overwrite);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->header("server"), "unit-proxy");

  config_ = makeConfig();
  config_->server_name = "unit-proxy";
  config_->server_header_transformation =
      ConnectionManagerConfig::ServerHeaderTransformation::AppendIfAbsent;
  auto append = connectRaw();
  send(*append, get("/"));
  auto r2 = readResponse(*append);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->header("server"), "backend");

  config_ = makeConfig();
  config_->server_header_transformation =
      ConnectionManagerConfig::ServerHeaderTransformation::PassThrough;
  script_.response_headers.clear();
  auto pass = connectRaw();
  send(*pass, get("/"));
  auto r3 = readResponse(*pass);
  ASSERT_TRUE(r3.has_value());
  EXPECT_FALSE(r3->has("server"));  // none upstream, none added
}

TEST_F(ConnectionManagerTest, RequestIdAndForwardingHeaderOptions) {
  // Without use_remote_address the client's XFF is neither trusted for anything nor extended.
  config_->generate_request_id = false;
  listen();
  auto client = connectRaw();
  send(*client, get("/", "X-Forwarded-For: 198.51.100.1\r\n"));
  ASSERT_TRUE(readResponse(*client).has_value());
  ASSERT_EQ(script_.seen.size(), 1u);
  EXPECT_EQ(script_.seen[0].headers.getValue("x-forwarded-for"), "198.51.100.1");
  EXPECT_EQ(script_.seen[0].headers.getValue("x-forwarded-proto"), "http");
  EXPECT_FALSE(script_.seen[0].headers.has("x-request-id"));  // generate_request_id: false
  EXPECT_EQ(script_.seen[0].headers.getValue(":scheme"), "http");

  // use_remote_address with skip_xff_append: the proto is still set, the address not added.
  config_ = makeConfig();
  config_->use_remote_address = true;
  config_->skip_xff_append = true;
  auto skip = connectRaw();
  send(*skip, get("/", "X-Forwarded-Proto: https\r\n"));
  ASSERT_TRUE(readResponse(*skip).has_value());
  ASSERT_EQ(script_.seen.size(), 2u);
  EXPECT_FALSE(script_.seen[1].headers.has("x-forwarded-for"));
  EXPECT_EQ(script_.seen[1].headers.getValue("x-forwarded-proto"), "http");  // overwritten
  EXPECT_FALSE(script_.seen[1].headers.getValue("x-request-id").empty());
}

TEST_F(ConnectionManagerTest, PathNormalisationAndSlashMerging) {
  struct Case {
    bool normalize;
    bool merge;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {false, false, "/a/./b/../c//d?q=//x"},
      {true, false, "/a/c//d?q=//x"},
      {false, true, "/a/./b/../c/d?q=//x"},
      {true, true, "/a/c/d?q=//x"},
  };
  listen();
  for (size_t i = 0; i < cases.size(); ++i) {
    config_ = makeConfig();
    config_->normalize_path = cases[i].normalize;
    config_->merge_slashes = cases[i].merge;
    auto client = connectRaw();
    send(*client, get("/a/./b/../c//d?q=//x"));
    ASSERT_TRUE(readResponse(*client).has_value());
    ASSERT_EQ(script_.seen.size(), i + 1);
    EXPECT_EQ(script_.seen[i].headers.path(), cases[i].expected)
        << "normalize_path " << cases[i].normalize << " merge_slashes " << cases[i].merge;
  }
}

TEST_F(ConnectionManagerTest, TooManyHeadersIs431AndCloses) {
  config_->header_limits.max_headers_count = 5;
  listen();
  auto client = connectRaw();
  std::string extra;
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&extra, "X-H", i, ": v\r\n");
  }
  send(*client, get("/", extra));
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  EXPECT_EQ(counter("downstream_rq_too_large"), 1u);
  EXPECT_EQ(counter("downstream_cx_protocol_error"), 1u);
  EXPECT_TRUE(script_.seen.empty());

  // Within the limit: served.
  auto ok = connectRaw();
  send(*ok, get("/", "X-A: 1\r\nX-B: 2\r\n"));
  auto served = readResponse(*ok);
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

TEST_F(ConnectionManagerTest, HeadersWithUnderscoresActions) {
  listen();
  auto allow = connectRaw();
  send(*allow, get("/", "X_Under: 1\r\n"));
  ASSERT_TRUE(readResponse(*allow).has_value());
  ASSERT_EQ(script_.seen.size(), 1u);
  EXPECT_EQ(script_.seen[0].headers.getValue("x_under"), "1");

  config_ = makeConfig();
  config_->header_limits.headers_with_underscores_action = HeadersWithUnderscoresAction::DropHeader;
  auto drop = connectRaw();
  send(*drop, get("/", "X_Under: 1\r\nX-Kept: 2\r\n"));
  ASSERT_TRUE(readResponse(*drop).has_value());
  ASSERT_EQ(script_.seen.size(), 2u);
  EXPECT_FALSE(script_.seen[1].headers.has("x_under"));
  EXPECT_EQ(script_.seen[1].headers.getValue("x-kept"), "2");

  config_ = makeConfig();
  config_->header_limits.headers_with_underscores_action =
      HeadersWithUnderscoresAction::RejectRequest;
  auto reject = connectRaw();
  send(*reject, get("/", "X_Under: 1\r\n"));
  auto refused = readResponse(*reject);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 400);
  EXPECT_TRUE(runUntil([&] { return reject->sawEndOfStream(); }));
  EXPECT_EQ(script_.seen.size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Timeouts.

TEST_F(ConnectionManagerTest, StreamIdleTimeoutIs408WhileTheRequestArrivesAnd504After) {
  config_->stream_idle_timeout = milliseconds(100);
  script_.hold = true;
  listen();
  // The request is complete and the answer never comes: the wait was upstream's, 504.
  auto complete = connectRaw();
  send(*complete, get("/held"));
  auto r1 = readResponse(*complete);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->status, 504);
  EXPECT_EQ(r1->body, "stream timeout");
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].response_flags, stream_info::StreamIdleTimeout);
  EXPECT_EQ(script_.ended[0].details, "stream_idle_timeout");

  // Half a body and then silence: 408, and HTTP/1 closes (the rest of the body would be read as
  // the next request).
  auto partial = connectRaw();
  send(*partial, "POST /upload HTTP/1.1\r\nHost: unit.test\r\nContent-Length: 10\r\n\r\nhello");
  auto r2 = readResponse(*partial);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->status, 408);
  EXPECT_EQ(r2->header("connection"), "close");
  EXPECT_TRUE(runUntil([&] { return partial->sawEndOfStream(); }));
  EXPECT_EQ(counter("downstream_rq_idle_timeout"), 2u);
}

TEST_F(ConnectionManagerTest, StreamIdleTimeoutAfterTheResponseStartedResetsTheStream) {
  config_->stream_idle_timeout = milliseconds(100);
  script_.logging_filters = {"a"};
  script_.on_decode_headers = [](const std::string&, StreamDecoderFilterCallbacks& cb) {
    // Headers now, the body never.
    auto headers = std::make_unique<ResponseHeaderMap>();
    headers->addCopy(":status", "200");
    cb.encodeHeaders(std::move(headers), false, "partial");
    return FilterHeadersStatus::StopIteration;
  };
  listen();
  auto client = connectH2();
  auto& response = client->request("GET", "/partial");
  ASSERT_TRUE(runUntil([&] { return response.reset; }));
  ASSERT_NE(response.headers, nullptr);
  EXPECT_EQ(response.headers->status(), 200u);
  EXPECT_FALSE(response.end_stream);
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].details, "stream_idle_timeout");
  EXPECT_TRUE(script_.ended[0].response_flags & stream_info::StreamIdleTimeout);
  // The connection lives on for other streams.
  script_.on_decode_headers = nullptr;
  auto& next = client->request("GET", "/next");
  ASSERT_TRUE(runUntil([&] { return next.end_stream; }));
  EXPECT_EQ(next.headers->status(), 200u);
}

TEST_F(ConnectionManagerTest, RequestTimeoutIs408WithoutAFlagAndClosesHttp1) {
  config_->request_timeout = milliseconds(100);
  listen();
  auto client = connectRaw();
  send(*client, "POST /upload HTTP/1.1\r\nHost: unit.test\r\nContent-Length: 10\r\n\r\nhello");
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->body, "request timeout");
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].details, "request_overall_timeout");
  EXPECT_EQ(script_.ended[0].response_flags, 0u);  // Envoy sets no flag for it
  EXPECT_EQ(counter("downstream_rq_timeout"), 1u);

  // A request that completes in time is not affected, however long the answer takes.
  script_.hold = true;
  auto in_time = connectRaw();
  send(*in_time, "POST /upload HTTP/1.1\r\nHost: unit.test\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 1; }));
  network::test::runFor(dispatcher_, milliseconds(300));
  respond(*script_.held[0]);
  auto late = readResponse(*in_time);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status, 200);
  EXPECT_EQ(counter("downstream_rq_timeout"), 1u);
}

TEST_F(ConnectionManagerTest, RequestHeadersTimeoutIs408AndClosesHttp1) {
  config_->request_headers_timeout = milliseconds(100);
  listen();
  auto client = connectRaw();
  // The headers never end.
  send(*client, "GET /slow HTTP/1.1\r\nHost: unit.test\r\nX-Partial: 1\r\n");
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->body, "request header timeout");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  EXPECT_EQ(counter("downstream_rq_header_timeout"), 1u);
  EXPECT_EQ(counter("downstream_rq_4xx"), 1u);
  EXPECT_TRUE(script_.seen.empty());
}

TEST_F(ConnectionManagerTest, RequestHeadersTimeoutRunsFromEachRequestsFirstByteToItsHeaders) {
  config_->request_headers_timeout = milliseconds(100);
  script_.hold = true;
  listen();
  auto client = connectRaw();
  // An idle connection is not a slow request: the timer starts with the first byte.
  network::test::runFor(dispatcher_, milliseconds(250));
  send(*client, get("/first"));
  // Complete headers disarm it, however long the answer then takes.
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 1; }));
  network::test::runFor(dispatcher_, milliseconds(250));
  respond(*script_.held[0]);
  auto first = readResponse(*client);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  // Between requests on a keep-alive connection it is not running either.
  network::test::runFor(dispatcher_, milliseconds(250));
  send(*client, get("/second"));
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 2; }));
  respond(*script_.held[1]);
  auto second = readResponse(*client);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(counter("downstream_rq_header_timeout"), 0u);
}

TEST_F(ConnectionManagerTest, MaxStreamDurationIs504WithDurationTimeoutFlag) {
  config_->max_stream_duration = milliseconds(100);
  script_.hold = true;
  listen();
  auto client = connectH2();
  auto& response = client->request("GET", "/long");
  ASSERT_TRUE(runUntil([&] { return response.end_stream || response.reset; }));
  ASSERT_NE(response.headers, nullptr);
  EXPECT_EQ(response.headers->status(), 504u);
  EXPECT_EQ(response.body, "downstream duration timeout");
  ASSERT_TRUE(runUntil([&] { return script_.ended.size() == 1; }));
  EXPECT_EQ(script_.ended[0].details, "max_duration_timeout");
  EXPECT_EQ(script_.ended[0].response_flags, stream_info::DurationTimeout);
  EXPECT_EQ(counter("downstream_rq_max_duration_reached"), 1u);
  ASSERT_EQ(script_.held.size(), 1u);
  EXPECT_TRUE(script_.held[0]->destroyed);
}

TEST_F(ConnectionManagerTest, IdleTimeoutClosesConnectionsWithoutStreams) {
  config_->idle_timeout = milliseconds(100);
  listen();
  auto h1 = connectRaw();
  send(*h1, get("/"));
  auto response = readResponse(*h1);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(runUntil([&] { return h1->sawEndOfStream(); }));

  // HTTP/2 says goodbye first.
  auto h2 = connectH2();
  auto& r = h2->request("GET", "/");
  ASSERT_TRUE(runUntil([&] { return r.end_stream; }));
  EXPECT_TRUE(runUntil([&] { return h2->sawEndOfStream(); }));
  EXPECT_EQ(h2->goAwayLastStreamIds(), std::vector<uint32_t>{1});
  EXPECT_EQ(counter("downstream_cx_idle_timeout"), 2u);
}

TEST_F(ConnectionManagerTest, IdleTimeoutWaitsForActiveStreams) {
  config_->idle_timeout = milliseconds(100);
  script_.hold = true;
  listen();
  auto client = connectRaw();
  send(*client, get("/held"));
  ASSERT_TRUE(runUntil([&] { return script_.held.size() == 1; }));
  network::test::runFor(dispatcher_, milliseconds(300));
  EXPECT_FALSE(client->sawEndOfStream());
  respond(*script_.held[0]);
  auto response = readResponse(*client);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  // Idle from now: closed after the timeout.
  EXPECT_TRUE(runUntil([&] { return client->sawEndOfStream(); }));
  EXPECT_EQ(counter("downstream_cx_idle_timeout"), 1u);
}

}  // namespace
}  // namespace waystone::http::test
