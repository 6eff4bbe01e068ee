#include "test/test_common/child_process.h"

#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include <sys/wait.h>

#include "test/test_common/file_util.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

constexpr std::chrono::seconds kTimeout(30);

std::unique_ptr<ChildProcess> startOrDie(std::vector<std::string> argv,
                                         ChildProcess::Environment env = {}) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::start(std::move(argv), std::move(env));
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? *std::move(child) : nullptr;
}

// True once `pid` no longer runs: gone, or a zombie waiting for some other parent to reap it.
bool processGone(pid_t pid) {
  absl::StatusOr<std::string> stat = readFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) {
    return true;
  }
  // "pid (comm) S ...": the state follows the last ')'.
  const size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z';
}

pid_t readPid(const std::string& text) {
  int pid = 0;
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) << text;
  return static_cast<pid_t>(pid);
}

TEST(ChildProcessTest, ReportsExitCode) {
  std::unique_ptr<ChildProcess> child = startOrDie({"/bin/sh", "-c", "exit 3"});
  ASSERT_NE(child, nullptr);
  EXPECT_GT(child->pid(), 0);
  EXPECT_EQ(child->waitForExit(kTimeout), std::optional<int>(3));
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->exitStatus(), std::optional<int>(3));
  // Repeated waits return the recorded status.
  EXPECT_EQ(child->waitForExit(std::chrono::milliseconds(0)), std::optional<int>(3));
  EXPECT_FALSE(child->signal(SIGTERM).ok());
}

TEST(ChildProcessTest, CapturesStdoutAndStderrSeparately) {
  std::unique_ptr<ChildProcess> child =
      startOrDie({"sh", "-c", "echo to-stdout; echo to-stderr >&2; cat"});  // $PATH lookup
  ASSERT_NE(child, nullptr);
  // stdin is /dev/null, so `cat` ends at once.
  EXPECT_EQ(child->waitForExit(kTimeout), std::optional<int>(0));
  EXPECT_EQ(child->stdoutContents(), "to-stdout\n");
  EXPECT_EQ(child->stderrContents(), "to-stderr\n");
  EXPECT_EQ(readFile(child->stdoutPath()).value_or(""), "to-stdout\n");
}

TEST(ChildProcessTest, PassesExtraEnvironment) {
  std::unique_ptr<ChildProcess> child =
      startOrDie({"/bin/sh", "-c", "printf '%s|%s|%s' \"$WAYSTONE_TEST_VAR\" \"$HOME\" \"$PATH\""},
                 {{"WAYSTONE_TEST_VAR", "value with spaces"}, {"HOME", "/custom/home"}});
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->waitForExit(kTimeout), std::optional<int>(0));
  const char* path = ::getenv("PATH");
  EXPECT_EQ(child->stdoutContents(),
            absl::StrCat("value with spaces|/custom/home|", path != nullptr ? path : ""));
}

TEST(ChildProcessTest, SignalEndsRunningChild) {
  std::unique_ptr<ChildProcess> child = startOrDie({"sleep", "30"});
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(child->running());
  EXPECT_EQ(child->waitForExit(std::chrono::milliseconds(20)), std::nullopt);
  ASSERT_TRUE(child->signal(SIGTERM).ok());
  EXPECT_EQ(child->waitForExit(kTimeout), std::optional<int>(-SIGTERM));
  EXPECT_FALSE(child->running());
}

TEST(ChildProcessTest, UnknownProgramIsAnError) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> missing =
      ChildProcess::start({"/nonexistent/program"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_FALSE(ChildProcess::start({"waystone-no-such-program"}).ok());
  EXPECT_FALSE(ChildProcess::start({}).ok());

  TempDir dir;
  ASSERT_TRUE(writeFile(dir.file("not_executable"), "#!/bin/sh\nexit 0\n", 0644).ok());
  absl::StatusOr<std::unique_ptr<ChildProcess>> denied =
      ChildProcess::start({dir.file("not_executable")});
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
}

TEST(ChildProcessTest, DestructorKillsChildAndGrandchildren) {
  TempDir dir;
  const std::string pid_file = dir.file("grandchild.pid");
  std::unique_ptr<ChildProcess> child =
      startOrDie({"/bin/sh", "-c",
                  absl::StrCat("sleep 30 & echo $! > ", pid_file, ".tmp && mv ", pid_file, ".tmp ",
                               pid_file, "; wait")});
  ASSERT_NE(child, nullptr);
  std::optional<std::string> grandchild_text = waitForFile(pid_file, kTimeout);
  ASSERT_TRUE(grandchild_text.has_value());
  const pid_t grandchild = readPid(*grandchild_text);
  const pid_t pid = child->pid();
  ASSERT_FALSE(processGone(grandchild));
  ASSERT_FALSE(processGone(pid));

  child.reset();
  // The child was reaped by the destructor; the grandchild was killed with the process group
  // (another process may still have to reap it).
  EXPECT_TRUE(processGone(pid));
  EXPECT_TRUE(waitFor([&] { return processGone(grandchild); }, kTimeout));
}

TEST(ChildProcessTest, ChildDiesWithItsParent) {
  // A helper process starts the child and then exits abruptly, skipping every destructor, as a
  // crashing test would. PR_SET_PDEATHSIG must take the child down.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::close(pipe_fds[0]);
    absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::start({"sleep", "30"});
    const pid_t pid = child.ok() ? (*child)->pid() : -1;
    ssize_t ignored = ::write(pipe_fds[1], &pid, sizeof(pid));
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  pid_t orphan = -1;
  ASSERT_EQ(::read(pipe_fds[0], &orphan, sizeof(orphan)), static_cast<ssize_t>(sizeof(orphan)));
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(helper, &status, 0), helper);
  ASSERT_GT(orphan, 0);
  EXPECT_TRUE(waitFor([&] { return processGone(orphan); }, kTimeout));
  if (!processGone(orphan)) {
    ::kill(orphan, SIGKILL);  // do not leak it when the assertion above failed
  }
}

}  // namespace
}  // namespace waystone::test
