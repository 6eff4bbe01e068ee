#include "test/integration/http/scripted_backend.h"

#include <http_parser.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "test/integration/http/pattern_body.h"

namespace waystone::test {
namespace {

constexpr size_t kWriteChunk = 256 * 1024;

// Streams requests out of http-parser callbacks; bodies are counted and checked, kept only up to
// BackendRequest::kMaxKeptBody.
class StreamingRequestParser {
 public:
  struct Parsed {
    BackendRequest request;
    bool keep_alive = false;
  };

  StreamingRequestParser() {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = [](http_parser* p) {
      self(p)->current_ = Parsed();
      self(p)->pattern_ = PatternBody();
      return 0;
    };
    settings_.on_url = [](http_parser* p, const char* at, size_t length) {
      self(p)->current_.request.request.path.append(at, length);
      return 0;
    };
    settings_.on_header_field = [](http_parser* p, const char* at, size_t length) {
      StreamingRequestParser* parser = self(p);
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
      StreamingRequestParser* parser = self(p);
      if (parser->in_value_ || !parser->field_.empty()) {
        parser->flushHeader();
      }
      TestHttpRequest& request = parser->current_.request.request;
      request.method = http_method_str(static_cast<enum http_method>(p->method));
      parser->current_.keep_alive = http_should_keep_alive(p) != 0;
      parser->continue_pending_ = absl::EqualsIgnoreCase(request.header("expect"), "100-continue");
      return 0;
    };
    settings_.on_body = [](http_parser* p, const char* at, size_t length) {
      StreamingRequestParser* parser = self(p);
      BackendRequest& request = parser->current_.request;
      const absl::string_view data(at, length);
      parser->pattern_.update(data);
      const size_t room = BackendRequest::kMaxKeptBody - request.request.body.size();
      request.request.body.append(data.data(), std::min(room, data.size()));
      return 0;
    };
    settings_.on_message_complete = [](http_parser* p) {
      StreamingRequestParser* parser = self(p);
      parser->continue_pending_ = false;
      parser->current_.request.body_bytes = parser->pattern_.bytes();
      parser->current_.request.body_matches_pattern = parser->pattern_.matches();
      parser->current_.request.body_digest = parser->pattern_.digest();
      parser->complete_.push_back(std::move(parser->current_));
      return 0;
    };
  }

  // False on a protocol error or an upgrade request, which this backend does not handle.
  bool feed(absl::string_view data) {
    const size_t parsed = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    return parsed == data.size() && parser_.http_errno == HPE_OK && parser_.upgrade == 0;
  }

  bool takeComplete(Parsed& out) {
    if (complete_.empty()) {
      return false;
    }
    out = std::move(complete_.front());
    complete_.erase(complete_.begin());
    return true;
  }

  bool takeContinuePending() { return std::exchange(continue_pending_, false); }

 private:
  static StreamingRequestParser* self(http_parser* parser) {
    return static_cast<StreamingRequestParser*>(parser->data);
  }

  void flushHeader() {
    current_.request.request.headers.emplace_back(std::move(field_),
                                                  std::string(absl::StripAsciiWhitespace(value_)));
    field_.clear();
    value_.clear();
    in_value_ = false;
  }

