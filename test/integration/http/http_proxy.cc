#include "test/integration/http/http_proxy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "re2/re2.h"

#include "test/integration/integration_util.h"
#include "test/test_common/file_util.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {

absl::StatusOr<std::unique_ptr<HttpProxy>> HttpProxy::start(const BootstrapBuilder& bootstrap,
                                                            int concurrency) {
  WaystoneOptions options;
  options.bootstrap_yaml = bootstrap.build();
  options.concurrency = concurrency;
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan, freed memory sits in a quarantine (256 MiB by default), which would hide how
  // much the proxy really keeps: turn it off so memory bounds stay measurable.
  options.env.emplace_back("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:quarantine_size_mb=0");
#endif
  absl::StatusOr<std::unique_ptr<WaystoneProcess>> process =
      WaystoneProcess::start(std::move(options));
  if (!process.ok()) {
    return process.status();
  }
  std::unique_ptr<HttpProxy> proxy(new HttpProxy());
  proxy->process_ = std::move(*process);
  proxy->stat_prefix_ = bootstrap.statPrefix();
  if (!proxy->process_->waitReady(std::chrono::seconds(30))) {
    return absl::UnavailableError(
        absl::StrCat("waystone did not become ready\n", proxy->process_->logs()));
  }
  absl::StatusOr<uint16_t> port = listenerPort(*proxy->process_, "http");
  if (!port.ok()) {
    return absl::Status(port.status().code(),
                        absl::StrCat(port.status().message(), "\n", proxy->process_->logs()));
  }
  proxy->port_ = *port;
  return proxy;
}

std::string HttpProxy::url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

std::optional<uint64_t> HttpProxy::stat(absl::string_view name) {
  return statValue(*process_, name);
}

std::optional<uint64_t> HttpProxy::httpStat(absl::string_view name) {
  return stat(absl::StrCat("http.", stat_prefix_, ".", name));
}

std::optional<uint64_t> HttpProxy::clusterStat(absl::string_view cluster, absl::string_view name) {
  return stat(absl::StrCat("cluster.", cluster, ".", name));
}

bool HttpProxy::waitForStat(absl::string_view name, uint64_t value,
                            std::chrono::milliseconds timeout) {
  return waitFor(
      [&] {
        const std::optional<uint64_t> current = stat(name);
        return current.has_value() && *current >= value;
      },
      timeout, std::chrono::milliseconds(20));
}

absl::StatusOr<ProcessMemory> HttpProxy::memory() const {
  absl::StatusOr<std::string> status =
      readFile(absl::StrCat("/proc/", process_->process().pid(), "/status"));
  if (!status.ok()) {
    return status.status();
  }
  ProcessMemory memory;
  bool have_rss = false;
  bool have_peak = false;
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    uint64_t* field = nullptr;
    if (absl::ConsumePrefix(&line, "VmRSS:")) {
      field = &memory.rss_kb;
      have_rss = true;
    } else if (absl::ConsumePrefix(&line, "VmHWM:")) {
      field = &memory.peak_kb;
      have_peak = true;
    } else {
      continue;
    }
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, "kB");
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), field)) {
      return absl::InternalError(absl::StrCat("unparseable /proc status line: ", line));
    }
  }
  if (!have_rss || !have_peak) {
    return absl::InternalError("no VmRSS/VmHWM in /proc/<pid>/status");
  }
  return memory;
}

}  // namespace waystone::test
