#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace waystone::test {

// Absolute path of a data dependency of the running test, given its path relative to the
// workspace root (e.g. "source/exe/waystone" or "test/certs/ca.pem"). Looks in
// $TEST_SRCDIR/<workspace>/, then $RUNFILES_DIR/<workspace>/, then <this binary>.runfiles/
// <workspace>/, where <workspace> is $TEST_WORKSPACE or "waystone". Returns the first candidate
// that exists; if none does, the first candidate anyway, so the caller's error names a sensible
// path. The file must be listed in the test's `data` attribute.
std::string runfilesPath(absl::string_view workspace_relative);

}  // namespace waystone::test
