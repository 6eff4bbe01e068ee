#include "source/common/http/http1/client_connection_impl.h"

#include <memory>
#include <string>
#include <tuple>

#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "test/common/http/http1/codec_test_util.h"

namespace waystone::http::http1 {
namespace {

class ClientCodecTest : public testing::TestWithParam<Split> {
 protected:
  void initialize() {
    codec_ = std::make_unique<ClientConnectionImpl>(transport_, callbacks_, settings_, limits_);
  }
  // Starts a request on `decoder` (decoder_ by default).
  RequestEncoder& start(const HeaderMap& headers, bool end_stream,
                        TestResponseDecoder* decoder = nullptr) {
    TestResponseDecoder& d = decoder == nullptr ? decoder_ : *decoder;
    RequestEncoder& encoder = codec_->newStream(d);
    encoder.getStream().addCallbacks(d);
    EXPECT_TRUE(encoder.encodeHeaders(headers, end_stream).ok());
    return encoder;
  }
  RequestEncoder& get(absl::string_view path = "/") {
    return start(
        makeHeaders({{":method", "GET"}, {":path", std::string(path)}, {":authority", "h"}}), true);
  }
  absl::Status receive(absl::string_view bytes) { return feed(*codec_, input_, bytes, GetParam()); }
  absl::Status endOfStream() {
    buffer::OwnedImpl empty;
    return codec_->dispatch(empty);
  }

  void TearDown() override {
    EXPECT_EQ(0, decoder_.out_of_order);
    EXPECT_EQ(0, transport_.writes_after_end);
    EXPECT_EQ(0, transport_.unbalanced_enables);
  }

  Http1Settings settings_;
  HeaderLimits limits_;
  TestTransport transport_;
  TestConnectionCallbacks callbacks_;
  TestResponseDecoder decoder_;
  buffer::OwnedImpl input_;
  std::unique_ptr<ClientConnectionImpl> codec_;
};

INSTANTIATE_TEST_SUITE_P(Splits, ClientCodecTest,
                         testing::Values(Split::Whole, Split::OneByte, Split::SevenBytes),
                         [](const testing::TestParamInfo<Split>& info) {
                           return splitName(info.param);
                         });

TEST_P(ClientCodecTest, EncodesGetFromPseudoHeaders) {
  initialize();
  start(makeHeaders({{":method", "GET"},
                     {":scheme", "http"},
                     {":authority", "example.com"},
                     {":path", "/p?q=1"},
                     {"user-agent", "t"},
                     {"x-multi", "1"},
                     {"x-multi", "2"}}),
        true);
  EXPECT_EQ(
      "GET /p?q=1 HTTP/1.1\r\nhost: example.com\r\nuser-agent: t\r\nx-multi: 1\r\nx-multi: "
      "2\r\n\r\n",
      transport_.take());
  EXPECT_TRUE(codec_->wantsToWrite());
  EXPECT_EQ(Protocol::Http11, codec_->protocol());
}

TEST_P(ClientCodecTest, EncodesStreamingBodyChunkedWithTrailers) {
  settings_.enable_trailers = true;
  initialize();
  RequestEncoder& encoder =
      start(makeHeaders({{":method", "POST"}, {":path", "/u"}, {":authority", "h"}}), false);
  buffer::OwnedImpl data("abc");
  encoder.encodeData(data, false);
  encoder.encodeTrailers(makeHeaders({{"x-t", "v"}}));
  EXPECT_EQ(
      "POST /u HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: "
      "v\r\n\r\n",
      transport_.take());
}

TEST_P(ClientCodecTest, EncodesContentLengthBodyAsIs) {
  initialize();
  RequestEncoder& encoder = start(makeHeaders({{":method", "PUT"},
                                               {":path", "/u"},
                                               {":authority", "h"},
                                               {"content-length", "3"},
                                               {"transfer-encoding", "chunked"}}),
                                  false);
  buffer::OwnedImpl data("abc");
  encoder.encodeData(data, true);
  EXPECT_EQ("PUT /u HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n\r\nabc", transport_.take());
}

TEST_P(ClientCodecTest, HeadersOnlyPostGetsZeroLength) {
  initialize();
  start(makeHeaders({{":method", "POST"}, {":path", "/u"}, {":authority", "h"}}), true);
  EXPECT_EQ("POST /u HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n", transport_.take());
}

TEST_P(ClientCodecTest, EncodeRefusesIncompleteHeaders) {
  initialize();
  const std::vector<HeaderMap> bad = {
      makeHeaders({{":path", "/"}, {":authority", "h"}}),
      makeHeaders({{":method", "GET"}, {":authority", "h"}}),
      makeHeaders({{":method", "GET"}, {":path", "/a b"}}),
      makeHeaders({{":method", "G ET"}, {":path", "/"}}),
      makeHeaders({{":method", "CONNECT"}}),
      makeHeaders({{":method", "GET"}, {":path", "/"}, {":authority", "h\r\nx: y"}}),
  };
  for (const HeaderMap& headers : bad) {
    TestResponseDecoder decoder;
    RequestEncoder& encoder = codec_->newStream(decoder);
    const absl::Status status = encoder.encodeHeaders(headers, true);
    EXPECT_EQ(absl::StatusCode::kInvalidArgument, status.code()) << headers.toString();
    encoder.getStream().resetStream(StreamResetReason::LocalReset);
    initialize();
  }
  EXPECT_EQ("", transport_.written);
}

TEST_P(ClientCodecTest, ContentLengthResponse) {
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello").ok());
  ASSERT_NE(nullptr, decoder_.headers);
  EXPECT_EQ(":status: 200\ncontent-length: 5\nx-a: b\n", decoder_.headers->toString());
  EXPECT_FALSE(decoder_.headers_end_stream);
  EXPECT_EQ("hello", decoder_.body);
  EXPECT_TRUE(decoder_.ended);
  EXPECT_FALSE(codec_->shouldClose());
  EXPECT_FALSE(codec_->wantsToWrite());
}

TEST_P(ClientCodecTest, SequentialRequestsReuseTheConnection) {
  initialize();
  for (int i = 0; i < 3; ++i) {
    TestResponseDecoder decoder;
    start(makeHeaders({{":method", "GET"}, {":path", "/"}, {":authority", "h"}}), true, &decoder);
    ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::to_string(i)).ok());
    EXPECT_EQ(std::to_string(i), decoder.body);
    EXPECT_TRUE(decoder.ended);
    EXPECT_FALSE(codec_->shouldClose());
  }
}

