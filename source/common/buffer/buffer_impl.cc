#include "source/common/buffer/buffer_impl.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include "source/common/common/assert.h"

namespace waystone::buffer {

OwnedImpl::OwnedImpl() : buffer_(evbuffer_new()) {
  WAYSTONE_RELEASE_ASSERT(buffer_ != nullptr, "evbuffer_new failed");
}

OwnedImpl::OwnedImpl(absl::string_view data) : OwnedImpl() { add(data); }

OwnedImpl::OwnedImpl(const void* data, uint64_t size) : OwnedImpl() { add(data, size); }

void OwnedImpl::add(const void* data, uint64_t size) {
  if (size == 0) {
    return;
  }
  // Only allocation failure makes evbuffer_add fail; there is no way to continue without memory.
  WAYSTONE_RELEASE_ASSERT(evbuffer_add(buffer_.get(), data, size) == 0, "evbuffer_add failed");
  postProcess();
}

void OwnedImpl::add(absl::string_view data) { add(data.data(), data.size()); }

void OwnedImpl::move(Instance& other) {
  if (&other == this) {
    return;
  }
  auto* owned = dynamic_cast<OwnedImpl*>(&other);
  if (owned != nullptr) {
    // Relinks the chains: no bytes are copied.
    WAYSTONE_RELEASE_ASSERT(evbuffer_add_buffer(buffer_.get(), owned->buffer_.get()) == 0,
                            "evbuffer_add_buffer failed");
    owned->postProcess();
    postProcess();
    return;
  }
  // A foreign implementation: copy slice by slice.
  other.forEachSlice([this](absl::string_view slice) {
    WAYSTONE_RELEASE_ASSERT(evbuffer_add(buffer_.get(), slice.data(), slice.size()) == 0,
                            "evbuffer_add failed");
  });
  other.drain(other.length());
  postProcess();
}

void OwnedImpl::move(Instance& other, uint64_t length) {
  if (&other == this) {
    return;
  }
  length = std::min(length, other.length());
  if (length == 0) {
    return;
  }
  if (length == other.length()) {
    move(other);
    return;
  }
  auto* owned = dynamic_cast<OwnedImpl*>(&other);
  if (owned != nullptr) {
    // evbuffer_remove_buffer relinks whole slices and copies only the last, partial one. It
    // returns an int, so move more than INT_MAX bytes in steps.
    uint64_t left = length;
    while (left > 0) {
      const size_t step = std::min<uint64_t>(left, INT_MAX);
      const int moved = evbuffer_remove_buffer(owned->buffer_.get(), buffer_.get(), step);
      WAYSTONE_RELEASE_ASSERT(moved > 0, "evbuffer_remove_buffer failed");
      left -= static_cast<uint64_t>(moved);
    }
    owned->postProcess();
    postProcess();
    return;
  }
  uint64_t left = length;
  other.forEachSlice([this, &left](absl::string_view slice) {
    if (left == 0) {
      return;
    }
    const uint64_t take = std::min<uint64_t>(left, slice.size());
    WAYSTONE_RELEASE_ASSERT(evbuffer_add(buffer_.get(), slice.data(), take) == 0,
                            "evbuffer_add failed");
    left -= take;
  });
  other.drain(length);
  postProcess();
}

void OwnedImpl::prepend(absl::string_view data) {
  if (data.empty()) {
    return;
  }
  WAYSTONE_RELEASE_ASSERT(evbuffer_prepend(buffer_.get(), data.data(), data.size()) == 0,
                          "evbuffer_prepend failed");
  postProcess();
}

void OwnedImpl::drain(uint64_t size) {
  WAYSTONE_ASSERT(size <= length(), "drain past the end of the buffer");
  size = std::min(size, length());
  if (size == 0) {
    return;
  }
  WAYSTONE_RELEASE_ASSERT(evbuffer_drain(buffer_.get(), size) == 0, "evbuffer_drain failed");
  postProcess();
}

uint64_t OwnedImpl::length() const { return evbuffer_get_length(buffer_.get()); }

void OwnedImpl::copyOut(uint64_t start, uint64_t size, void* data) const {
  WAYSTONE_RELEASE_ASSERT(start + size <= length(), "copyOut past the end of the buffer");
  if (size == 0) {
    return;
  }
  evbuffer_ptr pos;
  WAYSTONE_RELEASE_ASSERT(evbuffer_ptr_set(buffer_.get(), &pos, start, EVBUFFER_PTR_SET) == 0,
                          "evbuffer_ptr_set failed");
  const ev_ssize_t copied = evbuffer_copyout_from(buffer_.get(), &pos, data, size);
  WAYSTONE_RELEASE_ASSERT(copied == static_cast<ev_ssize_t>(size), "evbuffer_copyout_from short");
}

absl::string_view OwnedImpl::linearize(uint64_t size) {
  WAYSTONE_RELEASE_ASSERT(size <= length(), "linearize past the end of the buffer");
  if (size == 0) {
    return {};
  }
  unsigned char* data = evbuffer_pullup(buffer_.get(), size);
  WAYSTONE_RELEASE_ASSERT(data != nullptr, "evbuffer_pullup failed");
  return {reinterpret_cast<const char*>(data), size};
}

int64_t OwnedImpl::search(absl::string_view needle, uint64_t start) const {
  const uint64_t len = length();
  if (needle.empty()) {
    return start <= len ? static_cast<int64_t>(start) : -1;
  }
  if (start >= len || needle.size() > len - start) {
    return -1;
  }
  evbuffer_ptr start_pos;
  if (evbuffer_ptr_set(buffer_.get(), &start_pos, start, EVBUFFER_PTR_SET) != 0) {
    return -1;
  }
  // evbuffer_search matches across slice boundaries.
  const evbuffer_ptr found =
      evbuffer_search(buffer_.get(), needle.data(), needle.size(), &start_pos);
  return found.pos;
}

std::string OwnedImpl::toString() const {
  std::string out(length(), '\0');
  if (!out.empty()) {
    copyOut(0, out.size(), out.data());
  }
  return out;
}

void OwnedImpl::forEachSlice(const std::function<void(absl::string_view)>& cb) const {
  const int count = evbuffer_peek(buffer_.get(), -1, nullptr, nullptr, 0);
  if (count <= 0) {
    return;
  }
  std::vector<evbuffer_iovec> slices(count);
  const int filled = evbuffer_peek(buffer_.get(), -1, nullptr, slices.data(), count);
  WAYSTONE_RELEASE_ASSERT(filled == count, "evbuffer_peek changed its slice count");
  for (const evbuffer_iovec& slice : slices) {
    if (slice.iov_len > 0) {
      cb(absl::string_view(static_cast<const char*>(slice.iov_base), slice.iov_len));
    }
  }
}

int64_t OwnedImpl::readFromFd(int fd, uint64_t max_length) {
  if (max_length == 0) {
    return 0;
  }
  // libevent takes a signed size; no single read needs more than this.
  max_length = std::min<uint64_t>(max_length, uint64_t{1} << 30);
  // Two extents: the free tail of the last slice plus one new slice, so small reads reuse space.
  constexpr int kMaxExtents = 2;
  evbuffer_iovec extents[kMaxExtents];
  const int count = evbuffer_reserve_space(buffer_.get(), max_length, extents, kMaxExtents);
  WAYSTONE_RELEASE_ASSERT(count >= 1 && count <= kMaxExtents, "evbuffer_reserve_space failed");
  iovec iov[kMaxExtents];
  uint64_t reserved = 0;
  for (int i = 0; i < count; ++i) {
    iov[i].iov_base = extents[i].iov_base;
    iov[i].iov_len = std::min<uint64_t>(extents[i].iov_len, max_length - reserved);
    reserved += iov[i].iov_len;
  }
  const ssize_t rc = ::readv(fd, iov, count);
  if (rc < 0) {
    const int error = errno;
    // Nothing committed: the reservation is simply dropped.
    WAYSTONE_RELEASE_ASSERT(evbuffer_commit_space(buffer_.get(), nullptr, 0) == 0,
                            "evbuffer_commit_space failed");
    return -error;
  }
  // Tell libevent how much of each extent was filled.
  uint64_t left = static_cast<uint64_t>(rc);
  int used = 0;
  for (int i = 0; i < count && left > 0; ++i) {
    extents[i].iov_len = std::min<uint64_t>(iov[i].iov_len, left);
    left -= extents[i].iov_len;
    used = i + 1;
  }
  WAYSTONE_RELEASE_ASSERT(evbuffer_commit_space(buffer_.get(), extents, used) == 0,
                          "evbuffer_commit_space failed");
  if (rc > 0) {
    postProcess();
  }
  return rc;
}

int64_t OwnedImpl::writeToFd(int fd) {
  if (length() == 0) {
    return 0;
  }
  evbuffer_iovec slices[kMaxSlicesPerWrite];
  const int count = evbuffer_peek(buffer_.get(), -1, nullptr, slices, kMaxSlicesPerWrite);
  WAYSTONE_RELEASE_ASSERT(count > 0, "evbuffer_peek found no slice in a non-empty buffer");
  const int used = std::min(count, kMaxSlicesPerWrite);
  iovec iov[kMaxSlicesPerWrite];
  for (int i = 0; i < used; ++i) {
    iov[i].iov_base = slices[i].iov_base;
    iov[i].iov_len = slices[i].iov_len;
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = used;
  ssize_t rc = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  if (rc < 0 && errno == ENOTSOCK) {
    rc = ::writev(fd, iov, used);
  }
  if (rc < 0) {
    return -errno;
  }
  if (rc > 0) {
    WAYSTONE_RELEASE_ASSERT(evbuffer_drain(buffer_.get(), rc) == 0, "evbuffer_drain failed");
    postProcess();
  }
  return rc;
}

}  // namespace waystone::buffer
