#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace waystone::test {

// Writes `contents` to `path` (created or truncated) with permission bits `mode`. The data goes to
// a sibling temporary file first and is renamed into place, so a process polling for `path` (see
// waitForFile) never observes a half-written file.
absl::Status writeFile(const std::string& path, absl::string_view contents, int mode = 0644);

// Reads the whole file.
absl::StatusOr<std::string> readFile(const std::string& path);

// True if `path` names an existing file system entry.
bool fileExists(const std::string& path);

}  // namespace waystone::test
