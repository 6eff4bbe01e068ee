#include "test/integration/http/external_tool.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace waystone::test {

std::string ToolResult::describe() const {
  return absl::StrCat("exit ", exit_status, "\n---- stdout ----\n", out, "\n---- stderr ----\n",
                      err, "\n---- end ----");
}

absl::StatusOr<std::string> findTool(absl::string_view name) {
  std::vector<std::string> directories = {"/usr/bin", "/usr/sbin", "/bin", "/sbin",
                                          "/usr/local/bin"};
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    for (absl::string_view directory : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      directories.emplace_back(directory);
    }
  }
  for (const std::string& directory : directories) {
    const std::string candidate = absl::StrCat(directory, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat("'", name, "' is not installed (looked in ",
                                          absl::StrJoin(directories, ":"),
                                          "); tools/setup installs the test peers"));
}

absl::StatusOr<ToolResult> runTool(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                                   ChildProcess::Environment env) {
  if (argv.empty()) {
    return absl::InvalidArgumentError("runTool: empty argv");
  }
  if (argv[0].find('/') == std::string::npos) {
    absl::StatusOr<std::string> path = findTool(argv[0]);
    if (!path.ok()) {
      return path.status();
    }
    argv[0] = *path;
  }
  const std::string command = absl::StrJoin(argv, " ");
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::start(std::move(argv), std::move(env));
  if (!child.ok()) {
    return child.status();
  }
  std::optional<int> status = (*child)->waitForExit(timeout);
  ToolResult result;
  result.out = (*child)->stdoutContents();
  result.err = (*child)->stderrContents();
  if (!status.has_value()) {
    // The ChildProcess destructor kills the process group.
    return absl::DeadlineExceededError(absl::StrCat("'", command, "' still running after ",
                                                    timeout.count(), " ms\n", result.describe()));
  }
  result.exit_status = *status;
  return result;
}

}  // namespace waystone::test
