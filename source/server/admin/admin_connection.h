#pragma once

#include <http_parser.h>

#include <list>
#include <memory>
#include <string>

#include "source/common/network/connection.h"
#include "source/server/admin/admin.h"

namespace waystone::server::admin {

class AdminServer;

// One admin client connection: parses HTTP/1.1 requests (pipelining and keep-alive allowed),
// answers each from the endpoint table, and refuses oversized or malformed input with a 4xx and
// a close.
class AdminConnection final : public network::ConnectionCallbacks,
                              public network::ReadCallback,
                              public event::DeferredDeletable {
 public:
  // Limits: Envoy's default header limit; admin bodies are small (POST parameters).
  static constexpr size_t kMaxHeaderBytes = 60 * 1024;
  static constexpr size_t kMaxBodyBytes = 1024 * 1024;

  AdminConnection(AdminServer& server, network::ConnectionPtr&& connection);

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override;
  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;

  network::Connection& connection() { return *connection_; }
  std::list<std::unique_ptr<AdminConnection>>::iterator position_;

 private:
  // http_parser trampolines.
  static int onMessageBegin(http_parser* parser);
  static int onUrl(http_parser* parser, const char* at, size_t length);
  static int onHeaderField(http_parser* parser, const char* at, size_t length);
  static int onHeaderValue(http_parser* parser, const char* at, size_t length);
  static int onBody(http_parser* parser, const char* at, size_t length);
  static int onMessageComplete(http_parser* parser);

  void dispatchRequest();
  void sendError(int status, absl::string_view message);
  void writeResponse(const AdminResponse& response, bool keep_alive);

  AdminServer& server_;
  network::ConnectionPtr connection_;
  http_parser parser_;
  http_parser_settings settings_;
  std::string url_;
  std::string body_;
  size_t header_bytes_ = 0;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace waystone::server::admin
