#include "test/test_common/wait_for.h"

#include <thread>

#include "absl/status/statusor.h"

#include "test/test_common/file_util.h"

namespace waystone::test {

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll_interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) {
      return true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(poll_interval, deadline - now));
  }
}

std::optional<std::string> waitForFile(const std::string& path, std::chrono::milliseconds timeout) {
  std::optional<std::string> result;
  waitFor(
      [&] {
        absl::StatusOr<std::string> contents = readFile(path);
        if (contents.ok() && !contents->empty()) {
          result = std::move(*contents);
          return true;
        }
        return false;
      },
      timeout);
  return result;
}

}  // namespace waystone::test
