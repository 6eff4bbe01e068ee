#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "test/test_common/child_process.h"
#include "test/test_common/temp_dir.h"

namespace waystone::test {

// nginx (Debian's nginx-light) as a backend we did not write: one process (daemon off, no master)
// serving the files of a directory on 127.0.0.1:<free port>, with its configuration, logs, pid
// file and temporary directories in a TempDir of its own.
class NginxProcess {
 public:
  // Serves the files under `root`, over HTTP/1.1, or over h2c (HTTP/2 with prior knowledge, and
  // nothing else) when `http2`. Returns once nginx accepts connections.
  static absl::StatusOr<std::unique_ptr<NginxProcess>> start(const std::string& root,
                                                             bool http2 = false);
  // Kills nginx if it is still running; stop() is the clean way.
  ~NginxProcess() = default;

  uint16_t port() const { return port_; }

  // Graceful shutdown (SIGQUIT): waits for the exit and returns its status (0 when clean), or
  // nullopt if nginx was still running at the deadline.
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Error log, access log and output so far, for failure messages.
  std::string logs() const;

 private:
  NginxProcess() = default;

  TempDir temp_dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

}  // namespace waystone::test
