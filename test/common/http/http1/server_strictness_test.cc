// Requests the server codec must refuse (request smuggling, limits), each fed whole, one byte at
// a time and in 7-byte pieces.

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http1/server_connection_impl.h"
#include "test/common/http/http1/codec_test_util.h"

namespace waystone::http::http1 {
namespace {

struct BadRequest {
  std::string name;
  std::string bytes;
  std::string details;
  uint32_t http_status;
};

// Test names only: the bytes are unprintable.
void PrintTo(const BadRequest& bad, std::ostream* os) { *os << bad.name; }

std::string head(absl::string_view extra_headers) {
  return absl::StrCat("POST / HTTP/1.1\r\nHost: h\r\n", extra_headers, "\r\n");
}

std::string chunked(absl::string_view body) {
  return absl::StrCat(head("Transfer-Encoding: chunked\r\n"), body);
}

std::vector<BadRequest> badRequests() {
  const std::string codec = "http1.codec_error";
  const std::string chars = "http1.invalid_characters";
  return {
      // Body framing.
      {"ContentLengthAndChunked",
       head("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n",
       "http1.content_length_and_chunked_not_allowed", 400},
      {"ChunkedAndContentLength",
       head("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n") + "0\r\n\r\n",
       "http1.content_length_and_chunked_not_allowed", 400},
      {"DuplicateContentLengthDifferent", head("Content-Length: 3\r\nContent-Length: 4\r\n"), codec,
       400},
      {"DuplicateContentLengthSame", head("Content-Length: 3\r\nContent-Length: 3\r\n") + "abc",
       codec, 400},
      {"ContentLengthList", head("Content-Length: 3, 3\r\n") + "abc", codec, 400},
      {"ContentLengthNotNumeric", head("Content-Length: abc\r\n"), codec, 400},
      {"ContentLengthNegative", head("Content-Length: -1\r\n"), codec, 400},
      {"ContentLengthOverflow", head("Content-Length: 99999999999999999999999\r\n"), codec, 400},
      {"TransferEncodingGzipChunked", head("Transfer-Encoding: gzip, chunked\r\n"),
       "http1.invalid_transfer_encoding", 501},
      {"TransferEncodingGzip", head("Transfer-Encoding: gzip\r\n"),
       "http1.invalid_transfer_encoding", 501},
      {"TransferEncodingChunkedTwice", head("Transfer-Encoding: chunked, chunked\r\n"),
       "http1.invalid_transfer_encoding", 501},
      {"TransferEncodingTwoHeaders",
       head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
       "http1.invalid_transfer_encoding", 501},
      {"TransferEncodingIdentity", head("Transfer-Encoding: identity\r\n"),
       "http1.invalid_transfer_encoding", 501},
      {"TransferEncodingOnConnect",
       "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nTransfer-Encoding: chunked\r\n\r\n",
       "http1.invalid_transfer_encoding", 501},
      {"ConnectWithBody", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 3\r\n\r\nabc",
       "http1.body_disallowed", 400},
      // Header syntax.
      {"ObsFold", head("X-A: b\r\n c\r\n"), codec, 400},
      {"ObsFoldTab", head("X-A: b\r\n\tc\r\n"), codec, 400},
      {"ObsFoldFirstLine", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", codec, 400},
      {"NulInValue", head(std::string("X-A: b\0c\r\n", 10)), chars, 400},
      {"ControlInValue", head("X-A: b\x01\r\n"), chars, 400},
      {"DelInValue", head("X-A: b\x7f\r\n"), chars, 400},
      {"BareCrInValue", head("X-A: b\rc\r\n"), chars, 400},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", chars, 400},
      {"TabBeforeColon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", chars, 400},
      {"HeaderWithoutColon", head("X-A\r\n"), codec, 400},
      {"EmptyHeaderName", head(": v\r\n"), chars, 400},
      {"InvalidNameCharacter", head("X(A): v\r\n"), chars, 400},
      {"BareCrEndsHead", "GET / HTTP/1.1\r\nHost: h\r\n\rX", codec, 400},
      // Chunked framing.
      {"BadChunkSize", chunked("zz\r\nhello\r\n0\r\n\r\n"), codec, 400},
      {"ChunkSizeTrailingGarbage", chunked("5 6\r\nhello\r\n0\r\n\r\n"), codec, 400},
      {"ChunkSizeOverflow", chunked("10000000000000000\r\n"), codec, 400},
      {"ChunkSizeNegative", chunked("-5\r\nhello\r\n0\r\n\r\n"), codec, 400},
      {"ChunkSizeBareLf", chunked("5\nhello\r\n0\r\n\r\n"), codec, 400},
      {"ChunkExtensionBareLf", chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"), chars, 400},
      {"ChunkExtensionControl", chunked("5;a\x01\r\nhello\r\n0\r\n\r\n"), chars, 400},
      {"ChunkExtensionTooLong", chunked("5;" + std::string(5000, 'a') + "\r\nhello\r\n"), codec,
       400},
      {"ChunkDataWithoutCrlf", chunked("5\r\nhelloXX0\r\n\r\n"), codec, 400},
      {"ChunkDataBareLf", chunked("5\r\nhello\n0\r\n\r\n"), codec, 400},
      {"TrailerObsFold", chunked("0\r\nX-T: a\r\n b\r\n\r\n"), codec, 400},
      {"TrailerNul", chunked(std::string("0\r\nX-T: a\0\r\n\r\n", 14)), chars, 400},
      // Request line.
      {"Http09", "GET /\r\n\r\n", "low_version", 426},
      {"Http10NotAccepted", "GET / HTTP/1.0\r\n\r\n", "low_version", 426},
      {"Http2Version", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", codec, 400},
      {"LowerCaseVersion", "GET / http/1.1\r\nHost: h\r\n\r\n", codec, 400},
      {"TlsHandshake", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), codec, 400},
      {"DoubleSpace", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", codec, 400},
      {"TabSeparator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", codec, 400},
      {"UnknownMethod", "FOO / HTTP/1.1\r\nHost: h\r\n\r\n", codec, 400},
      {"EightBitTarget", "GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", codec, 400},
      {"ControlInTarget", "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", codec, 400},
      {"BareCrAfterVersion", "GET / HTTP/1.1\rHost: h\r\n\r\n", codec, 400},
      {"TrailingSpaceAfterVersion", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", codec, 400},
      // Authority and target.
      {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "http.invalid_authority", 400},
      {"InvalidHost", "GET / HTTP/1.1\r\nHost: h.\"com\r\n\r\n", "http.invalid_authority", 400},
      {"ConnectOriginForm", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", "http1.invalid_url", 400},
      {"ConnectWithoutPort", "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", "http1.invalid_url", 400},
      {"AbsoluteUrlBadScheme", "GET ftp://h/ HTTP/1.1\r\n\r\n", "http1.invalid_url", 400},
      {"AbsoluteUrlUserinfo", "GET http://u:p@h/ HTTP/1.1\r\n\r\n", "http1.invalid_url", 400},
      {"RelativeTarget", "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", codec, 400},
  };
}

class ServerStrictnessTest : public testing::TestWithParam<std::tuple<BadRequest, Split>> {};

TEST_P(ServerStrictnessTest, Refused) {
  const auto& [bad, split] = GetParam();
  Http1Settings settings;
  HeaderLimits limits;
  TestTransport transport;
  TestServerCallbacks callbacks;
  ServerConnectionImpl codec(transport, callbacks, settings, limits);
  buffer::OwnedImpl input;
  const absl::Status status = feed(codec, input, bad.bytes, split);
  ASSERT_TRUE(isCodecProtocolError(status)) << status;
  EXPECT_EQ(bad.details, status.message());
  EXPECT_EQ(bad.http_status, codec.lastErrorHttpStatus());
  EXPECT_EQ(bad.details, codec.lastErrorDetails());
  EXPECT_TRUE(codec.shouldClose());
  // No request is ever completed, and nothing is written: the connection manager answers.
  for (const auto& stream : callbacks.streams) {
    EXPECT_FALSE(stream->ended);
  }
  EXPECT_EQ("", transport.written);
  // Errors are sticky.
  buffer::OwnedImpl more("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(status, codec.dispatch(more));
}

INSTANTIATE_TEST_SUITE_P(Smuggling, ServerStrictnessTest,
                         testing::Combine(testing::ValuesIn(badRequests()),
                                          testing::Values(Split::Whole, Split::OneByte,
                                                          Split::SevenBytes)),
                         [](const testing::TestParamInfo<std::tuple<BadRequest, Split>>& info) {
                           return std::get<0>(info.param).name + "_" +
                                  splitName(std::get<1>(info.param));
                         });

class ServerLimitsTest : public testing::TestWithParam<Split> {
 protected:
  absl::Status send(ServerConnectionImpl& codec, absl::string_view bytes) {
    return feed(codec, input_, bytes, GetParam());
  }
  Http1Settings settings_;
  HeaderLimits limits_;
  TestTransport transport_;
  TestServerCallbacks callbacks_;
  buffer::OwnedImpl input_;
};

INSTANTIATE_TEST_SUITE_P(Splits, ServerLimitsTest,
                         testing::Values(Split::Whole, Split::OneByte, Split::SevenBytes),
                         [](const testing::TestParamInfo<Split>& info) {
                           return splitName(info.param);
                         });

TEST_P(ServerLimitsTest, HeaderSizeLimitHitWhileReceiving) {
  // A client sends 70 KiB of one header slowly: the error comes once the limit (60 KiB) is
  // crossed, long before the header ends, and the codec holds none of it.
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  ASSERT_TRUE(send(codec, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ").ok());
  const std::string piece(1024, 'a');
  size_t sent = 0;
  absl::Status status;
  while (sent < 70 * 1024 && status.ok()) {
    status = send(codec, piece);
    sent += piece.size();
    EXPECT_LT(input_.length(), 2 * piece.size());
  }
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.headers_too_large", status.message());
  EXPECT_EQ(431u, codec.lastErrorHttpStatus());
  EXPECT_LE(sent, 60u * 1024 + piece.size());
}

TEST_P(ServerLimitsTest, HeaderSizeLimitCountsTheRequestLine) {
  limits_.max_request_headers_kb = 1;
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  const absl::Status status = send(codec, "GET /" + std::string(1100, 'p') + " HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.headers_too_large", status.message());
  EXPECT_EQ(431u, codec.lastErrorHttpStatus());
}

TEST_P(ServerLimitsTest, HeaderSizeJustUnderTheLimitPasses) {
  limits_.max_request_headers_kb = 1;
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  std::string request = "GET / HTTP/1.1\r\nHost: h\r\nX-Fill: ";
  request += std::string(1024 - request.size() - 4, 'f') + "\r\n\r\n";
  ASSERT_EQ(1024u, request.size());
  ASSERT_TRUE(send(codec, request).ok());
  ASSERT_EQ(1u, callbacks_.streams.size());
  EXPECT_TRUE(callbacks_.streams[0]->ended);
}

TEST_P(ServerLimitsTest, LibraryHeaderCapAlsoAnswers431) {
  // libhttp-parser is compiled with an 80 KiB head limit: a larger configured limit is capped.
  limits_.max_request_headers_kb = 96;
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  const absl::Status status =
      send(codec, "GET / HTTP/1.1\r\nX-Big: " + std::string(85 * 1024, 'b') + "\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.headers_too_large", status.message());
  EXPECT_EQ(431u, codec.lastErrorHttpStatus());
}

TEST_P(ServerLimitsTest, HeaderCount) {
  limits_.max_headers_count = 3;
  {
    ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
    ASSERT_TRUE(send(codec, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n").ok());
    EXPECT_TRUE(callbacks_.streams.at(0)->ended);
  }
  input_.drain(input_.length());
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  const absl::Status status =
      send(codec, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.too_many_headers", status.message());
  EXPECT_EQ(431u, codec.lastErrorHttpStatus());
}

TEST_P(ServerLimitsTest, TrailerLimits) {
  limits_.max_headers_count = 2;
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  const absl::Status status = send(codec, chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.too_many_headers", status.message());
}

TEST_P(ServerLimitsTest, Http09WithHttp10AcceptedIsStillRefused) {
  settings_.accept_http_10 = true;
  ServerConnectionImpl codec(transport_, callbacks_, settings_, limits_);
  const absl::Status status = send(codec, "GET /\r\n\r\n");
  ASSERT_TRUE(isCodecProtocolError(status));
  EXPECT_EQ("http1.codec_error", status.message());
  EXPECT_EQ(400u, codec.lastErrorHttpStatus());
}

}  // namespace
}  // namespace waystone::http::http1