TEST_P(ClientCodecTest, NextRequestFromInsideTheEndCallback) {
  initialize();
  TestResponseDecoder second;
  decoder_.on_end = [this, &second](TestResponseDecoder&) {
    RequestEncoder& encoder = codec_->newStream(second);
    EXPECT_TRUE(
        encoder
            .encodeHeaders(makeHeaders({{":method", "GET"}, {":path", "/2"}, {":authority", "h"}}),
                           true)
            .ok());
  };
  get("/1");
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na").ok());
  EXPECT_TRUE(decoder_.ended);
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb").ok());
  EXPECT_EQ("b", second.body);
  EXPECT_TRUE(second.ended);
}

TEST_P(ClientCodecTest, ChunkedResponseWithTrailers) {
  settings_.enable_trailers = true;
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n1;x=y\r\n!\r\n0\r\nGrpc-Status: 0\r\n\r\n")
                  .ok());
  EXPECT_EQ("hello!", decoder_.body);
  ASSERT_NE(nullptr, decoder_.trailers);
  EXPECT_EQ("0", decoder_.trailers->getValue("grpc-status"));
  EXPECT_TRUE(decoder_.ended);
  EXPECT_FALSE(codec_->shouldClose());
}

TEST_P(ClientCodecTest, CloseDelimitedResponse) {
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes").ok());
  EXPECT_FALSE(decoder_.ended);
  EXPECT_TRUE(codec_->shouldClose());
  ASSERT_TRUE(receive(" and more").ok());
  ASSERT_TRUE(endOfStream().ok());
  EXPECT_EQ("some bytes and more", decoder_.body);
  EXPECT_TRUE(decoder_.ended);
}

