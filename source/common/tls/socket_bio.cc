#include "source/common/tls/socket_bio.h"

#include <cerrno>

#include <sys/socket.h>

#include "source/common/common/c_ptr.h"

namespace waystone::tls {
namespace {

using BioMethodPtr = CPtr<BIO_METHOD, BIO_meth_free>;

SocketBioState* stateOf(BIO* bio) { return static_cast<SocketBioState*>(BIO_get_data(bio)); }

int bioWrite(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  SocketBioState* state = stateOf(bio);
  const int fd = state != nullptr && state->callbacks != nullptr ? state->callbacks->fd() : -1;
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  ssize_t rc;
  do {
    rc = ::send(fd, data, static_cast<size_t>(length), MSG_NOSIGNAL);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BIO_set_retry_write(bio);
    }
    return -1;
  }
  return static_cast<int>(rc);
}

int bioRead(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  SocketBioState* state = stateOf(bio);
  const int fd = state != nullptr && state->callbacks != nullptr ? state->callbacks->fd() : -1;
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  ssize_t rc;
  do {
    rc = ::recv(fd, data, static_cast<size_t>(length), 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BIO_set_retry_read(bio);
    }
    return -1;
  }
  if (rc == 0) {
    state->eof = true;
  }
  return static_cast<int>(rc);
}

long bioCtrl(BIO* bio, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_EOF: {
      SocketBioState* state = stateOf(bio);
      return state != nullptr && state->eof ? 1 : 0;
    }
    default:
      return 0;
  }
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int bioDestroy(BIO* bio) {
  // The state belongs to the SslSocket.
  BIO_set_data(bio, nullptr);
  return 1;
}

BioMethodPtr makeSocketBioMethod() {
  BioMethodPtr method(BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "waystone_socket"));
  if (method == nullptr) {
    return nullptr;
  }
  BIO_METHOD* raw = method.get();
  if (BIO_meth_set_write(raw, bioWrite) != 1 || BIO_meth_set_read(raw, bioRead) != 1 ||
      BIO_meth_set_ctrl(raw, bioCtrl) != 1 || BIO_meth_set_create(raw, bioCreate) != 1 ||
      BIO_meth_set_destroy(raw, bioDestroy) != 1) {
    return nullptr;
  }
  return method;
}

const BIO_METHOD* socketBioMethod() {
  // Built once per process (thread-safe static initialisation), shared by every BIO.
  static const BioMethodPtr method = makeSocketBioMethod();
  return method.get();
}

}  // namespace

BIO* newSocketBio(SocketBioState& state) {
  const BIO_METHOD* method = socketBioMethod();
  if (method == nullptr) {
    return nullptr;
  }
  BIO* bio = BIO_new(method);
  if (bio == nullptr) {
    return nullptr;
  }
  BIO_set_data(bio, &state);
  return bio;
}

}  // namespace waystone::tls
