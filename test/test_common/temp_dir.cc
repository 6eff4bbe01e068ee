#include "test/test_common/temp_dir.h"

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "source/common/common/assert.h"

namespace waystone::test {
namespace {

int removeEntry(const char* path, const struct stat*, int, struct FTW*) {
  // Best effort: a file that vanished or cannot be removed must not stop the rest of the walk.
  ::remove(path);
  return 0;
}

std::string tempRoot() {
  const char* test_tmpdir = ::getenv("TEST_TMPDIR");
  if (test_tmpdir != nullptr && test_tmpdir[0] != '\0') {
    return test_tmpdir;
  }
  return "/tmp";
}

}  // namespace

TempDir::TempDir() : TempDir(tempRoot()) {}

TempDir TempDir::forUnixSockets() { return TempDir("/tmp"); }

TempDir::TempDir(const std::string& parent) {
  std::string templ = absl::StrCat(parent, "/waystone_test_XXXXXX");
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  const char* created = ::mkdtemp(buffer.data());
  if (created == nullptr) {
    ::fprintf(stderr, "mkdtemp(%s) failed: %s\n", templ.c_str(), ::strerror(errno));
  }
  WAYSTONE_RELEASE_ASSERT(created != nullptr, "cannot create a temporary directory");
  path_ = created;
}

TempDir::~TempDir() { remove(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

std::string TempDir::file(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

void TempDir::remove() {
  if (path_.empty()) {
    return;
  }
  // Depth-first (FTW_DEPTH) so directories are empty when removed; FTW_PHYS never follows symlinks
  // out of the directory.
  ::nftw(path_.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
  path_.clear();
}

}  // namespace waystone::test
