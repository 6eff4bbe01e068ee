#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/codec.h"
#include "source/common/http/http2/client_connection_impl.h"
#include "source/common/http/http2/server_connection_impl.h"
#include "test/common/http/http2/codec_test_util.h"
#include "test/common/http/http2/http2_frame.h"

namespace waystone::http::http2::test {
namespace {

std::string pattern(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  }
  return out;
}

void respond(TestRequestDecoder& request, absl::string_view body, bool end = true) {
  request.encoder().encodeHeaders(responseHeaders("200"), body.empty() && end);
  if (!body.empty() || !end) {
    buffer::OwnedImpl data(body);
    request.encoder().encodeData(data, end);
  }
}

TEST(Http2CodecTest, GetAndPostWithBodiesBothWays) {
  CodecPair pair;
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) {
      respond(r, absl::StrCat("you sent ", r.body.size(), " bytes to ", r.headers->path()));
    };
  };
  TestResponseDecoder& get = pair.startRequest(requestHeaders("GET", "/a"), true);
  RequestEncoder* post_encoder = nullptr;
  TestResponseDecoder& post = pair.startRequest(requestHeaders("POST", "/b"), false, &post_encoder);
  buffer::OwnedImpl body("hello world");
  post_encoder->encodeData(body, true);
  pair.pump();

  ASSERT_TRUE(pair.server_status.ok()) << pair.server_status;
  ASSERT_TRUE(pair.client_status.ok()) << pair.client_status;
  ASSERT_EQ(pair.server_callbacks.streams.size(), 2u);
  EXPECT_EQ(pair.server_callbacks.streams[0]->headers->method(), "GET");
  EXPECT_EQ(pair.server_callbacks.streams[0]->headers->host(), "example.com");
  EXPECT_EQ(pair.server_callbacks.streams[1]->body, "hello world");
  ASSERT_NE(get.headers, nullptr);
  EXPECT_EQ(get.headers->status(), 200u);
  EXPECT_EQ(get.body, "you sent 0 bytes to /a");
  EXPECT_TRUE(get.end_stream);
  EXPECT_EQ(post.body, "you sent 11 bytes to /b");
  EXPECT_TRUE(post.end_stream);
  EXPECT_FALSE(get.reset);
  EXPECT_FALSE(post.reset);
  EXPECT_EQ(pair.client->activeStreamCount(), 0u);
  EXPECT_EQ(pair.server->activeStreamCount(), 0u);
  EXPECT_FALSE(pair.client->wantsToWrite());
  EXPECT_EQ(pair.client->protocol(), Protocol::Http2);
}

TEST(Http2CodecTest, OneTransportWritePerDispatch) {
  CodecPair pair;
  pair.pump();
  std::string pings;
  for (int i = 0; i < 20; ++i) {
    pings += ping(i);
  }
  const uint64_t writes_before = pair.server_transport.writeCalls();
  buffer::OwnedImpl input(pings);
  ASSERT_TRUE(pair.server->dispatch(input).ok());
  EXPECT_EQ(pair.server_transport.writeCalls(), writes_before + 1);
  int acks = 0;
  for (const Frame& f : parseFrames(pair.server_transport.takeOutput())) {
    acks += f.type == kPing && (f.flags & kAck) != 0;
  }
  EXPECT_EQ(acks, 20);
}

TEST(Http2CodecTest, ManyConcurrentStreams) {
  Http2Settings server_settings;
  server_settings.max_concurrent_streams = 100;
  CodecPair pair({}, server_settings);
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) { respond(r, r.headers->path()); };
  };
  constexpr int kStreams = 300;  // more than the server's limit: the client queues the rest
  for (int i = 0; i < kStreams; ++i) {
    pair.startRequest(requestHeaders("GET", absl::StrCat("/", i)), true);
  }
  pair.pump();
  ASSERT_TRUE(pair.server_status.ok()) << pair.server_status;
  ASSERT_TRUE(pair.client_status.ok()) << pair.client_status;
  ASSERT_EQ(pair.responses.size(), static_cast<size_t>(kStreams));
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(pair.responses[i]->body, absl::StrCat("/", i));
    EXPECT_TRUE(pair.responses[i]->end_stream);
  }
  EXPECT_EQ(pair.server->protocolConstraints().closedStreams(), static_cast<uint64_t>(kStreams));
  EXPECT_EQ(pair.server->protocolConstraints().prematureResets(), 0u);
}

