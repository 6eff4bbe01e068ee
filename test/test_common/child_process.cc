#include "test/test_common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test/test_common/file_descriptor.h"
#include "test/test_common/file_util.h"

extern char** environ;

namespace waystone::test {
namespace {

// Resolved in the parent: after fork() in a multi-threaded process the child may only call
// async-signal-safe functions, so the $PATH search (which allocates) cannot happen there.
absl::StatusOr<std::string> resolveProgram(const std::string& program) {
  if (program.empty()) {
    return absl::InvalidArgumentError("empty program name");
  }
  if (program.find('/') != std::string::npos) {
    return program;
  }
  const char* path = ::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat("'", program, "' not found in $PATH"));
}

std::vector<std::string> buildEnvironment(const ChildProcess::Environment& extra_env) {
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view text(*entry);
    index[std::string(text.substr(0, text.find('=')))] = env.size();
    env.emplace_back(text);
  }
  for (const auto& [name, value] : extra_env) {
    std::string entry = absl::StrCat(name, "=", value);
    auto it = index.find(name);
    if (it != index.end()) {
      env[it->second] = std::move(entry);
    } else {
      index[name] = env.size();
      env.push_back(std::move(entry));
    }
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    result.push_back(s.data());
  }
  result.push_back(nullptr);
  return result;
}

// Reports errno to the parent through `error_fd` and ends the forked child.
[[noreturn]] void failChild(int error_fd) {
  const int error = errno;
  ssize_t ignored = ::write(error_fd, &error, sizeof(error));
  (void)ignored;
  ::_exit(127);
}

// Runs in the forked child: only async-signal-safe calls until execve. Reports a failure as the
// errno value over `error_fd` and exits 127.
[[noreturn]] void execChild(pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd, int error_fd,
                            const char* program, char* const* argv, char* const* envp) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    failChild(error_fd);
  }
  // The parent may have died between fork() and prctl(): then no signal will ever come.
  if (::getppid() != parent) {
    ::_exit(127);
  }
  if (::setpgid(0, 0) != 0) {
    failChild(error_fd);
  }
  // Ignored signals and the signal mask survive execve; give the program a clean slate.
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      ::sigaction(sig, &default_action, nullptr);
    }
  }
  if (::dup2(stdin_fd, STDIN_FILENO) < 0 || ::dup2(stdout_fd, STDOUT_FILENO) < 0 ||
      ::dup2(stderr_fd, STDERR_FILENO) < 0) {
    failChild(error_fd);
  }
  ::execve(program, argv, envp);
  failChild(error_fd);
}

int decodeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return -WTERMSIG(status);
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::start(std::vector<std::string> argv,
                                                                  Environment extra_env) {
  if (argv.empty()) {
    return absl::InvalidArgumentError("ChildProcess needs at least argv[0]");
  }
  absl::StatusOr<std::string> program = resolveProgram(argv[0]);
  if (!program.ok()) {
    return program.status();
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->stdout_path_ = child->temp_dir_.file("stdout");
  child->stderr_path_ = child->temp_dir_.file("stderr");

  // Everything the child needs is prepared before fork(). All descriptors are CLOEXEC; dup2()
  // clears the flag on the copies that become 0, 1 and 2.
  FileDescriptor stdin_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  FileDescriptor stdout_fd(
      ::open(child->stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  FileDescriptor stderr_fd(
      ::open(child->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!stdin_fd.valid() || !stdout_fd.valid() || !stderr_fd.valid()) {
    return absl::ErrnoToStatus(errno, "opening the child's standard streams");
  }
  // execve() closes the write end on success; otherwise the child writes its errno into it.
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  FileDescriptor error_read(error_pipe[0]);
  FileDescriptor error_write(error_pipe[1]);

  std::vector<std::string> env = buildEnvironment(extra_env);
  std::vector<char*> argv_ptrs = pointers(argv);
  std::vector<char*> env_ptrs = pointers(env);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    return absl::ErrnoToStatus(errno, "fork");
  }
  if (pid == 0) {
    execChild(parent, stdin_fd.get(), stdout_fd.get(), stderr_fd.get(), error_write.get(),
              program->c_str(), argv_ptrs.data(), env_ptrs.data());
  }
  child->pid_ = pid;
  error_write.reset();

  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    // The destructor reaps the failed child.
    return absl::ErrnoToStatus(child_errno, absl::StrCat("cannot execute ", *program));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) {
    return;
  }
  // The whole group: a shell's children must not outlive the test either. A group whose members
  // have all exited gives ESRCH, which is fine.
  ::kill(-pid_, SIGKILL);
  if (!exit_status_.has_value()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

absl::Status ChildProcess::signal(int signal) {
  if (exit_status_.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat("process ", pid_, " has already exited"));
  }
  if (::kill(pid_, signal) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("kill(", pid_, ", ", signal, ")"));
  }
  return absl::OkStatus();
}

bool ChildProcess::reap() {
  if (exit_status_.has_value()) {
    return true;
  }
  int status = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid_, &status, WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == pid_) {
    exit_status_ = decodeWaitStatus(status);
    return true;
  }
  return false;
}

std::optional<int> ChildProcess::waitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    // Short polls: waitpid has no timeout, and SIGCHLD handling would interfere with the test.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return exit_status_;
}

bool ChildProcess::running() { return !reap(); }

std::string ChildProcess::stdoutContents() const {
  absl::StatusOr<std::string> contents = readFile(stdout_path_);
  return contents.ok() ? *std::move(contents) : std::string();
}

std::string ChildProcess::stderrContents() const {
  absl::StatusOr<std::string> contents = readFile(stderr_path_);
  return contents.ok() ? *std::move(contents) : std::string();
}

}  // namespace waystone::test
