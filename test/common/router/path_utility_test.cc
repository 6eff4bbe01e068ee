#include "source/common/router/path_utility.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace waystone::router {
namespace {

std::string canonical(std::string path) {
  EXPECT_TRUE(PathUtility::canonicalizePath(path)) << path;
  return path;
}

std::string normalized(std::string path, bool merge_slashes) {
  EXPECT_TRUE(PathUtility::normalizePath(path, merge_slashes)) << path;
  return path;
}

std::string merged(std::string path) {
  PathUtility::mergeSlashes(path);
  return path;
}

TEST(PathUtilityTest, RemoveQueryAndFragment) {
  EXPECT_EQ("", PathUtility::removeQueryAndFragment(""));
  EXPECT_EQ("/abc", PathUtility::removeQueryAndFragment("/abc"));
  EXPECT_EQ("/abc", PathUtility::removeQueryAndFragment("/abc?"));
  EXPECT_EQ("/abc", PathUtility::removeQueryAndFragment("/abc?a=b&c=d"));
  EXPECT_EQ("/abc", PathUtility::removeQueryAndFragment("/abc#frag?x"));
  EXPECT_EQ("/abc", PathUtility::removeQueryAndFragment("/abc?x#frag"));
}

TEST(PathUtilityTest, QueryString) {
  EXPECT_EQ("", PathUtility::queryString("/a"));
  EXPECT_EQ("x=1&y", PathUtility::queryString("/a?x=1&y"));
  EXPECT_EQ("x=1", PathUtility::queryString("/a?x=1#f"));
  EXPECT_EQ("", PathUtility::queryString("/a#f?x=1"));
}

TEST(PathUtilityTest, FindQueryParameter) {
  EXPECT_EQ("1", PathUtility::findQueryParameter("/a?x=1&y=2", "x").value());
  EXPECT_EQ("2", PathUtility::findQueryParameter("/a?x=1&y=2", "y").value());
  EXPECT_EQ("", PathUtility::findQueryParameter("/a?flag&y=2", "flag").value());
  EXPECT_EQ("", PathUtility::findQueryParameter("/a?flag=", "flag").value());
  // The first value wins and values are not decoded.
  EXPECT_EQ("a%20b", PathUtility::findQueryParameter("/a?x=a%20b&x=c", "x").value());
  EXPECT_FALSE(PathUtility::findQueryParameter("/a?x=1", "X").has_value());
  EXPECT_FALSE(PathUtility::findQueryParameter("/a", "x").has_value());
  EXPECT_FALSE(PathUtility::findQueryParameter("/a?xx=1", "x").has_value());
  EXPECT_FALSE(PathUtility::findQueryParameter("/a#?x=1", "x").has_value());
}

TEST(PathUtilityTest, AlreadyCanonicalPathsAreUnchanged) {
  for (const std::string path : {"/", "/xyz", "/x/y/z", "/x/y/", "/A/B/C", "/a?b=../c"}) {
    EXPECT_EQ(path, canonical(path));
  }
}

TEST(PathUtilityTest, DotSegments) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/a/../b", "/b"},
      {"/a/./b", "/a/b"},
      {"/a/b/../c", "/a/c"},
      {"/a/b/./c", "/a/b/c"},
      {"/a/b/..", "/a/"},
      {"/a/.", "/a/"},
      {"/..", "/"},
      {"/../a/b", "/a/b"},
      {"/./a/b", "/a/b"},
      {"/a/b/../../../../c", "/c"},  // ".." above the root stays at the root
      {"/../../..", "/"},
      {"/a/..?x=/../y", "/?x=/../y"},  // the query is not touched
      {"/a/...b/..c", "/a/...b/..c"},  // not dot segments
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(out, canonical(in)) << in;
  }
}

