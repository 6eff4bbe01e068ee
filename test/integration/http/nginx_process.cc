#include "test/integration/http/nginx_process.h"

#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include <sys/stat.h>

#include "test/integration/http/external_tool.h"
#include "test/test_common/file_util.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

std::string nginxConfig(const TempDir& dir, const std::string& root, uint16_t port, bool http2) {
  return absl::StrCat(
      // One process: with a master, workers of a root nginx switch to "nobody", who cannot read
      // the test's private directories. A root nginx still chowns its temporary directories to
      // `user`, and "nobody" has no mapping in Bazel's sandbox: stay root (ignored, with a
      // warning, when the test does not run as root).
      "daemon off;\nmaster_process off;\n", ::geteuid() == 0 ? "user root;\n" : "", "error_log ",
      dir.file("error.log"), " info;\n",               //
      "pid ", dir.file("nginx.pid"), ";\n",            //
      "events { worker_connections 1024; }\n",         //
      "http {\n",                                      //
      "  access_log ", dir.file("access.log"), ";\n",  //
      "  client_body_temp_path ", dir.file("client_body"), ";\n", "  proxy_temp_path ",
      dir.file("proxy"), ";\n",                                                               //
      "  fastcgi_temp_path ", dir.file("fastcgi"), ";\n",                                     //
      "  uwsgi_temp_path ", dir.file("uwsgi"), ";\n",                                         //
      "  scgi_temp_path ", dir.file("scgi"), ";\n",                                           //
      "  default_type application/octet-stream;\n",                                           //
      "  sendfile on;\n",                                                                     //
      "  keepalive_requests 100000;\n",                                                       //
      "  keepalive_timeout 60s;\n",                                                           //
      "  server {\n",                                                                         //
      "    listen 127.0.0.1:", port, http2 ? " http2" : "", ";\n", "    root ", root, ";\n",  //
      "  }\n",                                                                                //
      "}\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<NginxProcess>> NginxProcess::start(const std::string& root,
                                                                  bool http2) {
  absl::StatusOr<std::string> binary = findTool("nginx");
  if (!binary.ok()) {
    return binary.status();
  }
  absl::Status last_error = absl::UnknownError("nginx did not start");
  // The port is chosen before nginx binds it: another process may take it meanwhile, so try again
  // with a new one if nginx cannot bind.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<NginxProcess> nginx(new NginxProcess());
    const TempDir& dir = nginx->temp_dir_;
    nginx->port_ = findFreeTcpPort();
    if (nginx->port_ == 0) {
      return absl::UnavailableError("no free TCP port for nginx");
    }
    const std::string config = dir.file("nginx.conf");
    if (absl::Status status = writeFile(config, nginxConfig(dir, root, nginx->port_, http2));
        !status.ok()) {
      return status;
    }
    auto process =
        ChildProcess::start({*binary, "-c", config, "-p", dir.path(), "-e", dir.file("error.log")});
    if (!process.ok()) {
      return process.status();
    }
    nginx->process_ = std::move(*process);
    const bool up = waitFor(
        [&] {
          return !nginx->process_->running() ||
                 connectTcp("127.0.0.1", nginx->port_, std::chrono::milliseconds(200)).ok();
        },
        std::chrono::seconds(10), std::chrono::milliseconds(10));
    if (up && nginx->process_->running()) {
      return nginx;
    }
    last_error = absl::UnavailableError(absl::StrCat("nginx did not start\n", nginx->logs()));
  }
  return last_error;
}

std::optional<int> NginxProcess::stop(std::chrono::milliseconds timeout) {
  if (std::optional<int> status = process_->exitStatus(); status.has_value()) {
    return status;
  }
  if (!process_->signal(SIGQUIT).ok()) {
    return process_->waitForExit(timeout);
  }
  return process_->waitForExit(timeout);
}

std::string NginxProcess::logs() const {
  auto read = [](const std::string& path) {
    absl::StatusOr<std::string> contents = readFile(path);
    return contents.ok() ? *contents : std::string("(none)");
  };
  return absl::StrCat("---- nginx error.log ----\n", read(temp_dir_.file("error.log")),
                      "---- nginx access.log ----\n", read(temp_dir_.file("access.log")),
                      "---- nginx stderr ----\n", process_ ? process_->stderrContents() : "",
                      "---- end of nginx output ----");
}

}  // namespace waystone::test
