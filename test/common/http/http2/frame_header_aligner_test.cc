#include "source/common/http/http2/frame_header_aligner.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

#include "test/common/http/http2/http2_frame.h"

namespace waystone::http::http2::test {
namespace {

// Feeds `input` in random pieces and checks that the sink sees every byte once, in order, and
// every frame header inside a single call.
void checkSplits(const std::string& input, size_t preface, const std::vector<size_t>& header_starts,
                 uint32_t seed) {
  std::mt19937 random(seed);
  FrameHeaderAligner aligner(preface);
  std::string seen;
  std::vector<std::pair<size_t, size_t>> calls;  // [begin, end) offsets of each sink call
  size_t offset = 0;
  while (offset < input.size()) {
    const size_t n = std::min<size_t>(1 + random() % 20, input.size() - offset);
    ASSERT_TRUE(
        aligner.process(absl::string_view(input).substr(offset, n), [&](absl::string_view bytes) {
          calls.push_back({seen.size(), seen.size() + bytes.size()});
          seen.append(bytes.data(), bytes.size());
          return true;
        }));
    offset += n;
  }
  EXPECT_EQ(seen, input);
  EXPECT_EQ(aligner.heldBack(), 0u);
  for (size_t start : header_starts) {
    bool whole = false;
    for (const auto& [begin, end] : calls) {
      whole |= begin <= start && start + FrameHeaderAligner::kFrameHeaderSize <= end;
    }
    EXPECT_TRUE(whole) << "frame header at " << start << " was split (seed " << seed << ")";
  }
}

TEST(FrameHeaderAlignerTest, FrameHeadersAreNeverSplit) {
  std::string input(kClientPreface);
  std::vector<size_t> header_starts;
  const std::vector<std::string> frames = {settings({{4, 65535}}),
                                           headers(1, getRequest(), kNoFlags),
                                           continuation(1, hpackBlock({{"a", "b"}}), kNoFlags),
                                           continuation(1, "", kEndHeaders),
                                           data(1, std::string(100, 'x'), kNoFlags),
                                           ping(7),
                                           data(1, "", kEndStream)};
  for (const std::string& f : frames) {
    header_starts.push_back(input.size());
    input += f;
  }
  for (uint32_t seed = 0; seed < 200; ++seed) {
    checkSplits(input, kClientPreface.size(), header_starts, seed);
  }
}

TEST(FrameHeaderAlignerTest, StopsWhenTheSinkFails) {
  FrameHeaderAligner aligner(0);
  int calls = 0;
  const std::string input = ping(1) + ping(2);
  EXPECT_FALSE(aligner.process(input.substr(0, 12), [&](absl::string_view) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

TEST(FrameHeaderAlignerTest, PartialHeaderIsHeldBack) {
  FrameHeaderAligner aligner(0);
  std::string seen;
  auto sink = [&](absl::string_view bytes) {
    seen.append(bytes.data(), bytes.size());
    return true;
  };
  const std::string f = ping(42);
  ASSERT_TRUE(aligner.process(f.substr(0, 5), sink));
  EXPECT_EQ(seen, "");
  EXPECT_EQ(aligner.heldBack(), 5u);
  ASSERT_TRUE(aligner.process(f.substr(5), sink));
  EXPECT_EQ(seen, f);
}

}  // namespace
}  // namespace waystone::http::http2::test
