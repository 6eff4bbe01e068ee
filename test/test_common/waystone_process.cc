#include "test/test_common/waystone_process.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/test_common/file_util.h"
#include "test/test_common/http_client.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {

absl::StatusOr<std::unique_ptr<WaystoneProcess>> WaystoneProcess::start(WaystoneOptions options) {
  std::unique_ptr<WaystoneProcess> waystone(new WaystoneProcess());
  waystone->config_path_ = waystone->temp_dir_.file("bootstrap.yaml");
  const std::string admin_address_path = waystone->temp_dir_.file("admin_address");
  if (absl::Status status = writeFile(waystone->config_path_, options.bootstrap_yaml);
      !status.ok()) {
    return status;
  }
  const std::string binary =
      options.binary_path.empty() ? runfilesPath("source/exe/waystone") : options.binary_path;
  std::vector<std::string> argv = {binary,
                                   "-c",
                                   waystone->config_path_,
                                   "--admin-address-path",
                                   admin_address_path,
                                   "--concurrency",
                                   std::to_string(options.concurrency)};
  // Tests do not wait for drains unless they ask for one (flags may be given only once).
  if (std::find(options.extra_args.begin(), options.extra_args.end(), "--drain-time-s") ==
      options.extra_args.end()) {
    argv.insert(argv.end(), {"--drain-time-s", "0"});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::start(std::move(argv), std::move(options.env));
  if (!process.ok()) {
    return process.status();
  }
  waystone->process_ = std::move(*process);

  // The address is complete once it parses: the binary may create the file before writing it.
  std::optional<HostPort> admin;
  std::string last_contents;
  waitFor(
      [&] {
        absl::StatusOr<std::string> contents = readFile(admin_address_path);
        if (contents.ok()) {
          last_contents = *contents;
          absl::StatusOr<HostPort> parsed = parseHostPort(*contents);
          if (parsed.ok()) {
            admin = *std::move(parsed);
            return true;
          }
        }
        return !waystone->process_->running();
      },
      options.startup_timeout);
  if (!admin.has_value()) {
    std::string reason;
    if (std::optional<int> status = waystone->process_->exitStatus(); status.has_value()) {
      reason = absl::StrCat("waystone exited with status ", *status, " before writing ",
                            admin_address_path);
    } else if (!last_contents.empty()) {
      reason = absl::StrCat("unparseable admin address '", last_contents, "'");
    } else {
      reason = absl::StrCat("no admin address in ", admin_address_path, " after ",
                            options.startup_timeout.count(), " ms");
    }
    return absl::UnavailableError(absl::StrCat(reason, "\n", waystone->logs()));
  }
  waystone->admin_host_ = admin->host;
  waystone->admin_port_ = admin->port;
  return waystone;
}

WaystoneProcess::~WaystoneProcess() {
  if (::testing::Test::HasFailure()) {
    ::fprintf(stderr, "%s\n", logs().c_str());
  }
}

absl::StatusOr<HttpResponse> WaystoneProcess::admin(absl::string_view method,
                                                    absl::string_view path,
                                                    std::chrono::milliseconds timeout) {
  HttpClient client(admin_host_, admin_port_);
  return client.request(method, path, {}, "", timeout);
}

bool WaystoneProcess::waitReady(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  return waitFor(
             [&] {
               if (!process_->running()) {
                 return true;  // stop waiting; reported as not ready below
               }
               const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                   deadline - std::chrono::steady_clock::now());
               absl::StatusOr<HttpResponse> response =
                   admin("GET", "/ready", std::max(left, std::chrono::milliseconds(1)));
               return response.ok() && response->status == 200;
             },
             timeout) &&
         process_->running();
}

std::optional<int> WaystoneProcess::stop(std::chrono::milliseconds timeout) {
  if (std::optional<int> status = process_->exitStatus(); status.has_value()) {
    return status;
  }
  if (!process_->signal(SIGTERM).ok()) {
    // It exited between the check and the signal.
    return process_->waitForExit(timeout);
  }
  if (std::optional<int> status = process_->waitForExit(timeout); status.has_value()) {
    return status;
  }
  process_->signal(SIGKILL).IgnoreError();
  process_->waitForExit(timeout);
  return std::nullopt;
}

std::string WaystoneProcess::logs() const {
  return absl::StrCat("---- waystone (pid ", process_->pid(), ") stdout ----\n",
                      process_->stdoutContents(), "---- waystone stderr ----\n",
                      process_->stderrContents(), "---- end of waystone output ----");
}

}  // namespace waystone::test
