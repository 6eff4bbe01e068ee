#include "source/common/http/http1/server_connection_impl.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "test/common/http/http1/codec_test_util.h"

namespace waystone::http::http1 {
namespace {

class ServerCodecTest : public testing::TestWithParam<Split> {
 protected:
  void initialize() {
    codec_ = std::make_unique<ServerConnectionImpl>(transport_, callbacks_, settings_, limits_);
  }
  absl::Status send(absl::string_view bytes) { return feed(*codec_, input_, bytes, GetParam()); }
  // What the transport does once reading is enabled again: deliver what it still holds.
  absl::Status resume() { return codec_->dispatch(input_); }
  TestRequestDecoder& stream(size_t i) { return *callbacks_.streams.at(i); }

  void TearDown() override {
    EXPECT_EQ(0, transport_.writes_after_end);
    EXPECT_EQ(0, transport_.unbalanced_enables);
    for (const auto& stream : callbacks_.streams) {
      EXPECT_EQ(0, stream->out_of_order);
    }
  }

  Http1Settings settings_;
  HeaderLimits limits_;
  TestTransport transport_;
  TestServerCallbacks callbacks_;
  buffer::OwnedImpl input_;
  std::unique_ptr<ServerConnectionImpl> codec_;
};

INSTANTIATE_TEST_SUITE_P(Splits, ServerCodecTest,
                         testing::Values(Split::Whole, Split::OneByte, Split::SevenBytes),
                         [](const testing::TestParamInfo<Split>& info) {
                           return splitName(info.param);
                         });

TEST_P(ServerCodecTest, SimpleGet) {
  initialize();
  ASSERT_TRUE(
      send("GET /path?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n")
          .ok());
  ASSERT_EQ(1u, callbacks_.streams.size());
  TestRequestDecoder& s = stream(0);
  ASSERT_NE(nullptr, s.headers);
  EXPECT_TRUE(s.headers_end_stream);
  EXPECT_EQ(
      ":method: GET\n:authority: example.com\n:path: /path?x=1\nuser-agent: test\naccept: */*\n",
      s.headers->toString());
  EXPECT_FALSE(s.headers->has(":scheme"));
  EXPECT_EQ(Protocol::Http11, codec_->protocol());
  EXPECT_TRUE(codec_->wantsToWrite());
  // Waiting for the response: the transport does not read meanwhile.
  EXPECT_EQ(1, transport_.read_disabled);

  s.respond(200, {{"content-type", "text/plain"}, {"content-length", "2"}}, "ok");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok",
            transport_.take());
  EXPECT_FALSE(transport_.end_stream);
  EXPECT_FALSE(codec_->shouldClose());
  EXPECT_FALSE(codec_->wantsToWrite());
  EXPECT_EQ(0, transport_.read_disabled);
  EXPECT_EQ(0u, input_.length());
}

TEST_P(ServerCodecTest, HeaderValuesAreTrimmedAndNamesLowerCased) {
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHOST: h\r\nX-Mixed-Case:   spaced value \t \r\nEmpty:\r\n"
                   "X-Dup: 1\r\nX-Dup: 2\r\n\r\n")
                  .ok());
  const HeaderMap& h = *stream(0).headers;
  EXPECT_EQ("h", h.host());
  EXPECT_EQ("spaced value", h.getValue("x-mixed-case"));
  ASSERT_NE(nullptr, h.get("empty"));
  EXPECT_EQ("", h.getValue("empty"));
  EXPECT_EQ(2u, h.getAll("x-dup").size());
  EXPECT_EQ("2", h.getAll("x-dup")[1]);
}

TEST_P(ServerCodecTest, BareLfLineEndingsAreAccepted) {
  // Decision (docs in framing_validator.h): bare LF ends a head line, as in libhttp-parser and
  // Envoy's http-parser codec; a bare CR never does.
  initialize();
  ASSERT_TRUE(send("GET /lf HTTP/1.1\nHost: h\nX-A: b\n\n").ok());
  ASSERT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ("/lf", stream(0).headers->path());
  EXPECT_EQ("b", stream(0).headers->getValue("x-a"));
  EXPECT_TRUE(stream(0).ended);
}

