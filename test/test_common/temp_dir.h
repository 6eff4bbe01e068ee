#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace waystone::test {

// A fresh directory created with mkdtemp() under $TEST_TMPDIR (set by `bazel test`), or /tmp
// outside Bazel. The destructor removes it recursively, so tests never leave files behind.
// Creation failure aborts: a test cannot do anything useful without its scratch directory.
class TempDir {
 public:
  TempDir();
  ~TempDir();

  // A directory directly under /tmp, for unix socket paths handed to another program: sun_path
  // holds at most 107 bytes and $TEST_TMPDIR is often deeper than that. (The helpers of this
  // library cope with long socket paths themselves; see unixSocketAddress.)
  static TempDir forUnixSockets();

  // Movable so that owners (ChildProcess, WaystoneProcess) can hold one by value; a moved-from
  // TempDir owns nothing and removes nothing.
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path of the directory, without a trailing slash.
  const std::string& path() const { return path_; }

  // path() + "/" + name. Does not create anything.
  std::string file(absl::string_view name) const;

 private:
  explicit TempDir(const std::string& parent);
  void remove();

  std::string path_;
};

}  // namespace waystone::test