  http_parser parser_;
  http_parser_settings settings_;
  Parsed current_;
  PatternBody pattern_;
  std::vector<Parsed> complete_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool continue_pending_ = false;
};

}  // namespace

BackendResponse BackendResponse::respond(int status, std::optional<std::string> body,
                                         HttpHeaders headers) {
  BackendResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

BackendResponse BackendResponse::hang() {
  BackendResponse response;
  response.action = Action::kHang;
  return response;
}

BackendResponse BackendResponse::hold(int status, std::optional<std::string> body) {
  BackendResponse response = respond(status, std::move(body));
  response.action = Action::kHold;
  return response;
}

BackendResponse BackendResponse::close() {
  BackendResponse response;
  response.action = Action::kClose;
  return response;
}

BackendResponse BackendResponse::pattern(uint64_t bytes) {
  BackendResponse response;
  response.pattern_bytes = bytes;
  return response;
}

absl::StatusOr<std::unique_ptr<ScriptedBackend>> ScriptedBackend::start(std::string name) {
  std::unique_ptr<ScriptedBackend> backend(new ScriptedBackend(std::move(name)));
  ScriptedBackend* raw = backend.get();
  auto listener = ThreadedTcpServer::listenTcp([raw](ServerConnection& c) { raw->serve(c); });
  if (!listener.ok()) {
    return listener.status();
  }
  backend->server_ = std::move(*listener);
  return backend;
}

ScriptedBackend::~ScriptedBackend() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  server_.reset();
}

void ScriptedBackend::enqueue(BackendResponse response) {
  absl::MutexLock lock(&mutex_);
  script_.push_back(std::move(response));
}

void ScriptedBackend::setDefault(BackendResponse response) {
  absl::MutexLock lock(&mutex_);
  default_ = std::move(response);
}

void ScriptedBackend::releaseHeld() {
  absl::MutexLock lock(&mutex_);
  released_ = true;
}

std::vector<BackendRequest> ScriptedBackend::requests() const {
  absl::MutexLock lock(&mutex_);
  return requests_;
}

std::optional<BackendRequest> ScriptedBackend::lastRequest() const {
  absl::MutexLock lock(&mutex_);
  if (requests_.empty()) {
    return std::nullopt;
  }
  return requests_.back();
}

BackendResponse ScriptedBackend::nextResponse() {
  absl::MutexLock lock(&mutex_);
  if (script_.empty()) {
    return default_;
  }
  BackendResponse response = std::move(script_.front());
  script_.pop_front();
  return response;
}

bool ScriptedBackend::waitForRelease() {
  absl::MutexLock lock(&mutex_);
  mutex_.Await(absl::Condition(
      +[](ScriptedBackend* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mutex_) {
        return self->released_ || self->stopping_;
      },
      this));
  return !stopping_;
}

void ScriptedBackend::serve(ServerConnection& connection) {
  StreamingRequestParser parser;
  std::string data;
  while (connection.read(data)) {
    const bool ok = parser.feed(data);
    data.clear();
    StreamingRequestParser::Parsed parsed;
    while (parser.takeComplete(parsed)) {
      {
        absl::MutexLock lock(&mutex_);
        requests_.push_back(parsed.request);
      }
      // Counted after recording, so a test that waits for the count sees the request.
      ++request_count_;
      if (!answer(connection, parsed.request, nextResponse(), parsed.keep_alive)) {
        return;
      }
    }
    if (!ok) {
      connection.write(
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    if (parser.takeContinuePending() && !connection.write("HTTP/1.1 100 Continue\r\n\r\n")) {
      return;
    }
  }
}

bool ScriptedBackend::answer(ServerConnection& connection, const BackendRequest& request,
                             const BackendResponse& response, bool keep_alive) {
  switch (response.action) {
    case BackendResponse::Action::kClose:
      return false;
    case BackendResponse::Action::kHang: {
      std::string ignored;
      while (connection.read(ignored)) {
        ignored.clear();
      }
      return false;
    }
    case BackendResponse::Action::kHold: {
      ++held_;
      const bool released = waitForRelease();
      --held_;
      if (!released) {
        return false;
      }
      break;
    }
    case BackendResponse::Action::kRespond:
      break;
  }
  const std::string& method = request.request.method;
  const std::string body = response.body.has_value()
                               ? *response.body
                               : absl::StrCat(name_, ": ", method, " ", request.request.path);
  const uint64_t length = response.pattern_bytes > 0 ? response.pattern_bytes : body.size();
  const char* reason = http_status_str(static_cast<enum http_status>(response.status));
  std::string head = absl::StrCat("HTTP/1.1 ", response.status, " ", reason,
                                  "\r\nContent-Length: ", length, "\r\n");
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  if (!keep_alive) {
    absl::StrAppend(&head, "Connection: close\r\n");
  }
  absl::StrAppend(&head, "\r\n");
  const bool head_only = method == "HEAD";
  if (response.pattern_bytes == 0 || head_only) {
    if (!head_only) {
      absl::StrAppend(&head, body);
    }
    return connection.write(head) && keep_alive;
  }
  if (!connection.write(head)) {
    return false;
  }
  std::string chunk(kWriteChunk, '\0');
  for (uint64_t offset = 0; offset < response.pattern_bytes;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kWriteChunk, response.pattern_bytes - offset));
    PatternBody::fill(offset, chunk.data(), n);
    if (!connection.write(absl::string_view(chunk.data(), n))) {
      return false;
    }
    pattern_bytes_written_ += n;
    offset += n;
  }
  return keep_alive;
}

}  // namespace waystone::test
