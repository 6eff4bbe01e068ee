#include "test/test_common/temp_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include <sys/stat.h>

#include "test/test_common/file_util.h"

namespace waystone::test {
namespace {

TEST(TempDirTest, CreatesUniqueDirectoryUnderTestTmpdir) {
  TempDir a;
  TempDir b;
  EXPECT_NE(a.path(), b.path());
  struct stat st;
  ASSERT_EQ(::stat(a.path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  const char* test_tmpdir = ::getenv("TEST_TMPDIR");
  ASSERT_NE(test_tmpdir, nullptr);  // always set by `bazel test`
  EXPECT_TRUE(absl::StartsWith(a.path(), std::string(test_tmpdir) + "/")) << a.path();
  EXPECT_EQ(a.file("x.txt"), a.path() + "/x.txt");
}

TEST(TempDirTest, ForUnixSocketsIsShortAndRemoved) {
  std::string path;
  {
    TempDir dir = TempDir::forUnixSockets();
    path = dir.path();
    EXPECT_TRUE(absl::StartsWith(path, "/tmp/waystone_test_")) << path;
    EXPECT_LT(dir.file("admin.sock").size(), 107u);
    EXPECT_TRUE(fileExists(path));
  }
  EXPECT_FALSE(fileExists(path));
}

TEST(TempDirTest, DestructorRemovesNestedContents) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_TRUE(writeFile(dir.file("top.txt"), "top").ok());
    ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dir.file("sub/deeper").c_str(), 0755), 0);
    ASSERT_TRUE(writeFile(dir.file("sub/deeper/leaf.txt"), "leaf").ok());
    // A symlink pointing outside must be removed without touching its target.
    ASSERT_EQ(::symlink("/etc/hostname", dir.file("sub/link").c_str()), 0);
    ASSERT_TRUE(fileExists(dir.file("sub/deeper/leaf.txt")));
  }
  EXPECT_FALSE(fileExists(path));
}

TEST(TempDirTest, MovedFromDirectoryOwnsNothing) {
  std::string path;
  {
    TempDir outer;
    {
      TempDir inner;
      path = inner.path();
      outer = std::move(inner);
    }
    // `inner` is gone but the directory now belongs to `outer`.
    EXPECT_EQ(outer.path(), path);
    EXPECT_TRUE(fileExists(path));
  }
  EXPECT_FALSE(fileExists(path));
}

TEST(FileUtilTest, WriteThenReadRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("data.bin");
  std::string contents = "line one\nline two\n";
  contents.push_back('\0');
  contents.append(100000, 'x');
  ASSERT_TRUE(writeFile(path, contents).ok());
  absl::StatusOr<std::string> read = readFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);

  // Overwrite replaces, and the mode is applied exactly.
  ASSERT_TRUE(writeFile(path, "short", 0700).ok());
  EXPECT_EQ(readFile(path).value_or(""), "short");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(FileUtilTest, ErrorsAreStatuses) {
  TempDir dir;
  absl::StatusOr<std::string> missing = readFile(dir.file("missing"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(writeFile(dir.file("no/such/dir/file"), "x").ok());
  EXPECT_FALSE(fileExists(dir.file("missing")));
}

}  // namespace
}  // namespace waystone::test
