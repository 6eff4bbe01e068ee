#include "test/integration/http/raw_http_connection.h"

#include <errno.h>
#include <http_parser.h>
#include <poll.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include <sys/socket.h>

#include "test/test_common/network_utility.h"

namespace waystone::test {
namespace {

constexpr size_t kReadSize = 256 * 1024;

int millisecondsUntil(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// One response out of http-parser callbacks; pauses the parser at its end so that the bytes of
// whatever follows stay unconsumed.
class ResponseParser {
 public:
  ResponseParser(const RawHttpConnection::BodyCallback& on_body, bool head_request)
      : on_body_(on_body) {
    http_parser_init(&parser_, HTTP_RESPONSE);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_header_field = [](http_parser* p, const char* at, size_t length) {
      ResponseParser* parser = self(p);
      if (parser->in_value_) {
        parser->flushHeader();
      }
      parser->field_.append(at, length);
      return 0;
    };
    settings_.on_header_value = [](http_parser* p, const char* at, size_t length) {
      self(p)->value_.append(at, length);
      self(p)->in_value_ = true;
      return 0;
    };
    settings_.on_headers_complete = [](http_parser* p) {
      ResponseParser* parser = self(p);
      if (parser->in_value_ || !parser->field_.empty()) {
        parser->flushHeader();
      }
      parser->response_.status = static_cast<int>(p->status_code);
      // 1: the response has no body (HEAD).
      return parser->head_request_ ? 1 : 0;
    };
    settings_.on_body = [](http_parser* p, const char* at, size_t length) {
      ResponseParser* parser = self(p);
      if (parser->on_body_) {
        parser->on_body_(absl::string_view(at, length));
      } else {
        parser->response_.body.append(at, length);
      }
      return 0;
    };
    settings_.on_message_complete = [](http_parser* p) {
      self(p)->complete_ = true;
      http_parser_pause(p, 1);
      return 0;
    };
    head_request_ = head_request;
  }

  // Consumes bytes of `data` up to the end of the response. False on a parse error.
  bool feed(std::string& data) {
    const size_t parsed = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    data.erase(0, parsed);
    const enum http_errno error = HTTP_PARSER_ERRNO(&parser_);
    return error == HPE_OK || (error == HPE_PAUSED && complete_);
  }

  // The peer closed: a response delimited by the end of the connection is complete now.
  void finish() {
    if (!complete_) {
      http_parser_execute(&parser_, &settings_, nullptr, 0);
    }
  }

  bool complete() const { return complete_; }
  std::string error() const {
    return absl::StrCat(http_errno_name(HTTP_PARSER_ERRNO(&parser_)), ": ",
                        http_errno_description(HTTP_PARSER_ERRNO(&parser_)));
  }
  HttpResponse& response() { return response_; }

 private:
  static ResponseParser* self(http_parser* parser) {
    return static_cast<ResponseParser*>(parser->data);
  }
  void flushHeader() {
    response_.headers.emplace_back(std::move(field_), std::move(value_));
    field_.clear();
    value_.clear();
    in_value_ = false;
  }

  const RawHttpConnection::BodyCallback& on_body_;
  bool head_request_ = false;
  http_parser parser_;
  http_parser_settings settings_;
  HttpResponse response_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool complete_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RawHttpConnection>> RawHttpConnection::connect(
    uint16_t port, std::chrono::milliseconds timeout) {
  absl::StatusOr<FileDescriptor> fd = connectTcp("127.0.0.1", port, timeout);
  if (!fd.ok()) {
    return fd.status();
  }
  return std::unique_ptr<RawHttpConnection>(new RawHttpConnection(std::move(*fd)));
}

absl::Status RawHttpConnection::send(absl::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!data.empty()) {
    pollfd pfd{fd_.get(), POLLOUT, 0};
    const int ready = ::poll(&pfd, 1, millisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return absl::ErrnoToStatus(errno, "poll");
    }
    if (ready == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("send: ", data.size(), " bytes still unsent at the deadline"));
    }
    const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      return absl::ErrnoToStatus(errno, "send");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RawHttpConnection::receive(std::chrono::steady_clock::time_point deadline,
                                        std::string& out) {
  while (true) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, millisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return absl::ErrnoToStatus(errno, "poll");
    }
    if (ready == 0) {
      return absl::DeadlineExceededError("no data before the deadline");
    }
    const size_t old_size = out.size();
    out.resize(old_size + kReadSize);
    const ssize_t n = ::recv(fd_.get(), out.data() + old_size, kReadSize, MSG_DONTWAIT);
    if (n < 0) {
      out.resize(old_size);
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      if (errno == ECONNRESET) {
        return absl::OkStatus();  // closed, abruptly
      }
      return absl::ErrnoToStatus(errno, "recv");
    }
    out.resize(old_size + static_cast<size_t>(n));
    return absl::OkStatus();
  }
}

absl::StatusOr<HttpResponse> RawHttpConnection::readResponse(std::chrono::milliseconds timeout,
                                                             const BodyCallback& on_body,
                                                             bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ResponseParser parser(on_body, head_request);
  while (true) {
    if (!pending_.empty()) {
      if (!parser.feed(pending_)) {
        return absl::DataLossError(absl::StrCat("unparseable response: ", parser.error()));
      }
      if (parser.complete()) {
        return std::move(parser.response());
      }
    }
    std::string data;
    absl::Status status = receive(deadline, data);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("reading the response: ", status.message()));
    }
    if (data.empty()) {
      parser.finish();
      if (parser.complete()) {
        return std::move(parser.response());
      }
      return absl::UnavailableError("connection closed before the response was complete");
    }
    pending_.append(data);
  }
}

bool RawHttpConnection::waitForClose(std::chrono::milliseconds timeout, std::string* received) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (received != nullptr) {
    received->append(pending_);
  }
  pending_.clear();
  while (true) {
    std::string data;
    if (!receive(deadline, data).ok()) {
      return false;
    }
    if (data.empty()) {
      return true;
    }
    if (received != nullptr) {
      received->append(data);
    }
  }
}

absl::Status RawHttpConnection::setReceiveBuffer(int bytes) {
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) != 0) {
    return absl::ErrnoToStatus(errno, "setsockopt(SO_RCVBUF)");
  }
  return absl::OkStatus();
}

void RawHttpConnection::shutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

}  // namespace waystone::test