TEST_P(ServerCodecTest, LeadingEmptyLinesAreSkipped) {
  initialize();
  ASSERT_TRUE(send("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  ASSERT_EQ(1u, callbacks_.streams.size());
  EXPECT_TRUE(stream(0).ended);
}

TEST_P(ServerCodecTest, KeepAliveSequence) {
  initialize();
  for (int i = 0; i < 3; ++i) {
    const std::string path = "/r" + std::to_string(i);
    ASSERT_TRUE(send("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n").ok());
    ASSERT_EQ(static_cast<size_t>(i + 1), callbacks_.streams.size());
    EXPECT_EQ(path, stream(i).headers->path());
    stream(i).respond(204, {}, "");
    EXPECT_EQ("HTTP/1.1 204 No Content\r\n\r\n", transport_.take());
    EXPECT_FALSE(codec_->shouldClose());
    EXPECT_EQ(0, transport_.read_disabled);
  }
  EXPECT_FALSE(transport_.end_stream);
}

TEST_P(ServerCodecTest, PipelinedRequestsAreDeliveredOneAtATime) {
  initialize();
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_TRUE(send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n" + second).ok());
  ASSERT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ("/a", stream(0).headers->path());
  // The next request is not parsed ahead: its bytes wait in the caller's buffer.
  EXPECT_EQ(second, input_.toString());
  EXPECT_EQ(1, transport_.read_disabled);
  // Nothing moves until the response is complete.
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ(1u, callbacks_.streams.size());

  stream(0).respond(200, {{"content-length", "1"}}, "a");
  EXPECT_EQ(0, transport_.read_disabled);
  ASSERT_TRUE(resume().ok());
  ASSERT_EQ(2u, callbacks_.streams.size());
  EXPECT_EQ("/b", stream(1).headers->path());
  EXPECT_EQ(0u, input_.length());
  stream(1).respond(200, {{"content-length", "1"}}, "b");
  EXPECT_EQ(
      "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\naHTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nb",
      transport_.take());
}

TEST_P(ServerCodecTest, ManyPipelinedRequestsCostOneStream) {
  initialize();
  const std::string one = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string many;
  for (int i = 0; i < 200; ++i) {
    many += one;
  }
  ASSERT_TRUE(send(many).ok());
  EXPECT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ(many.size() - one.size(), input_.length());
}

TEST_P(ServerCodecTest, SynchronousResponsesLetPipelinedRequestsThrough) {
  initialize();
  callbacks_.on_new_stream = [](TestRequestDecoder& s) {
    s.on_end = [](TestRequestDecoder& d) { d.respond(200, {{"content-length", "0"}}, ""); };
  };
  ASSERT_TRUE(send("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  ASSERT_EQ(2u, callbacks_.streams.size());
  EXPECT_TRUE(stream(1).ended);
  EXPECT_EQ(
      "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
      transport_.take());
  EXPECT_EQ(0, transport_.read_disabled);
}

TEST_P(ServerCodecTest, ContentLengthBody) {
  initialize();
  ASSERT_TRUE(send("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world").ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_FALSE(s.headers_end_stream);
  EXPECT_EQ("11", s.headers->getValue("content-length"));
  EXPECT_EQ("hello world", s.body);
  EXPECT_TRUE(s.ended);
  if (GetParam() == Split::Whole) {
    // end_stream rides with the last bytes.
    EXPECT_EQ(1, s.data_calls);
  }
}

TEST_P(ServerCodecTest, ZeroContentLengthIsHeadersOnly) {
  initialize();
  ASSERT_TRUE(send("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_TRUE(stream(0).headers_end_stream);
  EXPECT_EQ(0, stream(0).data_calls);
}

TEST_P(ServerCodecTest, ChunkedRequestWithTrailers) {
  settings_.enable_trailers = true;
  initialize();
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n6;name=value\r\n world\r\nA \r\n0123456789\r\n"
                   "0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n")
                  .ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_FALSE(s.headers_end_stream);
  EXPECT_EQ("hello world0123456789", s.body);
  ASSERT_NE(nullptr, s.trailers);
  EXPECT_EQ("x-checksum: abc\nx-other: d\n", s.trailers->toString());
  EXPECT_TRUE(s.ended);
}

TEST_P(ServerCodecTest, ChunkedRequestTrailersDroppedWhenDisabled) {
  initialize();
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n0\r\nX-Checksum: abc\r\n\r\n")
                  .ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_EQ("abc", s.body);
  EXPECT_EQ(nullptr, s.trailers);
  EXPECT_TRUE(s.ended);
}

TEST_P(ServerCodecTest, ChunkedResponseWithTrailers) {
  settings_.enable_trailers = true;
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  TestRequestDecoder& s = stream(0);
  s.respond(200, {{"x-a", "b"}}, "abc", false);
  buffer::OwnedImpl more("0123456789abcdef0");
  s.encoder.encodeData(more, false);
  s.encoder.encodeTrailers(makeHeaders({{"x-t", "v"}, {"grpc-status", "0"}}));
  EXPECT_EQ(
      "HTTP/1.1 200 OK\r\nx-a: b\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n"
      "11\r\n0123456789abcdef0\r\n0\r\nx-t: v\r\ngrpc-status: 0\r\n\r\n",
      transport_.take());
  EXPECT_FALSE(codec_->wantsToWrite());
}

TEST_P(ServerCodecTest, ChunkedResponseTrailersDroppedWhenDisabled) {
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(0).respond(200, {}, "abc", false);
  stream(0).encoder.encodeTrailers(makeHeaders({{"x-t", "v"}}));
  EXPECT_EQ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            transport_.take());
}

TEST_P(ServerCodecTest, EmptyEndStreamDataEndsChunkedBody) {
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(0).respond(200, {}, "x", false);
  buffer::OwnedImpl empty;
  stream(0).encoder.encodeData(empty, true);
  EXPECT_EQ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
            transport_.take());
}

TEST_P(ServerCodecTest, ExpectContinue) {
  initialize();
  ASSERT_TRUE(
      send("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_EQ("100-continue", s.headers->getValue("expect"));
  s.encoder.encode1xxHeaders(makeHeaders({{":status", "100"}}));
  EXPECT_EQ("HTTP/1.1 100 Continue\r\n\r\n", transport_.take());
  ASSERT_TRUE(send("abc").ok());
  EXPECT_EQ("abc", s.body);
  EXPECT_TRUE(s.ended);
  s.respond(200, {{"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", transport_.take());
  EXPECT_FALSE(codec_->shouldClose());
}

TEST_P(ServerCodecTest, ConnectTunnelCarriesRawBytes) {
  initialize();
  ASSERT_TRUE(send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
                   "\x16\x03\x01 raw tls bytes\r\n\r\n0\r\n")
                  .ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_EQ(":method: CONNECT\n:authority: example.com:443\n", s.headers->toString());
  EXPECT_FALSE(s.headers_end_stream);
  EXPECT_EQ("\x16\x03\x01 raw tls bytes\r\n\r\n0\r\n", s.body);
  EXPECT_FALSE(s.ended);

  s.respond(200, {{"content-length", "0"}}, "", false);
  EXPECT_EQ("HTTP/1.1 200 OK\r\n\r\n", transport_.take());
  buffer::OwnedImpl upstream("server bytes\r\n0\r\n\r\n");
  s.encoder.encodeData(upstream, false);
  EXPECT_EQ("server bytes\r\n0\r\n\r\n", transport_.take());
  ASSERT_TRUE(send("more").ok());
  EXPECT_EQ("\x16\x03\x01 raw tls bytes\r\n\r\n0\r\nmore", s.body);
  // The peer's end of stream ends the tunnel's request side.
  buffer::OwnedImpl eof;
  ASSERT_TRUE(codec_->dispatch(eof).ok());
  EXPECT_TRUE(s.ended);
  buffer::OwnedImpl last("bye");
  s.encoder.encodeData(last, true);
  EXPECT_EQ("bye", transport_.take());
  EXPECT_TRUE(transport_.end_stream);
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ServerCodecTest, RefusedConnectClosesTheConnection) {
  initialize();
  ASSERT_TRUE(send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nearly").ok());
  stream(0).respond(403, {{"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            transport_.take());
  EXPECT_TRUE(transport_.end_stream);
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ServerCodecTest, WebSocketUpgrade) {
  initialize();
  ASSERT_TRUE(send("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\x05hello")
                  .ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_EQ("websocket", s.headers->getValue("upgrade"));
  EXPECT_EQ("Upgrade", s.headers->getValue("connection"));
  EXPECT_FALSE(s.headers_end_stream);
  EXPECT_EQ("\x81\x05hello", s.body);

  s.respond(101, {{"upgrade", "websocket"}, {"connection", "Upgrade"}}, "", false);
  EXPECT_EQ("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n",
            transport_.take());
  buffer::OwnedImpl frame("\x81\x02hi");
  s.encoder.encodeData(frame, false);
  EXPECT_EQ("\x81\x02hi", transport_.take());
  ASSERT_TRUE(send("GET / HTTP/1.1\r\n\r\n").ok());
  // Not a request any more: raw bytes of the upgraded stream.
  EXPECT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ("\x81\x05helloGET / HTTP/1.1\r\n\r\n", s.body);
}

TEST_P(ServerCodecTest, H2cUpgradeIsIgnored) {
  initialize();
  ASSERT_TRUE(
      send("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
           "Connection: Upgrade, HTTP2-Settings, keep-alive\r\n\r\n")
          .ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_TRUE(s.headers_end_stream);
  EXPECT_FALSE(s.headers->has("upgrade"));
  EXPECT_FALSE(s.headers->has("http2-settings"));
  EXPECT_EQ("keep-alive", s.headers->getValue("connection"));
}

TEST_P(ServerCodecTest, AbsoluteUrlWinsOverHost) {
  initialize();
  ASSERT_TRUE(send("GET http://Example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n").ok());
  const HeaderMap& h = *stream(0).headers;
  EXPECT_EQ(":method: GET\n:scheme: http\n:authority: Example.com:8080\n:path: /a/b?c=d\n",
            h.toString());
}

TEST_P(ServerCodecTest, AbsoluteUrlWithoutPathAndIpv6) {
  initialize();
  ASSERT_TRUE(send("OPTIONS https://[::1]:8443 HTTP/1.1\r\n\r\n").ok());
  const HeaderMap& h = *stream(0).headers;
  EXPECT_EQ("https", h.scheme());
  EXPECT_EQ("[::1]:8443", h.host());
  EXPECT_EQ("/", h.path());
}

TEST_P(ServerCodecTest, AsteriskForm) {
  initialize();
  ASSERT_TRUE(send("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  EXPECT_EQ("*", stream(0).headers->path());
}

TEST_P(ServerCodecTest, AbsoluteUrlRefusedWhenNotAllowed) {
  settings_.allow_absolute_url = false;
  initialize();
  const absl::Status status = send("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.invalid_url", status.message());
  EXPECT_EQ(400u, codec_->lastErrorHttpStatus());
}

TEST_P(ServerCodecTest, Http10RefusedByDefault) {
  initialize();
  const absl::Status status = send("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("low_version", status.message());
  EXPECT_EQ(426u, codec_->lastErrorHttpStatus());
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ServerCodecTest, Http10CloseDelimitedResponse) {
  settings_.accept_http_10 = true;
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n").ok());
  EXPECT_EQ(Protocol::Http10, codec_->protocol());
  EXPECT_FALSE(stream(0).headers->has(":authority"));
  stream(0).respond(200, {}, "streamed", false);
  EXPECT_EQ("HTTP/1.0 200 OK\r\nconnection: close\r\n\r\nstreamed", transport_.take());
  EXPECT_FALSE(transport_.end_stream);
  buffer::OwnedImpl empty;
  stream(0).encoder.encodeData(empty, true);
  EXPECT_TRUE(transport_.end_stream);
  EXPECT_TRUE(codec_->shouldClose());
  // Nothing after a closing exchange is read.
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ(0u, input_.length());
}

TEST_P(ServerCodecTest, Http10KeepAlive) {
  settings_.accept_http_10 = true;
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
  stream(0).respond(200, {{"content-length", "2"}}, "ok");
  EXPECT_EQ("HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok",
            transport_.take());
  EXPECT_FALSE(codec_->shouldClose());
  ASSERT_TRUE(send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  ASSERT_EQ(2u, callbacks_.streams.size());
  EXPECT_EQ(Protocol::Http11, codec_->protocol());
}

TEST_P(ServerCodecTest, Http10NoContinue) {
  settings_.accept_http_10 = true;
  initialize();
  ASSERT_TRUE(send("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").ok());
  stream(0).encoder.encode1xxHeaders(makeHeaders({{":status", "100"}}));
  EXPECT_EQ("", transport_.take());
}

TEST_P(ServerCodecTest, ConnectionCloseRequest) {
  initialize();
  ASSERT_TRUE(
      send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
          .ok());
  EXPECT_TRUE(codec_->shouldClose());
  stream(0).respond(200, {{"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", transport_.take());
  EXPECT_TRUE(transport_.end_stream);
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ(0u, input_.length());
}

TEST_P(ServerCodecTest, ResponseConnectionCloseAndGoAway) {
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(0).respond(200, {{"connection", "close"}, {"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", transport_.take());
  EXPECT_TRUE(codec_->shouldClose());

  TestTransport transport2;
  TestServerCallbacks callbacks2;
  ServerConnectionImpl codec2(transport2, callbacks2, settings_, limits_);
  buffer::OwnedImpl in2("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(codec2.dispatch(in2).ok());
  codec2.goAway();
  callbacks2.streams[0]->respond(200, {{"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", transport2.take());
  EXPECT_TRUE(transport2.end_stream);
}

TEST_P(ServerCodecTest, GoAwayWhileIdleServesTheNextRequestWithClose) {
  initialize();
  codec_->goAway();
  EXPECT_TRUE(codec_->shouldClose());
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  ASSERT_EQ(1u, callbacks_.streams.size());
  stream(0).respond(200, {{"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", transport_.take());
  EXPECT_TRUE(transport_.end_stream);
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ(1u, callbacks_.streams.size());
}

TEST_P(ServerCodecTest, ReadDisablePausesDelivery) {
  initialize();
  callbacks_.on_new_stream = [](TestRequestDecoder& s) {
    s.on_headers = [](TestRequestDecoder& d) { d.encoder.getStream().readDisable(true); };
  };
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello").ok());
  TestRequestDecoder& s = stream(0);
  ASSERT_NE(nullptr, s.headers);
  EXPECT_EQ("", s.body);
  EXPECT_EQ(0, s.data_calls);
  EXPECT_EQ(1, transport_.read_disabled);
  // The body waits in the caller's buffer (plus the head's last byte the parser stopped at).
  EXPECT_GE(input_.length(), 5u);
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ("", s.body);

  s.encoder.getStream().readDisable(false);
  EXPECT_EQ(0, transport_.read_disabled);
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ("hello", s.body);
  EXPECT_TRUE(s.ended);
  EXPECT_EQ(0u, input_.length());
}

TEST_P(ServerCodecTest, ReadDisableNestsAndPausesBetweenChunks) {
  initialize();
  callbacks_.on_new_stream = [](TestRequestDecoder& s) {
    s.on_data = [](TestRequestDecoder& d) {
      if (d.data_calls == 1) {
        d.encoder.getStream().readDisable(true);
        d.encoder.getStream().readDisable(true);
      }
    };
  };
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n")
                  .ok());
  TestRequestDecoder& s = stream(0);
  const std::string paused_body = s.body;
  EXPECT_FALSE(s.ended);
  EXPECT_LT(paused_body.size(), 11u);
  EXPECT_EQ(2, transport_.read_disabled);
  s.encoder.getStream().readDisable(false);
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ(paused_body, s.body);
  s.encoder.getStream().readDisable(false);
  ASSERT_TRUE(resume().ok());
  EXPECT_EQ("firstsecond", s.body);
  EXPECT_TRUE(s.ended);
}

TEST_P(ServerCodecTest, ReadDisableOutstandingAtEndIsUndone) {
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(0).encoder.getStream().readDisable(true);
  stream(0).respond(200, {{"content-length", "0"}}, "");
  EXPECT_EQ(0, transport_.read_disabled);
  ASSERT_TRUE(send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  EXPECT_EQ(2u, callbacks_.streams.size());
}

TEST_P(ServerCodecTest, ResetStreamClosesAfterWhatWasWritten) {
  initialize();
  callbacks_.on_new_stream = [](TestRequestDecoder& s) {
    s.on_headers = [](TestRequestDecoder& d) {
      d.respond(200, {}, "partial", false);
      d.encoder.getStream().resetStream(StreamResetReason::LocalReset);
    };
  };
  ASSERT_TRUE(
      send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\n\r\n")
          .ok());
  TestRequestDecoder& s = stream(0);
  EXPECT_TRUE(s.reset);
  EXPECT_EQ(StreamResetReason::LocalReset, s.reset_reason);
  EXPECT_EQ("", s.body);
  EXPECT_TRUE(codec_->shouldClose());
  EXPECT_TRUE(transport_.end_stream);
  EXPECT_EQ(1u, callbacks_.streams.size());
  EXPECT_EQ(0u, input_.length());
  EXPECT_FALSE(codec_->wantsToWrite());
}

TEST_P(ServerCodecTest, ResponseBeforeRequestCompleteCloses) {
  initialize();
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n123").ok());
  stream(0).respond(413, {{"content-length", "0"}}, "");
  EXPECT_TRUE(codec_->shouldClose());
  EXPECT_TRUE(transport_.end_stream);
  ASSERT_TRUE(send("4567890GET / HTTP/1.1\r\n\r\n").ok());
  EXPECT_EQ("123", stream(0).body);
  EXPECT_EQ(1u, callbacks_.streams.size());
}

TEST_P(ServerCodecTest, ResponseFramingRules) {
  initialize();
  // HEAD: content-length describes the resource, no body bytes go out.
  ASSERT_TRUE(send("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(0).respond(200, {{"content-length", "5"}}, "hello");
  EXPECT_EQ("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", transport_.take());
  // 204: never a content-length, even from upstream.
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(1).respond(204, {{"content-length", "0"}, {"transfer-encoding", "chunked"}}, "");
  EXPECT_EQ("HTTP/1.1 204 No Content\r\n\r\n", transport_.take());
  // Headers only: an explicit zero length.
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(2).respond(404, {{"x-a", "1"}}, "");
  EXPECT_EQ("HTTP/1.1 404 Not Found\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n", transport_.take());
  // Unknown status codes keep a reason phrase.
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(3).respond(299, {{"content-length", "0"}}, "");
  EXPECT_EQ("HTTP/1.1 299 Unknown\r\ncontent-length: 0\r\n\r\n", transport_.take());
  EXPECT_FALSE(codec_->shouldClose());
}

TEST_P(ServerCodecTest, ResponseHeadersCannotSplitTheMessage) {
  initialize();
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  stream(0).respond(200,
                    {{"x-good", "fine"},
                     {"x-evil", "a\r\nx-injected: 1"},
                     {"x-nul", std::string("a\0b", 3)},
                     {"bad name", "v"},
                     {"content-length", "0"}},
                    "");
  EXPECT_EQ("HTTP/1.1 200 OK\r\nx-good: fine\r\ncontent-length: 0\r\n\r\n", transport_.take());
}

TEST_P(ServerCodecTest, WatermarksReachTheStream) {
  initialize();
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n").ok());
  codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  EXPECT_EQ(1, stream(0).high_watermarks);
  EXPECT_EQ(1, stream(0).low_watermarks);
  // A stream that starts while the transport is backed up hears of it at once.
  codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  ASSERT_TRUE(send("x").ok());
  stream(0).respond(200, {{"content-length", "0"}}, "");
  ASSERT_TRUE(send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  EXPECT_EQ(1, stream(1).high_watermarks);
}

TEST_P(ServerCodecTest, Underscores) {
  for (const auto action :
       {HeadersWithUnderscoresAction::Allow, HeadersWithUnderscoresAction::DropHeader,
        HeadersWithUnderscoresAction::RejectRequest}) {
    limits_.headers_with_underscores_action = action;
    TestTransport transport;
    TestServerCallbacks callbacks;
    ServerConnectionImpl codec(transport, callbacks, settings_, limits_);
    buffer::OwnedImpl input;
    const absl::Status status =
        feed(codec, input, "GET / HTTP/1.1\r\nHost: h\r\nfoo_bar: 1\r\nok: 2\r\n\r\n", GetParam());
    if (action == HeadersWithUnderscoresAction::RejectRequest) {
      ASSERT_TRUE(isCodecProtocolError(status));
      EXPECT_EQ("http1.unexpected_underscore", status.message());
      EXPECT_EQ(400u, codec.lastErrorHttpStatus());
      continue;
    }
    ASSERT_TRUE(status.ok());
    const HeaderMap& h = *callbacks.streams.at(0)->headers;
    EXPECT_EQ(action == HeadersWithUnderscoresAction::Allow, h.has("foo_bar"));
    EXPECT_EQ("2", h.getValue("ok"));
  }
}

TEST_P(ServerCodecTest, ContentLengthWithChunkedAllowedDropsContentLength) {
  settings_.allow_chunked_length = true;
  initialize();
  ASSERT_TRUE(send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                  .ok());
  EXPECT_FALSE(stream(0).headers->has("content-length"));
  EXPECT_EQ("abc", stream(0).body);
  EXPECT_TRUE(stream(0).ended);
}

}  // namespace
}  // namespace waystone::http::http1
