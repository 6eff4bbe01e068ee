#include "test/test_common/runfiles.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "test/test_common/file_util.h"

namespace waystone::test {
namespace {

TEST(RunfilesTest, FindsDataDependency) {
  const std::string path = runfilesPath("test/test_common/testdata/runfiles_probe.txt");
  EXPECT_TRUE(absl::EndsWith(path, "/waystone/test/test_common/testdata/runfiles_probe.txt"))
      << path;
  EXPECT_EQ(readFile(path).value_or(""), "runfiles probe: found\n");
}

TEST(RunfilesTest, MissingFileYieldsNonexistentPath) {
  const std::string path = runfilesPath("test/test_common/testdata/not_a_data_dependency");
  EXPECT_FALSE(path.empty());
  EXPECT_FALSE(fileExists(path));
}

}  // namespace
}  // namespace waystone::test
