#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include <event2/buffer.h>

#include "source/common/buffer/buffer.h"
#include "source/common/common/c_ptr.h"

namespace waystone::buffer {

using EvbufferPtr = CPtr<::evbuffer, ::evbuffer_free>;

// buffer::Instance over a libevent evbuffer: a chain of owned slices. move() between two
// OwnedImpl buffers relinks whole slices (evbuffer_add_buffer / evbuffer_remove_buffer) instead of
// copying bytes; only a slice split by a partial move is copied.
class OwnedImpl : public Instance {
 public:
  // Largest number of slices handed to one writev/sendmsg call.
  static constexpr int kMaxSlicesPerWrite = 16;

  OwnedImpl();
  explicit OwnedImpl(absl::string_view data);
  OwnedImpl(const void* data, uint64_t size);
  ~OwnedImpl() override = default;

  OwnedImpl(const OwnedImpl&) = delete;
  OwnedImpl& operator=(const OwnedImpl&) = delete;

  // Instance
  void add(const void* data, uint64_t size) override;
  void add(absl::string_view data) override;
  void move(Instance& other) override;
  void move(Instance& other, uint64_t length) override;
  void prepend(absl::string_view data) override;
  void drain(uint64_t size) override;
  uint64_t length() const override;
  void copyOut(uint64_t start, uint64_t size, void* data) const override;
  absl::string_view linearize(uint64_t size) override;
  int64_t search(absl::string_view needle, uint64_t start = 0) const override;
  std::string toString() const override;
  void forEachSlice(const std::function<void(absl::string_view)>& cb) const override;

  // Reads at most `max_length` bytes from `fd` with one readv() into space reserved at the end of
  // the buffer. Returns the number of bytes read (0 at end of stream) or -errno.
  int64_t readFromFd(int fd, uint64_t max_length);

  // Writes the first slices (at most kMaxSlicesPerWrite) to `fd` with one call and drains what was
  // written. Sockets are written with sendmsg(MSG_NOSIGNAL), so a reset peer gives -EPIPE instead
  // of SIGPIPE; other descriptors (pipes, files) fall back to writev(). Returns the number of bytes
  // written or -errno.
  int64_t writeToFd(int fd);

 protected:
  // Called after every operation that may have changed length(), on each buffer involved (both
  // sides of a move). WatermarkBuffer hooks its checks here.
  virtual void postProcess() {}

 private:
  // The libevent handle; mutable because libevent's read-only calls take a non-const pointer.
  EvbufferPtr buffer_;
};

}  // namespace waystone::buffer
