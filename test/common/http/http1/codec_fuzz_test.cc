// Fuzz target for the HTTP/1 codecs, server and client (docs/testing.md, "Fuzzing").
//
// One source, two builds (test/fuzz/fuzz.bzl):
//  - :codec_fuzz_test (any compiler, the normal suite) replays every file in corpus/ through
//    LLVMFuzzerTestOneInput, as is and with each settings selector;
//  - :codec_fuzzer (--config=fuzz: clang, libFuzzer, ASan+UBSan) fuzzes the same entry point;
//    run it with `tools/fuzz http1 [seconds]`.
//
// Input format (also of every corpus file): the first byte selects the codec settings and how
// the stream is cut into reads, the second what the layer above does with each exchange (see
// ServerMode and ClientMode: answer late or early, after the next read, 1xx, pause reads, reset,
// stream a chunked answer, bodies on requests), the rest is one HTTP/1 byte stream. The same
// bytes go to a server codec (as requests) and to client codecs (as responses to GET/HEAD and
// to CONNECT requests).
// The checks: no crash (ASan/UBSan in the fuzzer), errors only of the documented kinds, nothing
// written after the end of the output, decoder events in order and none after a reset, no body
// on 204/304, the same events whatever the read sizes (split invariance, for behaviours that do
// not depend on the reads), and bounded memory: the codec never holds more input than it was
// given, and delivered header maps stay within the configured limit.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/assert.h"
#include "source/common/http/http1/client_connection_impl.h"
#include "source/common/http/http1/server_connection_impl.h"
#include "test/common/http/http1/codec_test_util.h"

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

// What the layer above does with each exchange (the input's second byte).
enum class ServerMode : uint8_t {
  Answer = 0,    // respond when the request is complete
  Deferred = 1,  // respond after the next read (pipelined requests must wait meanwhile)
  Early = 2,     // a complete response as soon as the request headers arrive
  Reset = 3,     // resetStream() on the first body data (or at the request's end)
  Continue = 4,  // 100 Continue (and a dropped non-1xx) first, respond at the end
  Pause = 5,     // readDisable(true) on headers, enabled again after the next read
  Stream = 6,    // respond at once without a length (chunked), a chunk per body piece, trailers
  NoBody = 7,    // 204 / 304 with a body the codec must not send
};
enum class ClientMode : uint8_t {
  Record = 0,  // only record the response
  Reset = 1,   // resetStream() on the response headers
  Pause = 2,   // readDisable(true) on the response headers, enabled after the next read
  Body = 3,    // requests carry a body (POST with content-length; data on CONNECT)
};

struct Behaviour {
  ServerMode server = ServerMode::Answer;
  ClientMode client = ClientMode::Record;
};

Behaviour behaviourFrom(uint8_t byte) {
  Behaviour behaviour;
  behaviour.server = static_cast<ServerMode>(byte & 7);
  behaviour.client = static_cast<ClientMode>((byte >> 3) & 3);
  return behaviour;
}

// Work the layer above does "later": after the current read, as another event-loop turn.
using Pending = std::vector<std::function<void()>>;

void runPending(Pending& pending) {
  Pending now;
  now.swap(pending);
  for (auto& work : now) {
    work();
  }
}

// Feeds `bytes` in reads of `read_size`; returns the first error. After each successful dispatch
// the pending work runs and, as a connection does when reading resumes, the input the codec left
// is dispatched again; at the end that repeats until nothing changes, then end of stream.
absl::Status feedReads(Connection& codec, absl::string_view bytes, size_t read_size,
                       Pending& pending) {
  buffer::OwnedImpl input;
  size_t added = 0;
  const auto redispatch = [&]() -> absl::Status {
    runPending(pending);
    if (input.length() == 0) {
      return absl::OkStatus();
    }
    const uint64_t before = input.length();
    const absl::Status status = codec.dispatch(input);
    WAYSTONE_FUZZ_CHECK(input.length() <= before);
    return status;
  };
  for (size_t offset = 0; offset < bytes.size(); offset += read_size) {
    const absl::string_view piece = bytes.substr(offset, read_size);
    input.add(piece);
    added += piece.size();
    absl::Status status = codec.dispatch(input);
    // Bounded: what the codec leaves is part of what it was given, never more.
    WAYSTONE_FUZZ_CHECK(input.length() <= added);
    if (status.ok()) {
      status = redispatch();
    }
    if (!status.ok()) {
      return status;
    }
  }
  for (size_t round = 0; round < kMaxRequests && (!pending.empty() || input.length() > 0);
       ++round) {
    const uint64_t before = input.length();
    const bool had_work = !pending.empty();
    const absl::Status status = redispatch();
    if (!status.ok()) {
      return status;
    }
    if (!had_work && input.length() == before) {
      break;  // the codec takes no more (e.g. it waits for a response that never comes)
    }
  }
  buffer::OwnedImpl end_of_stream;
  return codec.dispatch(end_of_stream);
}