TEST_P(ClientCodecTest, Http10ResponseWithoutKeepAliveCloses) {
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").ok());
  EXPECT_TRUE(decoder_.ended);
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ClientCodecTest, ConnectionCloseResponse) {
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_TRUE(decoder_.headers_end_stream);
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ClientCodecTest, ResponsesWithoutBody) {
  initialize();
  for (const auto& [request_method, response] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"},
           {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"},
           {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"},
           {"HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
       }) {
    TestResponseDecoder decoder;
    start(makeHeaders({{":method", request_method}, {":path", "/"}, {":authority", "h"}}), true,
          &decoder);
    ASSERT_TRUE(receive(response).ok()) << response;
    ASSERT_NE(nullptr, decoder.headers);
    EXPECT_TRUE(decoder.headers_end_stream) << response;
    EXPECT_EQ("", decoder.body);
    EXPECT_FALSE(decoder.headers->has("content-length") && decoder.headers->status() == 204);
    EXPECT_FALSE(codec_->shouldClose());
  }
}

TEST_P(ClientCodecTest, ContinueIsDeliveredOtherInformationalSkipped) {
  initialize();
  start(makeHeaders({{":method", "POST"},
                     {":path", "/"},
                     {":authority", "h"},
                     {"expect", "100-continue"},
                     {"content-length", "1"}}),
        false);
  ASSERT_TRUE(receive("HTTP/1.1 100 Continue\r\n\r\n").ok());
  ASSERT_EQ(1u, decoder_.informational.size());
  EXPECT_EQ(100u, decoder_.informational[0]->status());
  EXPECT_EQ(nullptr, decoder_.headers);
  ASSERT_TRUE(receive("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                  .ok());
  EXPECT_EQ(1u, decoder_.informational.size());
  ASSERT_NE(nullptr, decoder_.headers);
  EXPECT_EQ(200u, decoder_.headers->status());
  EXPECT_FALSE(decoder_.headers->has("link"));
  // The request was not finished: the connection cannot be reused.
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ClientCodecTest, PrematureResponse) {
  initialize();
  absl::Status status = receive("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(isPrematureResponseError(status)) << status;
  EXPECT_EQ("http1.premature_response", status.message());

  initialize();
  codec_->newStream(decoder_);
  input_.drain(input_.length());
  status = receive("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_TRUE(isPrematureResponseError(status)) << status;
}

TEST_P(ClientCodecTest, BytesAfterTheResponseArePremature) {
  initialize();
  get();
  const absl::Status status =
      receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n\r\n");
  EXPECT_TRUE(decoder_.ended);
  EXPECT_TRUE(isPrematureResponseError(status)) << status;
}

TEST_P(ClientCodecTest, EarlyResponseWhileRequestBodyInFlight) {
  initialize();
  RequestEncoder& encoder =
      start(makeHeaders({{":method", "POST"}, {":path", "/"}, {":authority", "h"}}), false);
  buffer::OwnedImpl data("part");
  encoder.encodeData(data, false);
  ASSERT_TRUE(receive("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig").ok());
  EXPECT_EQ(413u, decoder_.headers->status());
  EXPECT_EQ("big", decoder_.body);
  EXPECT_TRUE(decoder_.ended);
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ClientCodecTest, WebSocketUpgrade) {
  initialize();
  RequestEncoder& encoder = start(makeHeaders({{":method", "GET"},
                                               {":path", "/chat"},
                                               {":authority", "h"},
                                               {"upgrade", "websocket"},
                                               {"connection", "Upgrade"}}),
                                  false);
  EXPECT_EQ("GET /chat HTTP/1.1\r\nhost: h\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n",
            transport_.take());
  buffer::OwnedImpl early("\x81\x01x");
  encoder.encodeData(early, false);
  EXPECT_EQ("\x81\x01x", transport_.take());
  ASSERT_TRUE(receive("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\n\r\n\x81\x02hi")
                  .ok());
  EXPECT_EQ(101u, decoder_.headers->status());
  EXPECT_FALSE(decoder_.headers_end_stream);
  EXPECT_EQ("\x81\x02hi", decoder_.body);
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\n\r\n").ok());
  EXPECT_EQ("\x81\x02hiHTTP/1.1 200 OK\r\n\r\n", decoder_.body);
  EXPECT_TRUE(codec_->shouldClose());
  ASSERT_TRUE(endOfStream().ok());
  EXPECT_TRUE(decoder_.ended);
}

TEST_P(ClientCodecTest, UnexpectedSwitchingProtocols) {
  initialize();
  get();
  const absl::Status status = receive(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.unexpected_upgrade", status.message());
}

TEST_P(ClientCodecTest, ConnectTunnel) {
  initialize();
  RequestEncoder& encoder = start(
      makeHeaders({{":method", "CONNECT"}, {":authority", "10.0.0.1:443"}, {"x-a", "b"}}), false);
  EXPECT_EQ("CONNECT 10.0.0.1:443 HTTP/1.1\r\nhost: 10.0.0.1:443\r\nx-a: b\r\n\r\n",
            transport_.take());
  buffer::OwnedImpl hello("\x16\x03\x01");
  encoder.encodeData(hello, false);
  EXPECT_EQ("\x16\x03\x01", transport_.take());
  ASSERT_TRUE(receive("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03 reply").ok());
  EXPECT_EQ(200u, decoder_.headers->status());
  EXPECT_FALSE(decoder_.headers_end_stream);
  EXPECT_EQ("\x16\x03\x03 reply", decoder_.body);
  buffer::OwnedImpl last("bye");
  encoder.encodeData(last, true);
  EXPECT_EQ("bye", transport_.take());
  // The tunnel's end upstream is a half-close.
  EXPECT_TRUE(transport_.end_stream);
}

TEST_P(ClientCodecTest, RefusedConnectIsAnOrdinaryResponse) {
  initialize();
  start(makeHeaders({{":method", "CONNECT"}, {":authority", "h:443"}}), false);
  ASSERT_TRUE(receive("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno").ok());
  EXPECT_EQ("no", decoder_.body);
  EXPECT_TRUE(decoder_.ended);
  EXPECT_TRUE(codec_->shouldClose());
}

TEST_P(ClientCodecTest, ReadDisablePausesTheResponse) {
  initialize();
  RequestEncoder& encoder = get();
  decoder_.on_headers = [&encoder](TestResponseDecoder&) { encoder.getStream().readDisable(true); };
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody").ok());
  EXPECT_NE(nullptr, decoder_.headers);
  EXPECT_EQ("", decoder_.body);
  EXPECT_EQ(1, transport_.read_disabled);
  encoder.getStream().readDisable(false);
  EXPECT_EQ(0, transport_.read_disabled);
  ASSERT_TRUE(codec_->dispatch(input_).ok());
  EXPECT_EQ("body", decoder_.body);
  EXPECT_TRUE(decoder_.ended);
}

TEST_P(ClientCodecTest, ResetStream) {
  initialize();
  RequestEncoder& encoder = get();
  encoder.getStream().resetStream(StreamResetReason::LocalReset);
  EXPECT_TRUE(decoder_.reset);
  EXPECT_TRUE(codec_->shouldClose());
  EXPECT_FALSE(codec_->wantsToWrite());
  // A late response is dropped, not delivered.
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_EQ(nullptr, decoder_.headers);
}

TEST_P(ClientCodecTest, PrematureEndOfStream) {
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").ok());
  const absl::Status status = endOfStream();
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_FALSE(decoder_.ended);
}

TEST_P(ClientCodecTest, EndOfStreamBetweenResponsesIsFine) {
  initialize();
  get();
  ASSERT_TRUE(receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_TRUE(endOfStream().ok());
}

TEST_P(ClientCodecTest, ResponseHeaderLimit) {
  initialize();
  get();
  const absl::Status status =
      receive("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'b') + "\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.headers_too_large", status.message());
}

struct BadResponse {
  std::string name;
  std::string bytes;
  std::string details;
};

void PrintTo(const BadResponse& bad, std::ostream* os) { *os << bad.name; }

class ClientStrictnessTest : public testing::TestWithParam<std::tuple<BadResponse, Split>> {};

TEST_P(ClientStrictnessTest, Refused) {
  const auto& [bad, split] = GetParam();
  Http1Settings settings;
  HeaderLimits limits;
  TestTransport transport;
  TestConnectionCallbacks callbacks;
  ClientConnectionImpl codec(transport, callbacks, settings, limits);
  TestResponseDecoder decoder;
  RequestEncoder& encoder = codec.newStream(decoder);
  ASSERT_TRUE(encoder
                  .encodeHeaders(
                      makeHeaders({{":method", "GET"}, {":path", "/"}, {":authority", "h"}}), true)
                  .ok());
  buffer::OwnedImpl input;
  const absl::Status status = feed(codec, input, bad.bytes, split);
  ASSERT_TRUE(isCodecProtocolError(status)) << status;
  EXPECT_EQ(bad.details, status.message());
  EXPECT_FALSE(decoder.ended);
  EXPECT_TRUE(codec.shouldClose());
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, ClientStrictnessTest,
    testing::Combine(
        testing::Values(
            BadResponse{
                "ContentLengthAndChunked",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                "http1.content_length_and_chunked_not_allowed"},
            BadResponse{"TransferEncodingGzip",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
                        "http1.invalid_transfer_encoding"},
            BadResponse{"TransferEncodingIn204",
                        "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "http1.transfer_encoding_not_allowed"},
            BadResponse{"ContentLengthIn204",
                        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                        "http1.content_length_not_allowed"},
            BadResponse{"ContentLengthIn100", "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n",
                        "http1.content_length_not_allowed"},
            BadResponse{"ObsFold", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n",
                        "http1.codec_error"},
            BadResponse{"SpaceBeforeColon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
                        "http1.invalid_characters"},
            BadResponse{"StatusCodeTooLong", "HTTP/1.1 2000 OK\r\n\r\n", "http1.codec_error"},
            BadResponse{"StatusCodeLetters", "HTTP/1.1 2x0 OK\r\n\r\n", "http1.codec_error"},
            BadResponse{"NotHttp", "SSH-2.0-OpenSSH_9.2\r\n", "http1.codec_error"},
            BadResponse{"Http2Version", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
                        "http1.codec_error"},
            BadResponse{"ControlInReason", "HTTP/1.1 200 O\x01K\r\n\r\n",
                        "http1.invalid_characters"},
            BadResponse{"ChunkDataWithoutCrlf",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
                        "http1.codec_error"},
            BadResponse{"DuplicateContentLength",
                        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                        "http1.codec_error"}),
        testing::Values(Split::Whole, Split::OneByte, Split::SevenBytes)),
    [](const testing::TestParamInfo<std::tuple<BadResponse, Split>>& info) {
      return std::get<0>(info.param).name + "_" + splitName(std::get<1>(info.param));
    });

}  // namespace
}  // namespace waystone::http::http1
