// Replays client byte streams into a server codec. As a unit test it runs the seed corpus in
// corpus/ (generate_corpus.py) and checks the outcome each file's name promises. Built with
// -DWAYSTONE_FUZZER and -fsanitize=fuzzer (clang), the same replay is a libFuzzer target.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/http2/server_connection_impl.h"
#include "test/common/http/http2/codec_test_util.h"

namespace waystone::http::http2::test {
namespace {

// Feeds `input` to a fresh server codec in pieces of `chunk` bytes and answers every request
// that completes, so the send path runs too. Returns the first dispatch error.
absl::Status replay(absl::string_view input, size_t chunk) {
  TestTransport transport(64 * 1024);
  TestServerCallbacks callbacks;
  callbacks.on_new_stream = [](TestRequestDecoder& request) {
    request.on_end = [](TestRequestDecoder& r) {
      if (r.reset) {
        return;
      }
      r.encoder().encodeHeaders(responseHeaders("200"), false);
      buffer::OwnedImpl body(r.body.empty() ? "empty" : r.body);
      r.encoder().encodeData(body, false);
      HeaderMap trailers;
      trailers.addCopy("x-done", "1");
      r.encoder().encodeTrailers(trailers);
    };
  };
  TestDeferredDeleter deleter;
  CodecRuntime runtime;
  runtime.deferred_delete = deleter.callback();
  HeaderLimits limits;
  limits.max_headers_count = 50;
  ServerConnectionImpl server(transport, callbacks, {}, limits, std::move(runtime));
  absl::Status status;
  for (size_t offset = 0; offset < input.size() && status.ok(); offset += chunk) {
    buffer::OwnedImpl bytes(input.substr(offset, chunk));
    status = server.dispatch(bytes);
    transport.takeOutput();  // the peer reads
    deleter.freeAll();
  }
  return status;
}

}  // namespace
}  // namespace waystone::http::http2::test

#ifdef WAYSTONE_FUZZER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  waystone::http::http2::test::replay(input, size == 0 ? 1 : size);
  waystone::http::http2::test::replay(input, 13);
  return 0;
}

#else

#include <filesystem>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "source/common/http/codec.h"
#include "test/test_common/file_util.h"
#include "test/test_common/runfiles.h"

namespace waystone::http::http2::test {
namespace {

std::vector<std::filesystem::path> corpusFiles() {
  const std::filesystem::path dir =
      waystone::test::runfilesPath("test/common/http/http2/corpus/valid_get.bin");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.parent_path())) {
    if (entry.path().extension() == ".bin") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const std::filesystem::path& path) {
  auto contents = waystone::test::readFile(path.string());
  EXPECT_TRUE(contents.ok()) << path;
  return contents.ok() ? *contents : std::string();
}

TEST(FrameReplayTest, CorpusOutcomesMatchTheirNames) {
  const std::vector<std::filesystem::path> files = corpusFiles();
  ASSERT_GE(files.size(), 15u);
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::string input = readFile(path);
    ASSERT_FALSE(input.empty()) << name;
    const absl::Status status = replay(input, input.size());
    if (absl::StartsWith(name, "valid_")) {
      EXPECT_TRUE(status.ok()) << name << ": " << status;
    } else if (absl::StartsWith(name, "bad_")) {
      EXPECT_TRUE(isCodecProtocolError(status)) << name << ": " << status;
    } else if (absl::StartsWith(name, "flood_")) {
      EXPECT_TRUE(isBufferFloodError(status)) << name << ": " << status;
    } else {
      ADD_FAILURE() << "corpus file without an outcome prefix: " << name;
    }
  }
}

// Frames split at every odd boundary: partial headers, partial payloads, partial preface.
TEST(FrameReplayTest, CorpusInSmallPiecesKeepsTheOutcomeOfValidAndBadInputs) {
  for (const auto& path : corpusFiles()) {
    const std::string name = path.filename().string();
    const std::string input = readFile(path);
    for (size_t chunk : {1, 7, 100}) {
      const absl::Status status = replay(input, chunk);
      if (absl::StartsWith(name, "valid_")) {
        EXPECT_TRUE(status.ok()) << name << " in pieces of " << chunk << ": " << status;
      } else if (absl::StartsWith(name, "bad_")) {
        EXPECT_TRUE(isCodecProtocolError(status)) << name << " in pieces of " << chunk;
      } else {
        // A flood spread over many small reads may be absorbed (the peer reads every reply);
        // what matters is that it never crashes or fails with another kind of error.
        EXPECT_TRUE(status.ok() || isBufferFloodError(status)) << name << ": " << status;
      }
    }
  }
}

TEST(FrameReplayTest, TruncatedCorpusNeverCrashes) {
  size_t replays = 0;
  for (const auto& path : corpusFiles()) {
    const std::string input = readFile(path);
    for (size_t cut = 0; cut < input.size() && cut < 400; cut += 3) {
      const absl::Status status = replay(absl::string_view(input).substr(0, cut), 64);
      EXPECT_TRUE(status.ok() || isCodecProtocolError(status) || isBufferFloodError(status));
      ++replays;
    }
  }
  EXPECT_GT(replays, 100u);
}

}  // namespace
}  // namespace waystone::http::http2::test

#endif  // WAYSTONE_FUZZER
