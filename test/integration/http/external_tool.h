#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "test/test_common/child_process.h"

namespace waystone::test {

// The outcome of one run of a program we did not write (curl, nghttp, h2load, python3).
struct ToolResult {
  int exit_status = 0;  // exit code, or -N when killed by signal N
  std::string out;
  std::string err;

  // "exit N", then both outputs: for failure messages.
  std::string describe() const;
};

// Absolute path of the program `name`, looked up in the system's directories (/usr/bin,
// /usr/sbin, /bin, /sbin, /usr/local/bin) before $PATH: tools come from Debian packages, and a
// $PATH interpreter (e.g. a pyenv python3) may lack the packaged modules such as python3-h2.
// NotFound names the tools/setup step that installs it.
absl::StatusOr<std::string> findTool(absl::string_view name);

// Runs argv to completion; argv[0] is resolved with findTool when it has no '/'. A run still
// going at the deadline is killed (with its process group) and reported as DeadlineExceeded,
// with its output so far.
absl::StatusOr<ToolResult> runTool(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                                   ChildProcess::Environment env = {});

}  // namespace waystone::test
