#include "source/common/router/hash_util.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace waystone::router {
namespace {

// Reference values of XXH64 (the published test vectors and Envoy's HashUtil tests). Any
// change here would move every consistent-hash key to another host.
TEST(HashUtilTest, KnownVectors) {
  EXPECT_EQ(0xEF46DB3751D8E999ULL, HashUtil::xxHash64(""));
  EXPECT_EQ(0xD24EC4F1A98C6E5BULL, HashUtil::xxHash64("a"));
  EXPECT_EQ(0x44BC2CF5AD770999ULL, HashUtil::xxHash64("abc"));
  EXPECT_EQ(3728699739546630719ULL, HashUtil::xxHash64("foo"));
  EXPECT_EQ(5234164152756840025ULL, HashUtil::xxHash64("bar"));
  // 39 bytes: the 32-byte stripe loop plus 4-byte and 1-byte tails.
  EXPECT_EQ(0xFBCEA83C8A378BF1ULL, HashUtil::xxHash64("Nobody inspects the spammish repetition"));
  EXPECT_EQ(0xB559B98D844E0635ULL, HashUtil::xxHash64("xxhash", 20141025));
}

TEST(HashUtilTest, SeedAndInputMatter) {
  EXPECT_NE(HashUtil::xxHash64("foo", 0), HashUtil::xxHash64("foo", 1));
  EXPECT_NE(HashUtil::xxHash64("foo"), HashUtil::xxHash64("fop"));
  const std::string long_input(1000, 'x');
  EXPECT_EQ(HashUtil::xxHash64(long_input), HashUtil::xxHash64(std::string(1000, 'x')));
  EXPECT_NE(HashUtil::xxHash64(long_input), HashUtil::xxHash64(long_input.substr(1)));
}

TEST(HashUtilTest, SpanChainsSeeds) {
  const std::vector<absl::string_view> values = {"foo", "bar"};
  EXPECT_EQ(HashUtil::xxHash64("bar", HashUtil::xxHash64("foo")), HashUtil::xxHash64(values));
  const std::vector<absl::string_view> reversed = {"bar", "foo"};
  EXPECT_NE(HashUtil::xxHash64(values), HashUtil::xxHash64(reversed));
}

}  // namespace
}  // namespace waystone::router