TEST(Http2CodecTest, TrailersBothWays) {
  CodecPair pair;
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) {
      r.encoder().encodeHeaders(responseHeaders("200"), false);
      buffer::OwnedImpl data("response body");
      r.encoder().encodeData(data, false);
      HeaderMap trailers;
      trailers.addCopy("grpc-status", "0");
      r.encoder().encodeTrailers(trailers);
    };
  };
  RequestEncoder* encoder = nullptr;
  TestResponseDecoder& response = pair.startRequest(requestHeaders("POST", "/t"), false, &encoder);
  buffer::OwnedImpl body("request body");
  encoder->encodeData(body, false);
  HeaderMap request_trailers;
  request_trailers.addCopy("x-checksum", "abc");
  encoder->encodeTrailers(request_trailers);
  pair.pump();

  ASSERT_TRUE(pair.server_status.ok()) << pair.server_status;
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  TestRequestDecoder& request = *pair.server_callbacks.streams[0];
  EXPECT_EQ(request.body, "request body");
  ASSERT_NE(request.trailers, nullptr);
  EXPECT_EQ(request.trailers->getValue("x-checksum"), "abc");
  EXPECT_EQ(response.body, "response body");
  ASSERT_NE(response.trailers, nullptr);
  EXPECT_EQ(response.trailers->getValue("grpc-status"), "0");
  EXPECT_TRUE(response.end_stream);
  EXPECT_FALSE(response.reset);
}

TEST(Http2CodecTest, TrailersWithoutBodyAndInformationalHeaders) {
  CodecPair pair;
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_headers = [](TestRequestDecoder& r) {
      r.encoder().encode1xxHeaders(responseHeaders("100"));
      r.encoder().encodeHeaders(responseHeaders("200"), false);
      HeaderMap trailers;
      trailers.addCopy("grpc-status", "7");
      r.encoder().encodeTrailers(trailers);
    };
  };
  TestResponseDecoder& response = pair.startRequest(requestHeaders("GET", "/"), true);
  pair.pump();
  ASSERT_TRUE(pair.client_status.ok()) << pair.client_status;
  ASSERT_EQ(response.informational.size(), 1u);
  EXPECT_EQ(response.informational[0]->status(), 100u);
  ASSERT_NE(response.headers, nullptr);
  EXPECT_EQ(response.headers->status(), 200u);
  EXPECT_TRUE(response.body.empty());
  ASSERT_NE(response.trailers, nullptr);
  EXPECT_EQ(response.trailers->getValue("grpc-status"), "7");
}

TEST(Http2CodecTest, ConnectAcceptedWithAllowConnect) {
  Http2Settings server_settings;
  server_settings.allow_connect = true;
  CodecPair pair({}, server_settings);
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_headers = [](TestRequestDecoder& r) {
      r.encoder().encodeHeaders(responseHeaders("200"), false);
    };
    request.on_data = [](TestRequestDecoder& r) {
      buffer::OwnedImpl echo(absl::StrCat("echo:", r.body));
      r.encoder().encodeData(echo, r.end_stream);
    };
  };
  HeaderMap connect;
  connect.addCopy(":method", "CONNECT");
  connect.addCopy(":authority", "10.0.0.1:8080");
  RequestEncoder* encoder = nullptr;
  TestResponseDecoder& tunnel = pair.startRequest(connect, false, &encoder);
  pair.pump();
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  EXPECT_EQ(pair.server_callbacks.streams[0]->headers->method(), "CONNECT");
  EXPECT_EQ(pair.server_callbacks.streams[0]->headers->host(), "10.0.0.1:8080");
  EXPECT_FALSE(pair.server_callbacks.streams[0]->headers->has(":path"));
  ASSERT_NE(tunnel.headers, nullptr);
  EXPECT_EQ(tunnel.headers->status(), 200u);
  buffer::OwnedImpl bytes("ping");
  encoder->encodeData(bytes, true);
  pair.pump();
  EXPECT_EQ(tunnel.body, "echo:ping");
  EXPECT_TRUE(tunnel.end_stream);
  EXPECT_FALSE(tunnel.reset);
}

TEST(Http2CodecTest, ConnectRefusedWithoutAllowConnect) {
  CodecPair pair;
  HeaderMap connect;
  connect.addCopy(":method", "CONNECT");
  connect.addCopy(":authority", "10.0.0.1:8080");
  TestResponseDecoder& tunnel = pair.startRequest(connect, false);
  pair.pump();
  EXPECT_TRUE(pair.server_status.ok());
  EXPECT_TRUE(pair.server_callbacks.streams.empty());
  EXPECT_TRUE(tunnel.reset);
  EXPECT_EQ(tunnel.reset_reason, StreamResetReason::RemoteReset);
  EXPECT_EQ(pair.server->activeStreamCount(), 0u);
}

TEST(Http2CodecTest, ClientRejectsMalformedRequests) {
  CodecPair pair;
  HeaderMap connect_with_path;
  connect_with_path.addCopy(":method", "CONNECT");
  connect_with_path.addCopy(":authority", "a:1");
  connect_with_path.addCopy(":path", "/");
  EXPECT_TRUE(pair.startRequest(connect_with_path, true).reset);
  HeaderMap no_path;
  no_path.addCopy(":method", "GET");
  no_path.addCopy(":scheme", "http");
  EXPECT_TRUE(pair.startRequest(no_path, true).reset);
  HeaderMap no_method;
  no_method.addCopy(":path", "/");
  EXPECT_TRUE(pair.startRequest(no_method, true).reset);
  // Host becomes :authority; connection-specific headers are not sent.
  HeaderMap h1_style;
  h1_style.addCopy(":method", "GET");
  h1_style.addCopy(":scheme", "http");
  h1_style.addCopy(":path", "/x");
  h1_style.addCopy("host", "backend");
  h1_style.addCopy("connection", "keep-alive");
  h1_style.addCopy("te", "trailers");
  TestResponseDecoder& ok = pair.startRequest(h1_style, true);
  pair.pump();
  EXPECT_FALSE(ok.reset);
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  const HeaderMap& received = *pair.server_callbacks.streams[0]->headers;
  EXPECT_EQ(received.host(), "backend");
  EXPECT_FALSE(received.has("host"));
  EXPECT_FALSE(received.has("connection"));
  EXPECT_EQ(received.getValue("te"), "trailers");
}

