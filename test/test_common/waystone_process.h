#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "test/test_common/child_process.h"
#include "test/test_common/http_response.h"
#include "test/test_common/temp_dir.h"

namespace waystone::test {

struct WaystoneOptions {
  // Written to <tmp>/bootstrap.yaml and passed with -c.
  std::string bootstrap_yaml;
  // Appended after the standard arguments.
  std::vector<std::string> extra_args;
  ChildProcess::Environment env;
  // Empty: runfilesPath("source/exe/waystone"); the test then needs
  // data = ["//source/exe:waystone"].
  std::string binary_path;
  int concurrency = 2;
  // How long to wait for the admin address file.
  std::chrono::milliseconds startup_timeout{30000};
};

// Runs the real waystone binary for an integration test:
//   waystone -c <tmp>/bootstrap.yaml --admin-address-path <tmp>/admin_address
//            --concurrency 2 --drain-time-s 0 <extra_args>
// (--drain-time-s 0 only when extra_args do not set it.)
// start() returns once the binary has written its admin address ("127.0.0.1:PORT", one line).
// If the test has failed by the time the object is destroyed, the process's output is printed,
// so failures explain themselves. The process is killed on destruction if still running.
class WaystoneProcess {
 public:
  static absl::StatusOr<std::unique_ptr<WaystoneProcess>> start(WaystoneOptions options);

  ~WaystoneProcess();
  WaystoneProcess(const WaystoneProcess&) = delete;
  WaystoneProcess& operator=(const WaystoneProcess&) = delete;

  const std::string& adminHost() const { return admin_host_; }
  uint16_t adminPort() const { return admin_port_; }

  // One request to the admin API on a fresh connection.
  absl::StatusOr<HttpResponse> admin(absl::string_view method, absl::string_view path,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Polls GET /ready until it answers 200; false at the deadline or if the process exits.
  bool waitReady(std::chrono::milliseconds timeout);

  // SIGTERM, then waits for the exit and returns the status (exit code, or -signal). If the
  // process does not exit in time it is SIGKILLed and nullopt is returned. Returns the recorded
  // status at once if the process had already exited.
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The process's stdout and stderr so far, labelled, for failure messages.
  std::string logs() const;

  ChildProcess& process() { return *process_; }
  const std::string& configPath() const { return config_path_; }
  // Scratch directory of this instance (bootstrap, admin address); tests may put more files here.
  const TempDir& tempDir() const { return temp_dir_; }

 private:
  WaystoneProcess() = default;

  TempDir temp_dir_;
  std::string config_path_;
  std::unique_ptr<ChildProcess> process_;
  std::string admin_host_;
  uint16_t admin_port_ = 0;
};

}  // namespace waystone::test
