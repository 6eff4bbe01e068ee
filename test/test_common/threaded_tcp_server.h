#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "test/test_common/file_descriptor.h"

namespace waystone::test {

// Blocking I/O on one accepted connection that gives up as soon as the server stops.
class ServerConnection {
 public:
  ServerConnection(FileDescriptor fd, int stop_fd) : fd_(std::move(fd)), stop_fd_(stop_fd) {}

  // Appends what is available to `out`. False on end of stream, error, or server stop.
  bool read(std::string& out);
  // Writes everything. False on error or server stop.
  bool write(absl::string_view data);
  // Half-close: no more writes (the peer sees end of stream).
  void shutdownWrite();

  int fd() const { return fd_.get(); }

 private:
  // Waits for `events` on the socket; false if the server is stopping.
  bool waitFor(short events);

  FileDescriptor fd_;
  int stop_fd_;
};

// Accept loop plus one thread per connection, the machinery shared by TestHttpServer and
// TestTcpEchoServer. Every thread polls an eventfd besides its socket; the destructor signals the
// eventfd and joins all threads, so a stopped server leaves no thread or socket behind.
class ThreadedTcpServer {
 public:
  using Handler = std::function<void(ServerConnection&)>;

  // Listens on 127.0.0.1 with an ephemeral port.
  static absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> listenTcp(Handler handler);
  // Listens on a unix domain socket at `path` (which must not exist yet; removed on destruction).
  static absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> listenUnix(const std::string& path,
                                                                       Handler handler);

  ~ThreadedTcpServer();
  ThreadedTcpServer(const ThreadedTcpServer&) = delete;
  ThreadedTcpServer& operator=(const ThreadedTcpServer&) = delete;

  // The bound port (0 for a unix socket).
  uint16_t port() const { return port_; }
  uint64_t connectionCount() const { return connection_count_.load(); }

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  ThreadedTcpServer(FileDescriptor listener, FileDescriptor stop, uint16_t port, Handler handler);
  static absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> start(FileDescriptor listener,
                                                                  uint16_t port, Handler handler);
  void acceptLoop();
  void joinFinishedWorkers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const FileDescriptor listener_;
  const FileDescriptor stop_;
  const uint16_t port_;
  const Handler handler_;
  std::atomic<uint64_t> connection_count_{0};
  absl::Mutex mutex_;
  std::vector<Worker> workers_ ABSL_GUARDED_BY(mutex_);
  std::thread accept_thread_;
  // Removed on destruction (unix listeners only).
  std::string unix_path_;
};

}  // namespace waystone::test