// A 32 MiB upload into a server whose stream window is 64 KiB and whose reader keeps pausing:
// the server never holds more than the window, and the client's producer is paused by its
// stream's watermark instead of buffering the whole body.
TEST(Http2CodecTest, LargeBodyWithSlowReaderIsBoundedByTheWindow) {
  constexpr size_t kBodySize = 32 * 1024 * 1024;
  constexpr uint32_t kWindow = 65535;
  constexpr size_t kChunk = 256 * 1024;
  Http2Settings server_settings;
  server_settings.initial_stream_window_size = kWindow;
  CodecPair pair({}, server_settings, {}, {}, /*client_buffer_limit=*/1024 * 1024);

  bool server_paused = false;
  size_t next_pause = 0;
  pair.server_callbacks.on_new_stream = [&](TestRequestDecoder& request) {
    request.on_data = [&](TestRequestDecoder& r) {
      if (r.body.size() >= next_pause && !r.end_stream) {
        r.stream().readDisable(true);  // the slow consumer stops reading
        server_paused = true;
        next_pause += 3 * 1024 * 1024;
      }
      if (r.end_stream) {
        respond(r, "done");
      }
    };
  };
  const std::string body = pattern(kBodySize);
  RequestEncoder* encoder = nullptr;
  TestResponseDecoder& response = pair.startRequest(requestHeaders("PUT", "/big"), false, &encoder);
  size_t sent = 0;
  uint64_t max_server_buffered = 0;
  auto produce = [&]() {
    max_server_buffered = std::max(max_server_buffered, pair.server->bufferedReceiveBytes());
    while (!response.paused && sent < kBodySize && !response.reset) {
      const size_t n = std::min(kChunk, kBodySize - sent);
      buffer::OwnedImpl chunk(absl::string_view(body).substr(sent, n));
      sent += n;
      encoder->encodeData(chunk, sent == kBodySize);
    }
  };
  int stalls = 0;
  while (!response.end_stream && stalls < 1000) {
    pair.pump(UINT64_MAX, 1000000, produce);
    ASSERT_TRUE(pair.server_status.ok()) << pair.server_status;
    ASSERT_TRUE(pair.client_status.ok()) << pair.client_status;
    max_server_buffered = std::max(max_server_buffered, pair.server->bufferedReceiveBytes());
    if (server_paused) {
      // Quiescent with the reader paused: the peer is blocked by the stream window.
      EXPECT_LE(pair.server->bufferedReceiveBytes(), kWindow);
      EXPECT_GT(pair.server->bufferedReceiveBytes(), 0u);
      server_paused = false;
      pair.server_callbacks.streams[0]->stream().readDisable(false);
    }
    ++stalls;
  }
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  EXPECT_GT(stalls, 5);
  EXPECT_LE(max_server_buffered, kWindow);
  EXPECT_GE(response.above_watermark, 1);
  EXPECT_EQ(response.above_watermark, response.below_watermark);
  EXPECT_EQ(pair.server_callbacks.streams[0]->body.size(), kBodySize);
  EXPECT_TRUE(pair.server_callbacks.streams[0]->body == body);
  EXPECT_EQ(response.body, "done");
  EXPECT_EQ(sent, kBodySize);
}

TEST(Http2CodecTest, SlowReaderStallsOnlyItsOwnStream) {
  Http2Settings server_settings;
  server_settings.initial_stream_window_size = 65535;
  server_settings.initial_connection_window_size =
      65535;  // tight: shows the connection window is not held
  CodecPair pair({}, server_settings);
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_headers = [](TestRequestDecoder& r) {
      if (r.headers->path() == "/slow") {
        r.stream().readDisable(true);
      }
    };
    request.on_end = [](TestRequestDecoder& r) { respond(r, "ok"); };
  };
  RequestEncoder* slow = nullptr;
  TestResponseDecoder& slow_response =
      pair.startRequest(requestHeaders("PUT", "/slow"), false, &slow);
  pair.pump();
  buffer::OwnedImpl big(pattern(200000));
  slow->encodeData(big, true);
  pair.pump();
  EXPECT_FALSE(slow_response.end_stream);
  EXPECT_LE(pair.server->bufferedReceiveBytes(), 65535u);

  RequestEncoder* fast = nullptr;
  TestResponseDecoder& fast_response =
      pair.startRequest(requestHeaders("PUT", "/fast"), false, &fast);
  buffer::OwnedImpl body(pattern(150000));
  fast->encodeData(body, true);
  pair.pump();
  EXPECT_EQ(fast_response.body, "ok");
  EXPECT_TRUE(fast_response.end_stream);
  EXPECT_FALSE(slow_response.end_stream);

  pair.server_callbacks.streams[0]->stream().readDisable(false);
  pair.pump();
  EXPECT_EQ(pair.server_callbacks.streams[0]->body.size(), 200000u);
  EXPECT_EQ(slow_response.body, "ok");
}

