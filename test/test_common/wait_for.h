#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace waystone::test {

// Polls `condition` every `poll_interval` until it returns true (-> true) or `timeout` passes
// (-> false). The condition is evaluated once more at the deadline, so a zero timeout still checks
// it once. This is a wait with a deadline for a state change in another thread or process, not a
// fixed sleep: it returns as soon as the condition holds.
bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll_interval = std::chrono::milliseconds(10));

// Waits until `path` exists with non-empty contents and returns them; nullopt on timeout.
std::optional<std::string> waitForFile(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace waystone::test
