#include "test/test_common/test_http_server.h"

#include <http_parser.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace waystone::test {
namespace {

// Collects complete requests from http-parser callbacks.
class RequestParser {
 public:
  struct Parsed {
    TestHttpRequest request;
    bool keep_alive = false;
    bool http10 = false;
  };

  RequestParser() {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = [](http_parser* p) {
      self(p)->current_ = Parsed();
      return 0;
    };
    settings_.on_url = [](http_parser* p, const char* at, size_t length) {
      self(p)->current_.request.path.append(at, length);
      return 0;
    };
    settings_.on_header_field = [](http_parser* p, const char* at, size_t length) {
      RequestParser* parser = self(p);
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
      RequestParser* parser = self(p);
      if (parser->in_value_ || !parser->field_.empty()) {
        parser->flushHeader();
      }
      parser->current_.request.method = http_method_str(static_cast<enum http_method>(p->method));
      parser->current_.keep_alive = http_should_keep_alive(p) != 0;
      parser->current_.http10 = p->http_major == 1 && p->http_minor == 0;
      // A client that waits for "100 Continue" before sending the body (curl does, for a while).
      parser->continue_pending_ =
          !parser->current_.http10 &&
          absl::EqualsIgnoreCase(parser->current_.request.header("expect"), "100-continue");
      return 0;
    };
    settings_.on_body = [](http_parser* p, const char* at, size_t length) {
      self(p)->current_.request.body.append(at, length);
      return 0;
    };
    settings_.on_message_complete = [](http_parser* p) {
      self(p)->continue_pending_ = false;  // the body is already here
      self(p)->complete_.push_back(std::move(self(p)->current_));
      return 0;
    };
  }

  // False on a protocol error or an upgrade request, which this server does not handle.
  bool feed(absl::string_view data) {
    const size_t parsed = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    return parsed == data.size() && parser_.http_errno == HPE_OK && parser_.upgrade == 0;
  }

  std::vector<Parsed> takeComplete() { return std::exchange(complete_, {}); }

  // True once per request whose headers asked for "100 Continue" and whose body is still missing.
  bool takeContinuePending() { return std::exchange(continue_pending_, false); }

 private:
  static RequestParser* self(http_parser* parser) {
    return static_cast<RequestParser*>(parser->data);
  }

  void flushHeader() {
    current_.request.headers.emplace_back(std::move(field_),
                                          std::string(absl::StripAsciiWhitespace(value_)));
    field_.clear();
    value_.clear();
    in_value_ = false;
  }

  http_parser parser_;
  http_parser_settings settings_;
  Parsed current_;
  std::vector<Parsed> complete_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool continue_pending_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TestHttpServer>> TestHttpServer::start() {
  std::unique_ptr<TestHttpServer> server(new TestHttpServer());
  TestHttpServer* raw = server.get();
  return finishStart(std::move(server),
                     ThreadedTcpServer::listenTcp([raw](ServerConnection& c) { raw->serve(c); }));
}

absl::StatusOr<std::unique_ptr<TestHttpServer>> TestHttpServer::startUnix(const std::string& path) {
  std::unique_ptr<TestHttpServer> server(new TestHttpServer());
  TestHttpServer* raw = server.get();
  return finishStart(std::move(server), ThreadedTcpServer::listenUnix(
                                            path, [raw](ServerConnection& c) { raw->serve(c); }));
}

absl::StatusOr<std::unique_ptr<TestHttpServer>> TestHttpServer::finishStart(
    std::unique_ptr<TestHttpServer> server,
    absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> listener) {
  if (!listener.ok()) {
    return listener.status();
  }
  server->server_ = std::move(*listener);
  return server;
}

std::string TestHttpServer::address() const { return absl::StrCat("127.0.0.1:", port()); }

void TestHttpServer::setResponse(int status, std::optional<std::string> body, HttpHeaders headers) {
  absl::MutexLock lock(&mutex_);
  config_ = ResponseConfig();
  config_.status = status;
  config_.body = std::move(body);
  config_.headers = std::move(headers);
}

void TestHttpServer::setRawResponse(std::string raw, bool close_after) {
  absl::MutexLock lock(&mutex_);
  config_.raw = std::move(raw);
  config_.close_after_raw = close_after;
}

std::optional<TestHttpRequest> TestHttpServer::lastRequest() const {
  absl::MutexLock lock(&mutex_);
  return last_request_;
}

HttpHeaders TestHttpServer::lastRequestHeaders() const {
  absl::MutexLock lock(&mutex_);
  return last_request_.has_value() ? last_request_->headers : HttpHeaders();
}

std::string TestHttpServer::buildResponse(const TestHttpRequest& request, bool keep_alive,
                                          bool http10, bool& close) {
  absl::MutexLock lock(&mutex_);
  if (config_.raw.has_value()) {
    close = config_.close_after_raw;
    return *config_.raw;
  }
  close = !keep_alive;
  const std::string body =
      config_.body.has_value()
          ? *config_.body
          : absl::StrCat("hello from backend: ", request.method, " ", request.path);
  const char* reason = http_status_str(static_cast<enum http_status>(config_.status));
  std::string response =
      absl::StrCat("HTTP/1.1 ", config_.status, " ", reason,
                   "\r\nContent-Type: text/plain\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [name, value] : config_.headers) {
    absl::StrAppend(&response, name, ": ", value, "\r\n");
  }
  if (close) {
    absl::StrAppend(&response, "Connection: close\r\n");
  } else if (http10) {
    absl::StrAppend(&response, "Connection: keep-alive\r\n");
  }
  absl::StrAppend(&response, "\r\n", request.method == "HEAD" ? "" : body);
  return response;
}

void TestHttpServer::serve(ServerConnection& connection) {
  RequestParser parser;
  std::string data;
  while (connection.read(data)) {
    const bool ok = parser.feed(data);
    data.clear();
    for (RequestParser::Parsed& parsed : parser.takeComplete()) {
      {
        absl::MutexLock lock(&mutex_);
        last_request_ = parsed.request;
      }
      // Counted after recording, so a test that waits for the count sees the request.
      ++request_count_;
      bool close = false;
      const std::string response =
          buildResponse(parsed.request, parsed.keep_alive, parsed.http10, close);
      if (!connection.write(response) || close) {
        return;
      }
    }
    if (ok && parser.takeContinuePending() && !connection.write("HTTP/1.1 100 Continue\r\n\r\n")) {
      return;
    }
    if (!ok) {
      connection.write(
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
  }
}

}  // namespace waystone::test