TEST(Http2CodecTest, UnderlyingConnectionWatermarksPauseAllStreams) {
  CodecPair pair({}, {}, {}, {}, 1024 * 1024, /*server_buffer_limit=*/64 * 1024);
  pair.server_transport.simulateWatermarks(pair.server.get());
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) {
      r.encoder().encodeHeaders(responseHeaders("200"), false);
    };
  };
  pair.startRequest(requestHeaders("GET", "/1"), true);
  pair.startRequest(requestHeaders("GET", "/2"), true);
  pair.pump();
  ASSERT_EQ(pair.server_callbacks.streams.size(), 2u);
  TestRequestDecoder& first = *pair.server_callbacks.streams[0];
  TestRequestDecoder& second = *pair.server_callbacks.streams[1];
  // The first stream writes more than the transport holds; the client does not read.
  buffer::OwnedImpl big(pattern(60 * 1024));
  first.encoder().encodeData(big, false);
  EXPECT_EQ(first.above_watermark, 0);
  buffer::OwnedImpl more(pattern(30 * 1024));
  first.encoder().encodeData(more, false);
  EXPECT_EQ(first.above_watermark, 1);
  EXPECT_EQ(second.above_watermark, 1);
  // Data written while the transport is full stays in the stream.
  const uint64_t outbox = pair.server_transport.outbox().length();
  buffer::OwnedImpl extra(pattern(10 * 1024));
  second.encoder().encodeData(extra, false);
  EXPECT_EQ(pair.server_transport.outbox().length(), outbox);
  // The peer reads: everything resumes.
  pair.pump();
  EXPECT_EQ(first.below_watermark, 1);
  EXPECT_EQ(second.below_watermark, 1);
  EXPECT_EQ(pair.responses[1]->body.size(), 10u * 1024);
  EXPECT_EQ(pair.responses[0]->body.size(), 90u * 1024);
}

TEST(Http2CodecTest, ResetFromClient) {
  CodecPair pair;
  RequestEncoder* encoder = nullptr;
  TestResponseDecoder& response = pair.startRequest(requestHeaders("POST", "/"), false, &encoder);
  pair.pump();
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  encoder->getStream().resetStream(StreamResetReason::LocalReset);
  EXPECT_TRUE(response.reset);
  EXPECT_EQ(response.reset_reason, StreamResetReason::LocalReset);
  pair.pump();
  EXPECT_TRUE(pair.server_callbacks.streams[0]->reset);
  EXPECT_EQ(pair.server_callbacks.streams[0]->reset_reason, StreamResetReason::RemoteReset);
  EXPECT_EQ(pair.server->activeStreamCount(), 0u);
  EXPECT_EQ(pair.client->activeStreamCount(), 0u);
}

TEST(Http2CodecTest, ResetFromServerRefused) {
  CodecPair pair;
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_headers = [](TestRequestDecoder& r) {
      r.stream().resetStream(StreamResetReason::LocalRefusedStreamReset);
    };
  };
  TestResponseDecoder& response = pair.startRequest(requestHeaders("GET", "/"), true);
  pair.pump();
  EXPECT_TRUE(response.reset);
  EXPECT_EQ(response.reset_reason, StreamResetReason::RemoteRefusedStreamReset);
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  EXPECT_EQ(pair.server_callbacks.streams[0]->reset_reason,
            StreamResetReason::LocalRefusedStreamReset);
}

TEST(Http2CodecTest, ResetBeforeHeadersNeverReachesThePeer) {
  CodecPair pair;
  pair.pump();
  TestResponseDecoder response;
  RequestEncoder& encoder = pair.client->newStream(response);
  encoder.getStream().addCallbacks(response);
  const uint64_t before = pair.client_transport.outbox().length();
  encoder.getStream().resetStream(StreamResetReason::LocalReset);
  EXPECT_TRUE(response.reset);
  EXPECT_EQ(pair.client_transport.outbox().length(), before);
  EXPECT_EQ(pair.client->activeStreamCount(), 0u);
  // Freed later, not inside the call that finished it.
  EXPECT_EQ(pair.client_deleter.pending(), 1u);
}

