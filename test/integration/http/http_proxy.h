#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/test_common/http_client.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {

// Memory of a process from /proc/<pid>/status, in KiB.
struct ProcessMemory {
  uint64_t rss_kb = 0;   // VmRSS: resident now
  uint64_t peak_kb = 0;  // VmHWM: the most ever resident
};

// The real waystone binary running a BootstrapBuilder's bootstrap, ready to proxy: start()
// returns once the server is live and the "http" listener's bound port is known.
class HttpProxy {
 public:
  static absl::StatusOr<std::unique_ptr<HttpProxy>> start(const BootstrapBuilder& bootstrap,
                                                          int concurrency = 2);

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(absl::string_view path) const;
  // A client of the proxy listener (Host defaults to 127.0.0.1:<port>).
  HttpClient client() const { return HttpClient("127.0.0.1", port_); }

  // A counter or gauge from /stats; nullopt when absent.
  std::optional<uint64_t> stat(absl::string_view name);
  // http.<stat prefix>.<name>
  std::optional<uint64_t> httpStat(absl::string_view name);
  // cluster.<cluster>.<name>
  std::optional<uint64_t> clusterStat(absl::string_view cluster, absl::string_view name);
  // Waits until the stat is at least `value`; true if it got there before the deadline.
  bool waitForStat(absl::string_view name, uint64_t value,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

  absl::StatusOr<ProcessMemory> memory() const;

  WaystoneProcess& process() { return *process_; }

 private:
  HttpProxy() = default;

  std::unique_ptr<WaystoneProcess> process_;
  std::string stat_prefix_;
  uint16_t port_ = 0;
};

}  // namespace waystone::test
