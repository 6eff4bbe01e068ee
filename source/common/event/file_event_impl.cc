#include "source/common/event/file_event_impl.h"

#include "source/common/common/assert.h"

namespace waystone::event {

FileEventImpl::FileEventImpl(event_base& base, int fd, FileReadyCb cb, uint32_t events)
    : base_(base), fd_(fd), cb_(std::move(cb)) {
  setEnabled(events);
}

void FileEventImpl::onReady(evutil_socket_t, short what, void* arg) {
  uint32_t events = 0;
  if (what & EV_READ) {
    events |= FileReadyType::kRead;
  }
  if (what & EV_WRITE) {
    events |= FileReadyType::kWrite;
  }
  if (what & EV_CLOSED) {
    events |= FileReadyType::kClosed;
  }
  static_cast<FileEventImpl*>(arg)->cb_(events);
}

void FileEventImpl::setEnabled(uint32_t events) {
  short what = EV_PERSIST;
  if (events & FileReadyType::kRead) {
    what |= EV_READ;
  }
  if (events & FileReadyType::kWrite) {
    what |= EV_WRITE;
  }
  if (events & FileReadyType::kClosed) {
    what |= EV_CLOSED;
  }
  const bool edge = (events & FileReadyType::kEdgeTriggered) != 0;
  // Re-create rather than event_assign: the event may be pending, and event_free handles that.
  event_.reset();
  if (what == EV_PERSIST) {
    return;
  }
  event_.reset(event_new(&base_, fd_, edge ? what | EV_ET : what, &FileEventImpl::onReady, this));
  WAYSTONE_RELEASE_ASSERT(event_ != nullptr, "event_new failed");
  WAYSTONE_RELEASE_ASSERT(event_add(event_.get(), nullptr) == 0, "event_add failed");
}

}  // namespace waystone::event
