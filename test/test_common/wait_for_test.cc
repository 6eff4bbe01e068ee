#include "test/test_common/wait_for.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

#include "test/test_common/file_util.h"
#include "test/test_common/temp_dir.h"

namespace waystone::test {
namespace {

TEST(WaitForTest, ReturnsTrueOnceConditionHolds) {
  std::atomic<bool> flag{false};
  std::thread setter([&] { flag = true; });
  EXPECT_TRUE(waitFor([&] { return flag.load(); }, std::chrono::seconds(10)));
  setter.join();
}

TEST(WaitForTest, ReturnsFalseAtDeadline) {
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(waitFor(
      [&] {
        ++calls;
        return false;
      },
      std::chrono::milliseconds(50)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_GE(calls, 2);  // first check and the one at the deadline
}

TEST(WaitForTest, ZeroTimeoutChecksOnce) {
  int calls = 0;
  EXPECT_TRUE(waitFor(
      [&] {
        ++calls;
        return true;
      },
      std::chrono::milliseconds(0)));
  EXPECT_EQ(calls, 1);
}

TEST(WaitForFileTest, ReturnsContentsWrittenByAnotherThread) {
  TempDir dir;
  const std::string path = dir.file("address");
  std::thread writer([&] { ASSERT_TRUE(writeFile(path, "127.0.0.1:1234\n").ok()); });
  std::optional<std::string> contents = waitForFile(path, std::chrono::seconds(10));
  writer.join();
  ASSERT_TRUE(contents.has_value());
  EXPECT_EQ(*contents, "127.0.0.1:1234\n");
}

TEST(WaitForFileTest, EmptyOrMissingFileTimesOut) {
  TempDir dir;
  EXPECT_FALSE(waitForFile(dir.file("missing"), std::chrono::milliseconds(30)).has_value());
  ASSERT_TRUE(writeFile(dir.file("empty"), "").ok());
  EXPECT_FALSE(waitForFile(dir.file("empty"), std::chrono::milliseconds(30)).has_value());
}

}  // namespace
}  // namespace waystone::test
