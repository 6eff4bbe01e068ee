#include "test/test_common/http_client.h"

#include <http_parser.h>
#include <poll.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <sys/socket.h>

#include "test/test_common/network_utility.h"

namespace waystone::test {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? std::chrono::milliseconds(0) : left;
}

bool hasHeader(const HttpHeaders& headers, absl::string_view name) {
  for (const auto& header : headers) {
    if (absl::EqualsIgnoreCase(header.first, name)) {
      return true;
    }
  }
  return false;
}

// Collects one response from http-parser callbacks. Informational (1xx) responses other than
// 101 are skipped: the final response follows them on the same connection.
class ResponseParser {
 public:
  explicit ResponseParser(bool head_request) : head_request_(head_request) {
    http_parser_init(&parser_, HTTP_RESPONSE);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = [](http_parser* p) { return self(p)->onMessageBegin(); };
    settings_.on_header_field = [](http_parser* p, const char* at, size_t length) {
      return self(p)->onHeaderField(absl::string_view(at, length));
    };
    settings_.on_header_value = [](http_parser* p, const char* at, size_t length) {
      return self(p)->onHeaderValue(absl::string_view(at, length));
    };
    settings_.on_headers_complete = [](http_parser* p) { return self(p)->onHeadersComplete(); };
    settings_.on_body = [](http_parser* p, const char* at, size_t length) {
      self(p)->response_.body.append(at, length);
      return 0;
    };
    settings_.on_message_complete = [](http_parser* p) { return self(p)->onMessageComplete(); };
  }

  // Feeds received bytes; an empty `data` signals the end of the connection.
  absl::Status feed(absl::string_view data) {
    const size_t parsed = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    if (complete_) {
      return absl::OkStatus();
    }
    const auto error = static_cast<enum http_errno>(parser_.http_errno);
    if (error != HPE_OK || parsed != data.size()) {
      return absl::DataLossError(
          absl::StrCat("malformed HTTP response: ", http_errno_description(error)));
    }
    if (data.empty()) {
      return absl::DataLossError("connection closed before the response was complete");
    }
    return absl::OkStatus();
  }

  bool complete() const { return complete_; }
  bool keepAlive() const { return keep_alive_; }
  HttpResponse takeResponse() { return std::move(response_); }

 private:
  static ResponseParser* self(http_parser* parser) {
    return static_cast<ResponseParser*>(parser->data);
  }

  int onMessageBegin() {
    response_ = HttpResponse();
    field_.clear();
    value_.clear();
    in_value_ = false;
    return 0;
  }

  int onHeaderField(absl::string_view data) {
    if (in_value_) {
      flushHeader();
    }
    field_.append(data.data(), data.size());
    return 0;
  }

  int onHeaderValue(absl::string_view data) {
    value_.append(data.data(), data.size());
    in_value_ = true;
    return 0;
  }

  int onHeadersComplete() {
    if (in_value_ || !field_.empty()) {
      flushHeader();
    }
    response_.status = parser_.status_code;
    keep_alive_ = http_should_keep_alive(&parser_) != 0;
    // 1: the response to HEAD has no body whatever its Content-Length says.
    return head_request_ ? 1 : 0;
  }

  int onMessageComplete() {
    if (response_.status >= 100 && response_.status < 200 && response_.status != 101) {
      return 0;
    }
    complete_ = true;
    // Stop here: bytes after the response belong to no request of ours.
    http_parser_pause(&parser_, 1);
    return 0;
  }

  void flushHeader() {
    response_.headers.emplace_back(std::move(field_),
                                   std::string(absl::StripAsciiWhitespace(value_)));
    field_.clear();
    value_.clear();
    in_value_ = false;
  }

  http_parser parser_;
  http_parser_settings settings_;
  const bool head_request_;
  HttpResponse response_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool complete_ = false;
  bool keep_alive_ = false;
};

}  // namespace

HttpClient::HttpClient(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

HttpClient HttpClient::unixSocket(std::string path) {
  HttpClient client;
  client.unix_path_ = std::move(path);
  return client;
}

absl::Status HttpClient::connect(std::chrono::milliseconds timeout) {
  absl::StatusOr<FileDescriptor> fd =
      unix_path_.empty() ? connectTcp(host_, port_, timeout) : connectUnix(unix_path_, timeout);
  if (!fd.ok()) {
    return fd.status();
  }
  connection_ = std::move(*fd);
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> HttpClient::request(absl::string_view method, absl::string_view path,
                                                 const HttpHeaders& headers, absl::string_view body,
                                                 std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\n");
  if (!hasHeader(headers, "host")) {
    absl::StrAppend(&request,
                    "Host: ", unix_path_.empty() ? formatHostPort(host_, port_) : "localhost",
                    "\r\n");
  }
  if (!hasHeader(headers, "connection")) {
    absl::StrAppend(&request, "Connection: close\r\n");
  }
  const bool method_has_body = method == "POST" || method == "PUT" || method == "PATCH";
  if ((!body.empty() || method_has_body) && !hasHeader(headers, "content-length") &&
      !hasHeader(headers, "transfer-encoding")) {
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  }
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&request, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&request, "\r\n", body);

  if (!connection_.valid()) {
    if (absl::Status status = connect(remaining(deadline)); !status.ok()) {
      return status;
    }
  }
  // Any failure below leaves the connection in an unknown state: drop it.
  auto fail = [this](absl::Status status) {
    connection_.reset();
    return status;
  };
  if (absl::Status status = sendAll(connection_.get(), request, remaining(deadline));
      !status.ok()) {
    return fail(status);
  }

  ResponseParser parser(method == "HEAD");
  while (!parser.complete()) {
    absl::StatusOr<std::string> data = receiveSome(connection_.get(), remaining(deadline));
    if (!data.ok()) {
      return fail(data.status());
    }
    if (absl::Status status = parser.feed(*data); !status.ok()) {
      return fail(status);
    }
    if (data->empty()) {
      break;  // closed by the peer; feed() accepted the end of a read-until-close body
    }
  }
  const bool keep = parser.keepAlive() && hasHeader(headers, "connection");
  if (!keep) {
    connection_.reset();
  }
  return parser.takeResponse();
}

}  // namespace waystone::test
