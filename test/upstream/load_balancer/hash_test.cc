#include "source/common/common/hash.h"

#include <functional>
#include <string>

#include "gtest/gtest.h"

namespace waystone::upstream::lb {
namespace {

// Reference values from the xxHash project's own library (libxxhash 0.8.1, XXH64), covering
// the short path (< 32 bytes: 8-, 4- and 1-byte tails) and the 32-byte stripe path.
TEST(HashTest, XxHash64MatchesReferenceImplementation) {
  EXPECT_EQ(xxHash64(""), 0xef46db3751d8e999ULL);
  EXPECT_EQ(xxHash64("a"), 0xd24ec4f1a98c6e5bULL);
  EXPECT_EQ(xxHash64("abc"), 0x44bc2cf5ad770999ULL);
  EXPECT_EQ(xxHash64("127.0.0.1:80"), 0x20e2606e5305da5bULL);
  EXPECT_EQ(xxHash64("127.0.0.1:80_0"), 0x4bb2f57cda42c065ULL);
  EXPECT_EQ(xxHash64("The quick brown fox jumps over the lazy dog"), 0x0b242d361fda71bcULL);
  EXPECT_EQ(xxHash64("0123456789012345678901234567890123456789"), 0xca6fc80cbde1a931ULL);
}

TEST(HashTest, XxHash64SeedMatchesReferenceImplementation) {
  // Maglev hashes each host with seeds 0 and 1.
  EXPECT_EQ(xxHash64("", 1), 0xd5afba1336a3be4bULL);
  EXPECT_EQ(xxHash64("abc", 1), 0xbea9ca8199328908ULL);
  EXPECT_EQ(xxHash64("127.0.0.1:80", 1), 0x2abcf391f7de5a34ULL);
  EXPECT_EQ(xxHash64("0123456789012345678901234567890123456789", 1), 0xfdf9f1885f3fb7f9ULL);
}

TEST(HashTest, XxHash64ReadsOnlyTheGivenBytes) {
  const std::string text = "127.0.0.1:80_0 trailing";
  EXPECT_EQ(xxHash64(absl::string_view(text).substr(0, 14)), 0x4bb2f57cda42c065ULL);
}

// libstdc++'s std::hash<std::string> is the same MurmurHash2-64A with the same seed on 64-bit
// targets: an independent implementation to compare against, for every tail length.
TEST(HashTest, MurmurHash2MatchesLibstdcxxStdHash) {
  static_assert(sizeof(size_t) == 8, "the comparison needs 64-bit size_t");
  std::string input;
  for (int length = 0; length <= 40; ++length) {
    EXPECT_EQ(murmurHash2(input), std::hash<std::string>{}(input)) << "length " << length;
    input.push_back(static_cast<char>('a' + length % 26 + (length % 3 == 0 ? 128 : 0)));
  }
}

TEST(HashTest, MurmurHash2SeedChangesResult) {
  EXPECT_NE(murmurHash2("10.0.0.1:80_0", kStdHashSeed), murmurHash2("10.0.0.1:80_0", 0));
}

}  // namespace
}  // namespace waystone::upstream::lb
