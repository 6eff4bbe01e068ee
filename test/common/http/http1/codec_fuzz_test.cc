// Fuzz target for the HTTP/1 codecs, server and client.
//
// Built normally (a cc_test), it replays every file in test/common/http/http1/corpus/ through both
// codecs with several settings and input splits. Built with -DWAYSTONE_LIBFUZZER and
// -fsanitize=fuzzer (clang), it is a libFuzzer target over the same function:
//   clang++ -std=c++17 -DWAYSTONE_LIBFUZZER -fsanitize=fuzzer,address ... codec_fuzz_test.cc
//   ./codec_fuzz test/common/http/http1/corpus
//
// Each input is one HTTP/1 byte stream; its first byte selects the codec settings and how the
// stream is cut into reads. The checks: no crash (ASan in the fuzzer), errors only of the
// documented kinds, nothing written after the end of the output, decoder events in order, the
// same events whatever the read sizes (split invariance), and bounded memory: the codec never holds
// more input than it was given, and delivered header maps stay within the configured limit.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/assert.h"
#include "source/common/http/http1/client_connection_impl.h"
#include "source/common/http/http1/server_connection_impl.h"
#include "test/common/http/http1/codec_test_util.h"

#ifndef WAYSTONE_LIBFUZZER
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#endif

namespace waystone::http::http1 {
namespace {

#define WAYSTONE_FUZZ_CHECK(cond) WAYSTONE_RELEASE_ASSERT(cond, "fuzz invariant")

constexpr size_t kMaxRequests = 64;

struct Knobs {
  Http1Settings settings;
  HeaderLimits limits;
  size_t read_size;
};

Knobs knobsFrom(uint8_t selector) {
  Knobs knobs;
  knobs.settings.accept_http_10 = (selector & 1) != 0;
  knobs.settings.enable_trailers = (selector & 2) != 0;
  knobs.settings.allow_chunked_length = (selector & 4) != 0;
  knobs.settings.allow_absolute_url = (selector & 8) == 0;
  knobs.limits.max_request_headers_kb = (selector & 16) != 0 ? 1 : 60;
  knobs.limits.max_headers_count = (selector & 32) != 0 ? 5 : 100;
  knobs.limits.headers_with_underscores_action =
      static_cast<HeadersWithUnderscoresAction>((selector >> 6) % 3);
  static constexpr size_t kReadSizes[] = {1, 2, 3, 7, 16, 64, 1500, 65536};
  knobs.read_size = kReadSizes[(selector * 5) % 8];
  return knobs;
}

void checkHeaders(const HeaderMap* headers, const HeaderLimits& limits) {
  if (headers != nullptr) {
    // Pseudo-headers rebuilt from the request line count too, hence the slack.
    WAYSTONE_FUZZ_CHECK(headers->byteSize() <= uint64_t{limits.max_request_headers_kb} * 1024 + 64);
    WAYSTONE_FUZZ_CHECK(headers->size() <= limits.max_headers_count + 4);
  }
}

// Feeds `bytes` in reads of `read_size`; returns the first error. `after_read` runs after each
// successful dispatch.
absl::Status feedReads(Connection& codec, absl::string_view bytes, size_t read_size,
                       const std::function<void(buffer::Instance&)>& after_read) {
  buffer::OwnedImpl input;
  size_t added = 0;
  for (size_t offset = 0; offset < bytes.size(); offset += read_size) {
    const absl::string_view piece = bytes.substr(offset, read_size);
    input.add(piece);
    added += piece.size();
    const absl::Status status = codec.dispatch(input);
    // Bounded: what the codec leaves is part of what it was given, never more.
    WAYSTONE_FUZZ_CHECK(input.length() <= added);
    if (!status.ok()) {
      return status;
    }
    after_read(input);
  }
  buffer::OwnedImpl end_of_stream;
  return codec.dispatch(end_of_stream);
}

std::string transcriptOf(const HeaderMap* headers) {
  return headers == nullptr ? "-" : headers->toString();
}

// Returns what the decoders saw when the stream parsed without error, "error" otherwise.
std::string runServer(absl::string_view bytes, const Knobs& knobs) {
  TestTransport transport;
  TestServerCallbacks callbacks;
  callbacks.on_new_stream = [](TestRequestDecoder& stream) {
    stream.on_headers = [](TestRequestDecoder& d) {
      if (d.headers->method() == "CONNECT" || d.headers->has("upgrade")) {
        d.respond(d.headers->method() == "CONNECT" ? 200 : 101,
                  {{"upgrade", "websocket"}, {"connection", "upgrade"}}, "", false);
      }
    };
    stream.on_end = [](TestRequestDecoder& d) { d.respond(200, {{"content-length", "2"}}, "ok"); };
  };
  ServerConnectionImpl codec(transport, callbacks, knobs.settings, knobs.limits);
  const absl::Status status =
      feedReads(codec, bytes, knobs.read_size, [&codec](buffer::Instance& input) {
        // What a connection does when reading is enabled again.
        if (input.length() > 0) {
          WAYSTONE_FUZZ_CHECK(codec.dispatch(input).ok() || codec.shouldClose());
        }
      });
  if (!status.ok()) {
    WAYSTONE_FUZZ_CHECK(isCodecProtocolError(status));
    const uint32_t code = codec.lastErrorHttpStatus();
    WAYSTONE_FUZZ_CHECK(code == 400 || code == 431 || code == 426 || code == 501);
    WAYSTONE_FUZZ_CHECK(codec.shouldClose());
  }
  WAYSTONE_FUZZ_CHECK(transport.writes_after_end == 0);
  WAYSTONE_FUZZ_CHECK(transport.unbalanced_enables == 0);
  WAYSTONE_FUZZ_CHECK(callbacks.streams.size() <= bytes.size());
  std::string transcript = status.ok() ? "" : "error";
  for (const auto& stream : callbacks.streams) {
    WAYSTONE_FUZZ_CHECK(stream->out_of_order == 0);
    checkHeaders(stream->headers.get(), knobs.limits);
    checkHeaders(stream->trailers.get(), knobs.limits);
    WAYSTONE_FUZZ_CHECK(stream->body.size() <= bytes.size());
    if (status.ok()) {
      absl::StrAppend(&transcript, transcriptOf(stream->headers.get()), stream->headers_end_stream,
                      "|", stream->body, "|", transcriptOf(stream->trailers.get()), stream->ended,
                      "\n");
    }
  }
  return transcript;
}

std::string runClient(absl::string_view bytes, const Knobs& knobs, absl::string_view method) {
  TestTransport transport;
  TestConnectionCallbacks callbacks;
  ClientConnectionImpl codec(transport, callbacks, knobs.settings, knobs.limits);
  std::vector<std::unique_ptr<TestResponseDecoder>> decoders;
  std::function<void()> start = [&]() {
    decoders.push_back(std::make_unique<TestResponseDecoder>());
    TestResponseDecoder& decoder = *decoders.back();
    RequestEncoder& encoder = codec.newStream(decoder);
    encoder.getStream().addCallbacks(decoder);
    HeaderMap headers;
    headers.addCopy(":method", method);
    if (method == "CONNECT") {
      headers.addCopy(":authority", "h:443");
    } else {
      headers.addCopy(":path", "/");
      headers.addCopy(":authority", "h");
      headers.addCopy("upgrade", "websocket");
      headers.addCopy("connection", "upgrade");
    }
    WAYSTONE_FUZZ_CHECK(encoder.encodeHeaders(headers, method != "CONNECT").ok());
    decoder.on_end = [&](TestResponseDecoder&) {
      if (!codec.shouldClose() && decoders.size() < kMaxRequests) {
        start();
      }
    };
  };
  start();
  const absl::Status status = feedReads(codec, bytes, knobs.read_size, [](buffer::Instance&) {});
  if (!status.ok()) {
    WAYSTONE_FUZZ_CHECK(isCodecProtocolError(status) || isPrematureResponseError(status));
    WAYSTONE_FUZZ_CHECK(codec.shouldClose());
  }
  WAYSTONE_FUZZ_CHECK(transport.writes_after_end == 0);
  WAYSTONE_FUZZ_CHECK(transport.unbalanced_enables == 0);
  std::string transcript = status.ok() ? "" : "error";
  for (const auto& decoder : decoders) {
    WAYSTONE_FUZZ_CHECK(decoder->out_of_order == 0);
    checkHeaders(decoder->headers.get(), knobs.limits);
    WAYSTONE_FUZZ_CHECK(decoder->body.size() <= bytes.size());
    if (status.ok()) {
      absl::StrAppend(&transcript, decoder->informational.size(),
                      transcriptOf(decoder->headers.get()), decoder->headers_end_stream, "|",
                      decoder->body, "|", transcriptOf(decoder->trailers.get()), decoder->ended,
                      "\n");
    }
  }
  return transcript;
}

void fuzzOne(absl::string_view input) {
  if (input.empty()) {
    return;
  }
  const Knobs knobs = knobsFrom(static_cast<uint8_t>(input[0]));
  Knobs whole = knobs;
  whole.read_size = input.size();
  const absl::string_view bytes = input.substr(1);
  // Split invariance: how the bytes are cut into reads must not change what is decoded (a
  // framing disagreement between the validator and the parser would show here first).
  WAYSTONE_FUZZ_CHECK(runServer(bytes, knobs) == runServer(bytes, whole));
  const absl::string_view method = (input[0] & 1) != 0 ? "HEAD" : "GET";
  WAYSTONE_FUZZ_CHECK(runClient(bytes, knobs, method) == runClient(bytes, whole, method));
  WAYSTONE_FUZZ_CHECK(runClient(bytes, knobs, "CONNECT") == runClient(bytes, whole, "CONNECT"));
}

}  // namespace
}  // namespace waystone::http::http1

#ifdef WAYSTONE_LIBFUZZER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  waystone::http::http1::fuzzOne(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#else

namespace waystone::http::http1 {
namespace {

TEST(CodecFuzzTest, ReplayCorpus) {
  const std::filesystem::path corpus = "test/common/http/http1/corpus";
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream file(entry.path(), std::ios::binary);
    ASSERT_TRUE(file.good()) << entry.path();
    std::stringstream contents;
    contents << file.rdbuf();
    const std::string bytes = contents.str();
    // The corpus files are plain streams: try each with every settings selector byte the fuzzer
    // could put in front.
    for (int selector = 0; selector < 256; selector += 7) {
      fuzzOne(std::string(1, static_cast<char>(selector)) + bytes);
    }
    ++files;
  }
  EXPECT_GE(files, 20u);
}

}  // namespace
}  // namespace waystone::http::http1

#endif