TEST(Http2CodecTest, GoAwayRefusesStreamsAboveLastStreamId) {
  CodecPair pair;
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) {
      if (r.headers->path() == "/first") {
        // Answered later, after the GOAWAY.
        return;
      }
      respond(r, "x");
    };
  };
  TestResponseDecoder& first = pair.startRequest(requestHeaders("GET", "/first"), true);
  pair.pump();
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  pair.server->goAway();
  // The client starts another stream before it sees the GOAWAY.
  TestResponseDecoder& second = pair.startRequest(requestHeaders("GET", "/second"), true);
  pair.pump();
  EXPECT_EQ(pair.client_callbacks.goaways, 1);
  EXPECT_TRUE(second.reset);
  EXPECT_EQ(second.reset_reason, StreamResetReason::RemoteRefusedStreamReset);
  EXPECT_EQ(pair.server_callbacks.streams.size(), 1u);
  // The stream below the last id still completes.
  respond(*pair.server_callbacks.streams[0], "first done");
  pair.pump();
  EXPECT_EQ(first.body, "first done");
  EXPECT_FALSE(first.reset);
  // And nothing new starts.
  TestResponseDecoder& third = pair.startRequest(requestHeaders("GET", "/third"), true);
  pair.pump();
  EXPECT_TRUE(third.reset);
  EXPECT_EQ(third.reset_reason, StreamResetReason::RemoteRefusedStreamReset);
}

TEST(Http2CodecTest, ShutdownNoticeThenGoAway) {
  CodecPair pair;
  TestResponseDecoder& inflight = pair.startRequest(requestHeaders("GET", "/"), true);
  pair.pump();
  pair.server->shutdownNotice();
  const std::string notice = pair.server_transport.outbox().toString();
  std::vector<Frame> frames = parseFrames(notice);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, kGoAway);
  EXPECT_EQ(frames[0].payload.substr(0, 4), std::string("\x7f\xff\xff\xff", 4));
  pair.pump();
  EXPECT_EQ(pair.client_callbacks.goaways, 1);
  // The final GOAWAY names the last stream; the in-flight one is still served.
  pair.server->goAway();
  pair.pump();
  EXPECT_EQ(pair.client_callbacks.goaways, 2);
  respond(*pair.server_callbacks.streams[0], "still served");
  pair.pump();
  EXPECT_EQ(inflight.body, "still served");
  EXPECT_TRUE(inflight.end_stream);
  EXPECT_FALSE(inflight.reset);
  EXPECT_TRUE(pair.client_status.ok()) << pair.client_status;
  EXPECT_TRUE(pair.server_status.ok()) << pair.server_status;
}

TEST(Http2CodecTest, ClientGoAwayReachesTheServer) {
  CodecPair pair;
  TestResponseDecoder& inflight = pair.startRequest(requestHeaders("GET", "/"), true);
  pair.pump();
  pair.client->goAway();
  pair.pump();
  EXPECT_EQ(pair.server_callbacks.goaways, 1);
  ASSERT_EQ(pair.server_callbacks.streams.size(), 1u);
  respond(*pair.server_callbacks.streams[0], "bye");
  pair.pump();
  EXPECT_EQ(inflight.body, "bye");
}

// Raw frames from here on: a peer that does what a codec never would.
class RawClientTest : public testing::Test {
 protected:
  RawClientTest() { createServer({}, {}); }

  void createServer(const Http2Settings& settings, const HeaderLimits& limits,
                    uint32_t buffer_limit = 1024 * 1024) {
    server_.reset();
    transport_ = std::make_unique<TestTransport>(buffer_limit);
    server_ = std::make_unique<ServerConnectionImpl>(*transport_, callbacks_, settings, limits);
    transport_->takeOutput();  // the server's SETTINGS
  }

  absl::Status send(absl::string_view bytes) {
    buffer::OwnedImpl input(bytes);
    return server_->dispatch(input);
  }

  std::vector<Frame> output() { return parseFrames(transport_->takeOutput()); }

  static bool hasFrame(const std::vector<Frame>& frames, uint8_t type, uint32_t stream_id,
                       uint32_t error_code) {
    for (const Frame& f : frames) {
      if (f.type == type && f.stream_id == stream_id && f.errorCode() == error_code) {
        return true;
      }
    }
    return false;
  }

  static bool hasReset(const std::vector<Frame>& frames, uint32_t stream_id) {
    for (const Frame& f : frames) {
      if (f.type == kRstStream && f.stream_id == stream_id) {
        return true;
      }
    }
    return false;
  }

  std::string preface() { return absl::StrCat(kClientPreface, settings()); }

  TestServerCallbacks callbacks_;
  std::unique_ptr<TestTransport> transport_;
  std::unique_ptr<ServerConnectionImpl> server_;
};

TEST_F(RawClientTest, GarbagePrefaceIsAProtocolError) {
  const absl::Status status = send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_TRUE(isCodecProtocolError(status)) << status;
  EXPECT_EQ(status.message(), "http2.invalid_preface");
  // Every later dispatch returns the same error.
  EXPECT_TRUE(isCodecProtocolError(send(preface())));
}

