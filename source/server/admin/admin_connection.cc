#include "source/server/admin/admin_connection.h"

#include "absl/strings/str_cat.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/logger.h"
#include "source/common/http/reason_phrase.h"
#include "source/server/admin/admin_request_parser.h"
#include "source/server/admin/admin_server.h"

namespace waystone::server::admin {
namespace {

AdminConnection* self(http_parser* parser) { return static_cast<AdminConnection*>(parser->data); }

}  // namespace

AdminConnection::AdminConnection(AdminServer& server, network::ConnectionPtr&& connection)
    : server_(server), connection_(std::move(connection)) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &AdminConnection::onMessageBegin;
  settings_.on_url = &AdminConnection::onUrl;
  settings_.on_header_field = &AdminConnection::onHeaderField;
  settings_.on_header_value = &AdminConnection::onHeaderValue;
  settings_.on_body = &AdminConnection::onBody;
  settings_.on_message_complete = &AdminConnection::onMessageComplete;
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
}

int AdminConnection::onMessageBegin(http_parser* parser) {
  AdminConnection* c = self(parser);
  c->url_.clear();
  c->body_.clear();
  c->header_bytes_ = 0;
  return 0;
}

int AdminConnection::onUrl(http_parser* parser, const char* at, size_t length) {
  AdminConnection* c = self(parser);
  c->header_bytes_ += length;
  if (c->header_bytes_ > kMaxHeaderBytes) {
    c->sendError(431, "request headers too large");
    return 1;
  }
  c->url_.append(at, length);
  return 0;
}

// Header values are not used by any endpoint; only their size counts against the limit.
int AdminConnection::onHeaderField(http_parser* parser, const char*, size_t length) {
  AdminConnection* c = self(parser);
  c->header_bytes_ += length;
  if (c->header_bytes_ > kMaxHeaderBytes) {
    c->sendError(431, "request headers too large");
    return 1;
  }
  return 0;
}

int AdminConnection::onHeaderValue(http_parser* parser, const char* at, size_t length) {
  return onHeaderField(parser, at, length);
}

int AdminConnection::onBody(http_parser* parser, const char* at, size_t length) {
  AdminConnection* c = self(parser);
  if (c->body_.size() + length > kMaxBodyBytes) {
    c->sendError(413, "request body too large");
    return 1;
  }
  c->body_.append(at, length);
  return 0;
}

int AdminConnection::onMessageComplete(http_parser* parser) {
  AdminConnection* c = self(parser);
  c->dispatchRequest();
  // Stop parsing pipelined requests once the connection is closing.
  return (c->closed_ || c->failed_) ? 1 : 0;
}

void AdminConnection::dispatchRequest() {
  if (closed_ || failed_) {
    return;
  }
  AdminRequest request;
  request.method = http_method_str(static_cast<http_method>(parser_.method));
  parseRequestTarget(url_, request.path, request.query);
  request.body = std::move(body_);
  AdminResponse response;
  server_.handle(request, response);
  writeResponse(response, http_should_keep_alive(&parser_) != 0);
}

void AdminConnection::writeResponse(const AdminResponse& response, bool keep_alive) {
  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ", http::reasonPhrase(response.status), "\r\n",
                   "content-type: ", response.content_type, "\r\n",
                   "content-length: ", response.body.size(), "\r\n");
  // Envoy's admin marks every response uncacheable and not sniffable.
  absl::StrAppend(&head, "cache-control: no-cache, max-age=0\r\n",
                  "x-content-type-options: nosniff\r\n");
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  if (!keep_alive) {
    absl::StrAppend(&head, "connection: close\r\n");
  }
  absl::StrAppend(&head, "\r\n");
  buffer::OwnedImpl out;
  out.add(head);
  out.add(response.body);
  connection_->write(out, false);
  if (!keep_alive) {
    connection_->close(network::ConnectionCloseType::FlushWrite);
  }
}

void AdminConnection::sendError(int status, absl::string_view message) {
  if (failed_ || closed_) {
    return;
  }
  failed_ = true;
  AdminResponse response;
  response.status = status;
  response.body = absl::StrCat(message, "\n");
  writeResponse(response, false);
}

void AdminConnection::onData(buffer::Instance& data, bool end_stream) {
  if (failed_ || closed_) {
    data.drain(data.length());
    return;
  }
  data.forEachSlice([this](absl::string_view slice) {
    if (failed_ || closed_) {
      return;
    }
    const size_t parsed = http_parser_execute(&parser_, &settings_, slice.data(), slice.size());
    if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK && !failed_) {
      sendError(400, absl::StrCat("malformed request: ",
                                  http_errno_description(HTTP_PARSER_ERRNO(&parser_))));
    } else if (parsed != slice.size() && !failed_ && !closed_) {
      sendError(400, "malformed request");
    }
  });
  data.drain(data.length());
  if (end_stream && !failed_ && !closed_) {
    http_parser_execute(&parser_, &settings_, nullptr, 0);
    connection_->close(network::ConnectionCloseType::FlushWrite);
  }
}

void AdminConnection::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected || closed_) {
    return;
  }
  closed_ = true;
  server_.removeConnection(*this);
}

}  // namespace waystone::server::admin