std::string transcriptOf(const HeaderMap* headers) {
  return headers == nullptr ? "-" : headers->toString();
}

// Checks that a decoder gets nothing after a reset (TestRequestDecoder counts the other
// ordering errors in out_of_order).
template <class Decoder>
void checkNotReset(const Decoder& decoder) {
  WAYSTONE_FUZZ_CHECK(!decoder.reset);
}

// Returns what the decoders saw when the stream parsed without error, "error" otherwise.
std::string runServer(absl::string_view bytes, const Knobs& knobs, ServerMode mode) {
  TestTransport transport;
  TestServerCallbacks callbacks;
  Pending pending;
  struct Exchange {
    bool response_started = false;
    bool response_done = false;
    // Our own reset from inside decodeData(): TestRequestDecoder still calls on_end for that
    // call's end_stream, which is not an event after the reset.
    int reset_at_data_call = -1;
  };
  std::map<const TestRequestDecoder*, Exchange> exchanges;
  const auto state = [&exchanges](const TestRequestDecoder& d) -> Exchange& {
    return exchanges[&d];
  };
  // The layer above uses an encoder only while its exchange is live: not after a reset, nor
  // after it completed the response (the codec may then free the exchange).
  const auto live = [state](const TestRequestDecoder& d) {
    return !d.reset && !state(d).response_done;
  };
  const auto answer = [state, live](TestRequestDecoder& d) {
    if (live(d) && !state(d).response_started) {
      state(d).response_started = true;
      state(d).response_done = true;
      d.respond(200, {{"content-length", "2"}}, "ok");
    }
  };
  callbacks.on_new_stream = [&](TestRequestDecoder& stream) {
    stream.on_headers = [&, mode](TestRequestDecoder& d) {
      checkNotReset(d);
      const bool connect = d.headers->method() == "CONNECT";
      if (connect || d.headers->has("upgrade")) {
        state(d).response_started = true;
        d.respond(connect ? 200 : 101, {{"upgrade", "websocket"}, {"connection", "upgrade"}}, "",
                  false);
        return;
      }
      switch (mode) {
        case ServerMode::Early:
          answer(d);
          break;
        case ServerMode::Continue: {
          d.encoder.encode1xxHeaders(makeHeaders({{":status", "100"}}));
          d.encoder.encode1xxHeaders(makeHeaders({{":status", "200"}}));  // dropped
          break;
        }
        case ServerMode::Pause:
          d.encoder.getStream().readDisable(true);
          pending.push_back([&d, live]() {
            if (live(d)) {
              d.encoder.getStream().readDisable(false);
            }
          });
          break;
        case ServerMode::Stream:
          state(d).response_started = true;
          d.encoder.encodeHeaders(makeHeaders({{":status", "200"}}), false);
          break;
        default:
          break;
      }
    };
    stream.on_data = [&, mode](TestRequestDecoder& d) {
      checkNotReset(d);
      if (mode == ServerMode::Reset && live(d)) {
        state(d).reset_at_data_call = d.data_calls;
        d.encoder.getStream().resetStream(StreamResetReason::LocalReset);
      } else if (mode == ServerMode::Stream && live(d) && !d.ended) {
        buffer::OwnedImpl chunk("chunk");
        d.encoder.encodeData(chunk, false);
      }
    };
    stream.on_end = [&, mode](TestRequestDecoder& d) {
      if (d.reset) {
        WAYSTONE_FUZZ_CHECK(state(d).reset_at_data_call == d.data_calls && d.trailers == nullptr);
        return;
      }
      if (state(d).response_started && mode != ServerMode::Stream) {
        return;  // upgrades and early answers
      }
      switch (mode) {
        case ServerMode::Deferred:
          pending.push_back([&d, answer]() { answer(d); });
          break;
        case ServerMode::Reset:
          if (live(d)) {
            d.encoder.getStream().resetStream(StreamResetReason::LocalReset);
          }
          break;
        case ServerMode::Stream:
          if (live(d) && state(d).response_started) {
            state(d).response_done = true;
            d.encoder.encodeTrailers(makeHeaders({{"x-done", "1"}}));
          }
          break;
        case ServerMode::NoBody:
          if (live(d)) {
            state(d).response_started = true;
            state(d).response_done = true;
            d.respond(d.headers->method() == "GET" ? 304 : 204, {}, "must not be sent");
          }
          break;
        default:
          answer(d);
          break;
      }
    };
  };
  ServerConnectionImpl codec(transport, callbacks, knobs.settings, knobs.limits);
  const absl::Status status = feedReads(codec, bytes, knobs.read_size, pending);
  if (!status.ok()) {
    WAYSTONE_FUZZ_CHECK(isCodecProtocolError(status));
    const uint32_t code = codec.lastErrorHttpStatus();
    WAYSTONE_FUZZ_CHECK(code == 400 || code == 431 || code == 426 || code == 501);
    WAYSTONE_FUZZ_CHECK(codec.shouldClose());
  }
  WAYSTONE_FUZZ_CHECK(transport.writes_after_end == 0);
  WAYSTONE_FUZZ_CHECK(transport.unbalanced_enables == 0);
  WAYSTONE_FUZZ_CHECK(callbacks.streams.size() <= bytes.size());
  if (mode == ServerMode::NoBody) {
    WAYSTONE_FUZZ_CHECK(transport.written.find("must not be sent") == std::string::npos);
  }
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

std::string runClient(absl::string_view bytes, const Knobs& knobs, absl::string_view method,
                      ClientMode mode) {
  TestTransport transport;
  TestConnectionCallbacks callbacks;
  ClientConnectionImpl codec(transport, callbacks, knobs.settings, knobs.limits);
  Pending pending;
  std::vector<std::unique_ptr<TestResponseDecoder>> decoders;
  // Reset by us inside decodeHeaders(): its end_stream still reaches on_end.
  std::set<const TestResponseDecoder*> reset_in_headers;
  std::function<void()> start = [&]() {
    decoders.push_back(std::make_unique<TestResponseDecoder>());
    TestResponseDecoder& decoder = *decoders.back();
    RequestEncoder& encoder = codec.newStream(decoder);
    encoder.getStream().addCallbacks(decoder);
    const bool connect = method == "CONNECT";
    const bool body = mode == ClientMode::Body;
    HeaderMap headers;
    headers.addCopy(":method", body && !connect ? "POST" : method);
    if (connect) {
      headers.addCopy(":authority", "h:443");
    } else {
      headers.addCopy(":path", "/");
      headers.addCopy(":authority", "h");
      if (body) {
        headers.addCopy("content-length", "5");
      } else {
        headers.addCopy("upgrade", "websocket");
        headers.addCopy("connection", "upgrade");
      }
    }
    WAYSTONE_FUZZ_CHECK(encoder.encodeHeaders(headers, !connect && !body).ok());
    if (body && !decoder.reset) {
      buffer::OwnedImpl data("hello");
      encoder.encodeData(data, !connect);
    }
    decoder.on_headers = [&, mode](TestResponseDecoder& d) {
      checkNotReset(d);
      if (mode == ClientMode::Reset) {
        reset_in_headers.insert(&d);
        encoder.getStream().resetStream(StreamResetReason::LocalReset);
      } else if (mode == ClientMode::Pause) {
        encoder.getStream().readDisable(true);
        pending.push_back([&d, &encoder]() {
          if (!d.reset && !d.ended) {
            encoder.getStream().readDisable(false);
          }
        });
      }
    };
    decoder.on_data = [](TestResponseDecoder& d) { checkNotReset(d); };
    decoder.on_end = [&](TestResponseDecoder& d) {
      if (d.reset) {
        WAYSTONE_FUZZ_CHECK(reset_in_headers.count(&d) == 1 && d.body.empty() &&
                            d.trailers == nullptr);
        return;
      }
      if (!codec.shouldClose() && decoders.size() < kMaxRequests) {
        start();
      }
    };
  };
  start();
  const absl::Status status = feedReads(codec, bytes, knobs.read_size, pending);
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
  if (input.size() < 2) {
    return;
  }
  const Knobs knobs = knobsFrom(static_cast<uint8_t>(input[0]));
  const Behaviour behaviour = behaviourFrom(static_cast<uint8_t>(input[1]));
  Knobs whole = knobs;
  whole.read_size = input.size();
  const absl::string_view bytes = input.substr(2);
  const absl::string_view method = (input[0] & 1) != 0 ? "HEAD" : "GET";
  // Split invariance: how the bytes are cut into reads must not change what is decoded (a
  // framing disagreement between the validator and the parser would show here first). Only for
  // behaviours that do not depend on the reads themselves (answering "after the next read",
  // pausing until then, or resetting on the first piece of body do).
  const std::string server = runServer(bytes, knobs, behaviour.server);
  const std::string server_whole = runServer(bytes, whole, behaviour.server);
  if (behaviour.server == ServerMode::Answer || behaviour.server == ServerMode::Continue ||
      behaviour.server == ServerMode::Early || behaviour.server == ServerMode::NoBody) {
    WAYSTONE_FUZZ_CHECK(server == server_whole);
  }
  const bool client_invariant =
      behaviour.client == ClientMode::Record || behaviour.client == ClientMode::Body;
  for (const absl::string_view m : {method, absl::string_view("CONNECT")}) {
    const std::string client = runClient(bytes, knobs, m, behaviour.client);
    const std::string client_whole = runClient(bytes, whole, m, behaviour.client);
    if (client_invariant) {
      WAYSTONE_FUZZ_CHECK(client == client_whole);
    }
  }
}

}  // namespace
}  // namespace waystone::http::http1

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  waystone::http::http1::fuzzOne(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef WAYSTONE_LIBFUZZER

#include <algorithm>
#include <filesystem>
#include <vector>

#include "gtest/gtest.h"

#include "test/test_common/file_util.h"
#include "test/test_common/runfiles.h"

namespace waystone::http::http1 {
namespace {

std::vector<std::filesystem::path> corpusFiles() {
  const std::filesystem::path dir = waystone::test::runfilesPath("test/common/http/http1/corpus");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Exactly what the fuzzer ran: regression inputs reproduce their finding byte for byte.
TEST(CodecFuzzTest, ReplayCorpusAsIs) {
  const std::vector<std::filesystem::path> files = corpusFiles();
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    auto bytes = waystone::test::readFile(path.string());
    ASSERT_TRUE(bytes.ok()) << path;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  }
  EXPECT_GE(files.size(), 20u);
}

// Each stream with other settings, read sizes and behaviours: the two header bytes replaced by a
// spread of values (every settings bit, read size and behaviour is reached).
TEST(CodecFuzzTest, ReplayCorpusWithEverySelectorAndBehaviour) {
  size_t runs = 0;
  for (const auto& path : corpusFiles()) {
    SCOPED_TRACE(path.filename().string());
    auto bytes = waystone::test::readFile(path.string());
    ASSERT_TRUE(bytes.ok()) << path;
    if (bytes->size() < 2) {
      continue;
    }
    std::string input = *bytes;
    for (int selector = 0; selector < 256; selector += 7) {
      input[0] = static_cast<char>(selector);
      input[1] = static_cast<char>(selector / 7);
      fuzzOne(input);
      ++runs;
    }
    input[0] = (*bytes)[0];
    for (int behaviour = 0; behaviour < 32; ++behaviour) {
      input[1] = static_cast<char>(behaviour);
      fuzzOne(input);
      ++runs;
    }
  }
  EXPECT_GE(runs, 20u * (37u + 32u));
}

}  // namespace
}  // namespace waystone::http::http1

#endif  // WAYSTONE_LIBFUZZER