TEST_F(RawClientTest, FrameErrorIsAProtocolErrorWithGoAway) {
  // WINDOW_UPDATE with a zero increment on stream 0 is a connection error.
  const absl::Status status = send(absl::StrCat(preface(), windowUpdate(0, 0)));
  EXPECT_TRUE(isCodecProtocolError(status)) << status;
  EXPECT_TRUE(hasFrame(output(), kGoAway, 0, kProtocolError));
}

TEST_F(RawClientTest, MaxConcurrentStreamsRefusesExtraStreams) {
  Http2Settings settings;
  settings.max_concurrent_streams = 2;
  createServer(settings, {});
  // Before the peer acknowledges our SETTINGS: REFUSED_STREAM for the third stream.
  ASSERT_TRUE(send(absl::StrCat(preface(), headers(1, getRequest(), kEndHeaders),
                                headers(3, getRequest(), kEndHeaders),
                                headers(5, getRequest(), kEndHeaders)))
                  .ok());
  EXPECT_EQ(callbacks_.streams.size(), 2u);
  EXPECT_TRUE(hasFrame(output(), kRstStream, 5, kRefusedStream));
  EXPECT_EQ(server_->protocolConstraints().prematureResets(), 1u);
  // After the ACK, nghttp2 treats exceeding the limit as a connection error.
  const absl::Status status =
      send(absl::StrCat(settingsAck(), headers(7, getRequest(), kEndHeaders)));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(callbacks_.streams.size(), 2u);
}

TEST_F(RawClientTest, TooManyHeadersResetsTheStream) {
  HeaderLimits limits;
  limits.max_headers_count = 10;
  createServer({}, limits);
  Headers request = getRequest();
  for (int i = 0; i < 10; ++i) {
    request.push_back({absl::StrCat("x-header-", i), "v"});
  }
  ASSERT_TRUE(send(absl::StrCat(preface(), headers(1, request, kEndHeaders | kEndStream),
                                headers(3, getRequest(), kEndHeaders | kEndStream)))
                  .ok());
  // The oversized request never reached the connection manager; the next one did.
  ASSERT_EQ(callbacks_.streams.size(), 1u);
  EXPECT_EQ(callbacks_.streams[0]->headers->path(), "/");
  EXPECT_TRUE(hasReset(output(), 1));
}

TEST_F(RawClientTest, HeaderBytesAreLimitedWhileTheBlockArrives) {
  HeaderLimits limits;
  limits.max_request_headers_kb = 8;
  createServer({}, limits);
  // HEADERS + CONTINUATIONs of 4 KiB headers each, without END_HEADERS yet.
  std::string input = absl::StrCat(preface(), headers(1, getRequest(), kNoFlags));
  for (int i = 0; i < 4; ++i) {
    input += continuation(1, hpackBlock({{absl::StrCat("x-big-", i), std::string(4096, 'v')}}),
                          kNoFlags);
  }
  ASSERT_TRUE(send(input).ok());
  EXPECT_TRUE(hasReset(output(), 1)) << "the stream is reset before the header block ends";
  EXPECT_TRUE(callbacks_.streams.empty());
}

TEST_F(RawClientTest, UnderscoreHeadersRejectedOrDropped) {
  HeaderLimits limits;
  limits.headers_with_underscores_action = HeadersWithUnderscoresAction::RejectRequest;
  createServer({}, limits);
  Headers request = getRequest();
  request.push_back({"x_bad", "1"});
  ASSERT_TRUE(send(absl::StrCat(preface(), headers(1, request, kEndHeaders | kEndStream))).ok());
  EXPECT_TRUE(callbacks_.streams.empty());
  EXPECT_TRUE(hasReset(output(), 1));

  limits.headers_with_underscores_action = HeadersWithUnderscoresAction::DropHeader;
  createServer({}, limits);
  ASSERT_TRUE(send(absl::StrCat(preface(), headers(1, request, kEndHeaders | kEndStream))).ok());
  ASSERT_EQ(callbacks_.streams.size(), 1u);
  EXPECT_FALSE(callbacks_.streams[0]->headers->has("x_bad"));
  EXPECT_EQ(callbacks_.streams[0]->headers->path(), "/");
}

// Debian's nghttp2 counts a CONTINUATION once per read that carries part of its frame header;
// the codec hands frame headers over whole, so small reads cannot trip the cap.
TEST_F(RawClientTest, ContinuationsSplitIntoTinyReadsAreAccepted) {
  const std::string block = hpackBlock(getRequest());
  std::string input = absl::StrCat(preface(), frame(kHeaders, kEndStream, 1, block.substr(0, 10)));
  for (size_t offset = 10; offset < block.size(); offset += 10) {
    const bool last = offset + 10 >= block.size();
    input += continuation(1, block.substr(offset, 10), last ? kEndHeaders : kNoFlags);
  }
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_TRUE(send(input.substr(i, 1)).ok()) << "byte " << i;
  }
  ASSERT_EQ(callbacks_.streams.size(), 1u);
  EXPECT_EQ(callbacks_.streams[0]->headers->host(), "example.com");
  EXPECT_TRUE(callbacks_.streams[0]->end_stream);
}

