#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <sys/types.h>

#include "test/test_common/temp_dir.h"

namespace waystone::test {

// A child process for tests: fork + execve, stdin from /dev/null, stdout and stderr into files of
// a private TempDir. The child leads its own process group, and gets PR_SET_PDEATHSIG(SIGKILL) so
// it dies with the test process even if the test crashes. The destructor SIGKILLs the whole
// process group (also grandchildren, e.g. of `sh -c`) and reaps the child: a failing test never
// leaks processes.
//
// Note: the Linux parent-death signal fires when the *thread* that started the child exits, so
// start children from the test's own thread, not from a short-lived helper thread.
//
// Not thread-safe: use one ChildProcess from one thread.
class ChildProcess {
 public:
  using Environment = std::vector<std::pair<std::string, std::string>>;

  // Starts argv[0] (searched in $PATH when it has no '/') with the test's environment plus
  // `extra_env` (which overrides variables of the same name). Fails if the program cannot be
  // executed.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> start(std::vector<std::string> argv,
                                                             Environment extra_env = {});

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Sends `signal` to the child (not its process group, so that e.g. SIGTERM exercises the
  // program's own shutdown).
  absl::Status signal(int signal);

  // Waits up to `timeout` for the child to exit. Returns its exit code, or -N if it was killed by
  // signal N; nullopt if it is still running at the deadline. Once the child has exited, every
  // call returns the same value at once.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout);

  // True until the child has exited (reaps it if it just did).
  bool running();

  // The status waitForExit() returned, if the child has been reaped.
  std::optional<int> exitStatus() const { return exit_status_; }

  const std::string& stdoutPath() const { return stdout_path_; }
  const std::string& stderrPath() const { return stderr_path_; }
  // What the child has written so far.
  std::string stdoutContents() const;
  std::string stderrContents() const;

  // Scratch directory holding the output files; also usable for the child's other files.
  const TempDir& tempDir() const { return temp_dir_; }

 private:
  ChildProcess() = default;

  // Non-blocking waitpid; records the exit status when the child has exited.
  bool reap();

  TempDir temp_dir_;
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace waystone::test
