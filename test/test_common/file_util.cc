#include "test/test_common/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include <sys/stat.h>

#include "test/test_common/file_descriptor.h"

namespace waystone::test {
namespace {

absl::Status errnoStatus(absl::string_view what, const std::string& path, int error) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

}  // namespace

absl::Status writeFile(const std::string& path, absl::string_view contents, int mode) {
  // Unique per call so concurrent writers in one process never share a temporary file.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp_path = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter++);
  FileDescriptor fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) {
    return errnoStatus("open", tmp_path, errno);
  }
  // open() applies the umask; the caller asked for exact bits (e.g. 0755 for a script).
  if (::fchmod(fd.get(), mode) != 0) {
    const int error = errno;
    ::unlink(tmp_path.c_str());
    return errnoStatus("fchmod", tmp_path, error);
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd.get(), contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      ::unlink(tmp_path.c_str());
      return errnoStatus("write", tmp_path, error);
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd.release()) != 0) {
    const int error = errno;
    ::unlink(tmp_path.c_str());
    return errnoStatus("close", tmp_path, error);
  }
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp_path.c_str());
    return errnoStatus("rename to", path, error);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> readFile(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errnoStatus("open", path, errno);
  }
  std::string contents;
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoStatus("read", path, errno);
    }
    if (n == 0) {
      break;
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

bool fileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace waystone::test