TEST_F(RawClientTest, ContinuationFloodIsCut) {
  std::string input = absl::StrCat(preface(), headers(1, getRequest(), kNoFlags));
  for (int i = 0; i < 50; ++i) {
    input += continuation(1, hpackBlock({{"x", "y"}}), kNoFlags);
  }
  const absl::Status status = send(input);
  EXPECT_TRUE(isBufferFloodError(status)) << status;
  EXPECT_EQ(status.message(), "http2.too_many_continuations");
  EXPECT_TRUE(hasFrame(output(), kGoAway, 0, kEnhanceYourCalm));
  EXPECT_TRUE(callbacks_.streams.empty());
}

TEST_F(RawClientTest, EmptyFrameFlood) {
  const absl::Status status =
      send(absl::StrCat(preface(), headers(1, getRequest(), kEndHeaders), data(1, "", kNoFlags),
                        data(1, "", kNoFlags), data(1, "", kNoFlags)));
  EXPECT_TRUE(isBufferFloodError(status)) << status;
  EXPECT_EQ(status.message(), "http2.inbound_empty_frames_flood");
}

TEST_F(RawClientTest, PriorityFlood) {
  std::string input = preface();
  for (int i = 0; i < 150; ++i) {
    input += priority(1, 0, 16);
  }
  const absl::Status status = send(input);
  EXPECT_TRUE(isBufferFloodError(status)) << status;
  EXPECT_EQ(status.message(), "http2.inbound_priority_frames_flood");
}

TEST_F(RawClientTest, PingFloodInOneReadIsCapped) {
  std::string input = preface();
  for (int i = 0; i < 5000; ++i) {
    input += ping(i);
  }
  const absl::Status status = send(input);
  EXPECT_TRUE(isBufferFloodError(status)) << status;
}

// The peer sends PINGs but never reads our ACKs: once the transport is full, queued control
// frames are counted and the connection fails at max_outbound_control_frames.
TEST_F(RawClientTest, PingFloodWithoutReadsIsABufferFlood) {
  Http2Settings settings;
  settings.max_outbound_control_frames = 1000;
  createServer(settings, {}, /*buffer_limit=*/16 * 1024);
  transport_->simulateWatermarks(server_.get());
  ASSERT_TRUE(send(preface()).ok());
  absl::Status status;
  int batches = 0;
  uint64_t ping_id = 0;
  while (status.ok() && batches < 100) {
    std::string pings;
    for (int i = 0; i < 200; ++i) {
      pings += ping(++ping_id);
    }
    status = send(pings);
    ++batches;
  }
  EXPECT_TRUE(isBufferFloodError(status)) << status;
  EXPECT_EQ(status.message(), "http2.outbound_control_flood");
  // 16 KiB hold ~960 ACKs before the watermark; then 1000 more are allowed.
  EXPECT_GT(ping_id, 1900u);
  EXPECT_LT(ping_id, 2400u);
  EXPECT_GE(server_->protocolConstraints().outboundControlFrames(), 1000u);
  // The transport holds what was queued: bounded by the budget plus the last read's replies.
  EXPECT_LT(transport_->outbox().length(), 16u * 1024 + (1000 + 200) * 17 + 64);
}

TEST_F(RawClientTest, ReadingPeerIsNotAFlood) {
  createServer({}, {}, /*buffer_limit=*/16 * 1024);
  transport_->simulateWatermarks(server_.get());
  ASSERT_TRUE(send(preface()).ok());
  for (int batch = 0; batch < 50; ++batch) {
    std::string pings;
    for (int i = 0; i < 200; ++i) {
      pings += ping(i);
    }
    ASSERT_TRUE(send(pings).ok());
    transport_->takeOutput();  // the peer reads
  }
  EXPECT_EQ(server_->protocolConstraints().outboundControlFrames(), 0u);
}

TEST_F(RawClientTest, RapidResetIsAFlood) {
  std::string input = preface();
  for (uint32_t i = 0; i < 200; ++i) {
    const uint32_t id = 1 + 2 * i;
    input += headers(id, getRequest(), kEndHeaders);
    input += rstStream(id, kCancel);
  }
  const absl::Status status = send(input);
  EXPECT_TRUE(isBufferFloodError(status)) << status;
  EXPECT_EQ(status.message(), "http2.too_many_premature_resets");
  EXPECT_GE(server_->protocolConstraints().closedStreams(),
            ProtocolConstraints::kPrematureResetMinStreams);
  EXPECT_TRUE(hasFrame(output(), kGoAway, 0, kEnhanceYourCalm));
}

TEST_F(RawClientTest, MadeYouResetCountsStreamsWeResetForThePeer) {
  // Requests that break our limits make *us* reset them; they count as premature too.
  HeaderLimits limits;
  limits.max_headers_count = 4;
  createServer({}, limits);
  std::string input = preface();
  Headers request = getRequest();
  request.push_back({"x-one-too-many", "1"});
  for (uint32_t i = 0; i < 150; ++i) {
    input += headers(1 + 2 * i, request, kEndHeaders | kEndStream);
  }
  const absl::Status status = send(input);
  EXPECT_TRUE(isBufferFloodError(status)) << status;
  EXPECT_EQ(status.message(), "http2.too_many_premature_resets");
}

