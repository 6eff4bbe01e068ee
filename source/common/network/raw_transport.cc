#include "source/common/network/raw_transport.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"

namespace waystone::network {

void RawTransport::onConnected() { callbacks_->raiseEvent(ConnectionEvent::Connected); }

IoResult RawTransport::doRead(buffer::OwnedImpl& buffer, uint64_t max_bytes) {
  IoResult result;
  while (result.bytes_processed < max_bytes) {
    const uint64_t want = std::min(kMaxReadChunk, max_bytes - result.bytes_processed);
    const int64_t rc = buffer.readFromFd(callbacks_->fd(), want);
    if (rc > 0) {
      result.bytes_processed += rc;
      // A short read means the socket is (almost certainly) empty. The file event is
      // level-triggered, so if more arrived meanwhile the loop calls us again: no need to spend a
      // syscall on EAGAIN here.
      if (static_cast<uint64_t>(rc) < want || callbacks_->shouldDrainReadBuffer()) {
        break;
      }
      continue;
    }
    if (rc == 0) {
      result.end_stream = true;
      break;
    }
    if (rc == -EINTR) {
      continue;
    }
    if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
      break;
    }
    failure_reason_ = std::strerror(static_cast<int>(-rc));
    WAYSTONE_LOG(debug, connection, "[C%d] read error: %s", callbacks_->connection().id(),
                 failure_reason_);
    result.action = PostIoAction::Close;
    break;
  }
  return result;
}

IoResult RawTransport::doWrite(buffer::OwnedImpl& buffer, bool end_stream) {
  IoResult result;
  while (buffer.length() > 0) {
    const int64_t rc = buffer.writeToFd(callbacks_->fd());
    if (rc > 0) {
      result.bytes_processed += rc;
      continue;
    }
    if (rc == 0) {
      // Nothing taken from a non-empty buffer: treat it like a full socket.
      return result;
    }
    if (rc == -EINTR) {
      continue;
    }
    if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
      return result;
    }
    failure_reason_ = std::strerror(static_cast<int>(-rc));
    WAYSTONE_LOG(debug, connection, "[C%d] write error: %s", callbacks_->connection().id(),
                 failure_reason_);
    result.action = PostIoAction::Close;
    return result;
  }
  if (end_stream) {
    if (!shutdown_) {
      // The peer sees EOF; our read side stays open (half-close).
      if (::shutdown(callbacks_->fd(), SHUT_WR) != 0) {
        const int error = errno;
        failure_reason_ = std::strerror(error);
        WAYSTONE_LOG(debug, connection, "[C%d] shutdown error: %s", callbacks_->connection().id(),
                     failure_reason_);
        result.action = PostIoAction::Close;
        return result;
      }
      shutdown_ = true;
    }
    result.end_stream = true;
  }
  return result;
}

}  // namespace waystone::network
