#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <sys/un.h>

#include "test/test_common/file_descriptor.h"

namespace waystone::test {

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it back, close),
// or 0 on failure. Racy by nature: another process may take the port before the caller binds it.
// Prefer binding port 0 and reading back the bound address (TestHttpServer does; Waystone writes
// its admin address to --admin-address-path). Use this only where a fixed port must be written
// into a configuration before the process that binds it starts.
uint16_t findFreeTcpPort();

struct HostPort {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
};

// Parses "127.0.0.1:1234", "localhost:80" or "[::1]:1234" (surrounding whitespace, such as the
// trailing newline of an address file, is ignored).
absl::StatusOr<HostPort> parseHostPort(absl::string_view address);

// "host:port", with brackets around an IPv6 host.
std::string formatHostPort(absl::string_view host, uint16_t port);

// Fills `addr` for the unix socket `path`. A path too long for sun_path (108 bytes; a deep
// $TEST_TMPDIR easily exceeds it) is reached as /proc/self/fd/<fd>/<name> through its directory,
// opened into `dir_holder`, which must stay open until bind() or connect() returns.
absl::Status unixSocketAddress(const std::string& path, struct sockaddr_un& addr,
                               FileDescriptor& dir_holder);

// Blocking connects with a deadline. The returned socket is in blocking mode with CLOEXEC set.
absl::StatusOr<FileDescriptor> connectTcp(const std::string& host, uint16_t port,
                                          std::chrono::milliseconds timeout);
absl::StatusOr<FileDescriptor> connectUnix(const std::string& path,
                                           std::chrono::milliseconds timeout);

// Writes all of `data`, failing on error or when `timeout` passes. Never raises SIGPIPE.
absl::Status sendAll(int fd, absl::string_view data, std::chrono::milliseconds timeout);

// Reads whatever is available within `timeout` (at most `max_bytes`). An empty result means the
// peer closed the connection; a timeout is DeadlineExceeded.
absl::StatusOr<std::string> receiveSome(int fd, std::chrono::milliseconds timeout,
                                        size_t max_bytes = 65536);

}  // namespace waystone::test