TEST(Http2CodecRapidResetTest, CodecClientResettingEveryStreamIsAFlood) {
  CodecPair pair;
  for (int i = 0; i < 200; ++i) {
    RequestEncoder* encoder = nullptr;
    pair.startRequest(requestHeaders("GET", "/"), false, &encoder);
    encoder->getStream().resetStream(StreamResetReason::LocalReset);
    pair.pump();
    if (!pair.server_status.ok()) {
      break;
    }
  }
  EXPECT_TRUE(isBufferFloodError(pair.server_status)) << pair.server_status;
  EXPECT_EQ(pair.server_status.message(), "http2.too_many_premature_resets");
}

TEST(Http2CodecRapidResetTest, FewResetsAreNotAFlood) {
  CodecPair pair;
  pair.server_callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) { respond(r, "ok"); };
  };
  for (int i = 0; i < 300; ++i) {
    RequestEncoder* encoder = nullptr;
    pair.startRequest(requestHeaders("GET", "/"), i % 3 == 0, &encoder);
    if (i % 3 == 1) {
      encoder->getStream().resetStream(StreamResetReason::LocalReset);  // a third are cancelled
    } else if (i % 3 == 2) {
      buffer::OwnedImpl empty;
      encoder->encodeData(empty, true);
    }
    pair.pump();
  }
  EXPECT_TRUE(pair.server_status.ok()) << pair.server_status;
  EXPECT_EQ(pair.server->protocolConstraints().closedStreams(), 300u);
  EXPECT_EQ(pair.server->protocolConstraints().prematureResets(), 100u);
}

// Keepalive with hand-driven timers.
class FakeTimer : public event::Timer {
 public:
  explicit FakeTimer(event::TimerCb cb) : cb_(std::move(cb)) {}
  void enableTimer(std::chrono::milliseconds duration) override {
    enabled_ = true;
    duration_ = duration;
  }
  void disableTimer() override { enabled_ = false; }
  bool enabled() const override { return enabled_; }
  void fire() {
    enabled_ = false;
    cb_();
  }
  std::chrono::milliseconds duration() const { return duration_; }

 private:
  event::TimerCb cb_;
  bool enabled_ = false;
  std::chrono::milliseconds duration_{0};
};

TEST(Http2KeepaliveTest, PingAckedThenTimeout) {
  Http2Settings settings;
  settings.connection_keepalive_interval_ms = 10000;
  settings.connection_keepalive_timeout_ms = 20000;
  std::vector<FakeTimer*> timers;
  CodecRuntime runtime;
  runtime.timer_factory = [&timers](event::TimerCb cb) {
    auto timer = std::make_unique<FakeTimer>(std::move(cb));
    timers.push_back(timer.get());
    return timer;
  };
  absl::Status async_error;
  runtime.on_connection_error = [&async_error](const absl::Status& status) {
    async_error = status;
  };
  TestTransport client_transport;
  TestTransport server_transport;
  TestConnectionCallbacks client_callbacks;
  TestServerCallbacks server_callbacks;
  ClientConnectionImpl client(client_transport, client_callbacks, settings, {}, std::move(runtime));
  ServerConnectionImpl server(server_transport, server_callbacks, {}, {});
  ASSERT_EQ(timers.size(), 2u);
  FakeTimer& interval = *timers[0];
  FakeTimer& timeout = *timers[1];
  EXPECT_TRUE(interval.enabled());
  EXPECT_EQ(interval.duration(), std::chrono::milliseconds(10000));

  auto exchange = [&]() {
    for (int i = 0; i < 10; ++i) {
      buffer::OwnedImpl to_server;
      client_transport.drainTo(to_server);
      ASSERT_TRUE(server.dispatch(to_server).ok());
      buffer::OwnedImpl to_client;
      server_transport.drainTo(to_client);
      ASSERT_TRUE(client.dispatch(to_client).ok());
    }
  };
  exchange();
  interval.fire();
  EXPECT_TRUE(timeout.enabled());
  exchange();  // the server ACKs
  EXPECT_FALSE(timeout.enabled());
  EXPECT_TRUE(interval.enabled());

  interval.fire();
  client_transport.takeOutput();  // the PING is lost; no ACK comes
  ASSERT_TRUE(timeout.enabled());
  timeout.fire();
  EXPECT_TRUE(isCodecProtocolError(async_error)) << async_error;
  EXPECT_EQ(async_error.message(), "http2.keepalive_timeout");
  buffer::OwnedImpl nothing;
  EXPECT_EQ(client.dispatch(nothing).message(), "http2.keepalive_timeout");
  bool goaway = false;
  for (const Frame& f : parseFrames(client_transport.takeOutput())) {
    goaway |= f.type == kGoAway;
  }
  EXPECT_TRUE(goaway);
}

}  // namespace
}  // namespace waystone::http::http2::test