TEST(PathUtilityTest, PercentDecodingOfUnreservedCharacters) {
  EXPECT_EQ("/A", canonical("/%41"));
  EXPECT_EQ("/a-._~z", canonical("/a%2D%2e%5F%7ez"));
  EXPECT_EQ("/a/c", canonical("/a/b/%2E%2E/c"));
  EXPECT_EQ("/a/c", canonical("/a/b/%2e%2e/c"));
  EXPECT_EQ("/a/c", canonical("/a/b/%2E./c"));
  EXPECT_EQ("/a/b/c", canonical("/a/b/%2E/c"));
  // Reserved characters stay encoded, exactly as written.
  EXPECT_EQ("/a%2Fb", canonical("/a%2Fb"));
  EXPECT_EQ("/a/%2F%2f/c", canonical("/a/%2F%2f/c"));
  EXPECT_EQ("/%5c%25", canonical("/%5c%25"));
  EXPECT_EQ("/%c0%af", canonical("/%c0%af"));
  // "%25" decodes to '%', which is reserved: no double decoding.
  EXPECT_EQ("/%2541", canonical("/%2541"));
}

TEST(PathUtilityTest, BackslashAndEscaping) {
  EXPECT_EQ("/c", canonical("/a/..\\c"));
  EXPECT_EQ("/a/b", canonical("/a\\b"));
  EXPECT_EQ("/a%20b%22%3C%3E", canonical("/a b\"<>"));
  EXPECT_EQ("/%C3%A9", canonical("/\xc3\xa9"));
  // A '%' without two hex digits is passed through.
  EXPECT_EQ("/a%zz%4", canonical("/a%zz%4"));
}

TEST(PathUtilityTest, RelativePathGetsLeadingSlash) {
  EXPECT_EQ("/a/c", canonical("a/b/../c"));
  EXPECT_EQ("/", canonical(".."));
}

TEST(PathUtilityTest, InvalidPathsAreRejected) {
  for (std::string path : {std::string("/xyz/.%00../abc"), std::string("/xyz/%00.%00./abc"),
                           std::string("/xyz/AAAAA%%0000/abc"), std::string("/a\0b", 4)}) {
    EXPECT_FALSE(PathUtility::canonicalizePath(path)) << path;
  }
}

TEST(PathUtilityTest, MergeSlashes) {
  EXPECT_EQ("", merged(""));
  EXPECT_EQ("a/b/c", merged("a//b/c"));
  EXPECT_EQ("/a/b/c/", merged("/a//b/c/"));
  EXPECT_EQ("/a/b/c", merged("//a/b/c"));
  EXPECT_EQ("/a/b/c", merged("/a////b/c"));
  EXPECT_EQ("/a/b/c/", merged("/a/b/c//"));
  EXPECT_EQ("/a/b?a=///c", merged("/a//b?a=///c"));
  EXPECT_EQ("/a/?b", merged("//a/?b"));
}

TEST(PathUtilityTest, NormalizeWithAndWithoutMergeSlashes) {
  EXPECT_EQ("//a//b", normalized("//a//b", false));
  EXPECT_EQ("/a/b", normalized("//a//b", true));
  EXPECT_EQ("//b", normalized("//a/../b", false));
  EXPECT_EQ("/b", normalized("//a/../b", true));
  EXPECT_EQ("/a/B?q=1", normalized("/x/../a/%42?q=1#frag", true));
  // The fragment is dropped even when it is all there is after the path.
  EXPECT_EQ("/a", normalized("/a#", false));
}

TEST(PathUtilityTest, NormalizeRejects) {
  std::string path = "/a/%00";
  EXPECT_FALSE(PathUtility::normalizePath(path, true));
}

TEST(PathUtilityTest, StripFragment) {
  std::string path = "/a?b#c#d";
  PathUtility::stripFragment(path);
  EXPECT_EQ("/a?b", path);
  path = "/a";
  PathUtility::stripFragment(path);
  EXPECT_EQ("/a", path);
}

}  // namespace
}  // namespace waystone::router
