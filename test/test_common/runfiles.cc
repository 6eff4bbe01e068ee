#include "test/test_common/runfiles.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"

#include "test/test_common/file_util.h"

namespace waystone::test {
namespace {

std::string env(const char* name) {
  const char* value = ::getenv(name);
  return value != nullptr ? value : "";
}

std::string selfExecutable() {
  char buffer[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

}  // namespace

std::string runfilesPath(absl::string_view workspace_relative) {
  std::string workspace = env("TEST_WORKSPACE");
  if (workspace.empty()) {
    workspace = "waystone";
  }
  std::vector<std::string> roots;
  for (const char* variable : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (std::string root = env(variable); !root.empty()) {
      roots.push_back(std::move(root));
    }
  }
  // Run outside `bazel test` (e.g. bazel-bin/test/...): the runfiles tree sits beside the binary.
  if (std::string self = selfExecutable(); !self.empty()) {
    roots.push_back(absl::StrCat(self, ".runfiles"));
  }
  std::vector<std::string> candidates;
  for (const std::string& root : roots) {
    candidates.push_back(absl::StrCat(root, "/", workspace, "/", workspace_relative));
  }
  for (const std::string& candidate : candidates) {
    if (fileExists(candidate)) {
      return candidate;
    }
  }
  return candidates.empty() ? std::string(workspace_relative) : candidates.front();
}

}  // namespace waystone::test
