#include "source/server/admin/admin_server.h"

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/network/listener_impl.h"
#include "source/server/admin/admin_connection.h"

namespace waystone::server::admin {

std::string AdminRequest::get(absl::string_view param) const {
  auto it = query.find(std::string(param));
  return it == query.end() ? "" : it->second;
}

AdminServer::AdminServer(event::Dispatcher& dispatcher, stats::Store& store)
    : dispatcher_(dispatcher),
      downstream_cx_total_(store.counterFromString("listener.admin.downstream_cx_total")),
      downstream_cx_active_(store.gaugeFromString("listener.admin.downstream_cx_active")),
      downstream_rq_total_(store.counterFromString("http.admin.downstream_rq_total")) {
  addHandler(
      "/help", "print out list of admin commands", [](const AdminRequest&, AdminResponse&) {},
      false);
}

AdminServer::~AdminServer() {
  listener_.reset();
  while (!connections_.empty()) {
    AdminConnection* front = connections_.front().get();
    front->connection().close(network::ConnectionCloseType::NoFlush);
    if (!connections_.empty() && connections_.front().get() == front) {
      removeConnection(*front);
    }
  }
}

absl::Status AdminServer::start(const network::address::InstanceConstSharedPtr& address) {
  network::ListenSocketOptions options;
  // Only one admin socket: a second process must not silently share the port.
  options.reuse_port = false;
  auto socket = network::ListenSocket::create(address, options);
  if (!socket.ok()) {
    return absl::UnavailableError(
        absl::StrCat("admin.address: cannot listen: ", socket.status().message()));
  }
  socket_ = std::move(*socket);
  listener_ = std::make_unique<network::ListenerImpl>(dispatcher_, *socket_, *this);
  WAYSTONE_LOG(info, admin, "admin address: %s", socket_->localAddress()->asString());
  return absl::OkStatus();
}

const network::address::InstanceConstSharedPtr& AdminServer::boundAddress() const {
  return socket_->localAddress();
}

void AdminServer::addHandler(std::string prefix, std::string help, AdminHandlerCb cb,
                             bool mutates_state) {
  endpoints_[std::move(prefix)] = Endpoint{std::move(help), std::move(cb), mutates_state};
}

void AdminServer::onAccept(network::ConnectionPtr&& connection) {
  downstream_cx_total_.inc();
  downstream_cx_active_.inc();
  auto admin_connection = std::make_unique<AdminConnection>(*this, std::move(connection));
  AdminConnection& ref = *admin_connection;
  connections_.push_front(std::move(admin_connection));
  ref.position_ = connections_.begin();
}

void AdminServer::removeConnection(AdminConnection& connection) {
  downstream_cx_active_.dec();
  std::unique_ptr<AdminConnection> owned = std::move(*connection.position_);
  connections_.erase(connection.position_);
  dispatcher_.deferredDelete(std::move(owned));
}

void AdminServer::handle(const AdminRequest& request, AdminResponse& response) const {
  downstream_rq_total_.inc();
  auto it = endpoints_.find(request.path);
  if (it == endpoints_.end() || request.path == "/help") {
    response.status = request.path == "/help" ? 200 : 404;
    response.body =
        request.path == "/help" ? "admin commands are:\n" : "invalid path. admin commands are:\n";
    for (const auto& [prefix, endpoint] : endpoints_) {
      absl::StrAppend(&response.body, "  ", prefix, ": ", endpoint.help, "\n");
    }
    return;
  }
  if (it->second.mutates_state && request.method != "POST") {
    response.status = 405;
    response.body = "This endpoint changes the server's state: use POST.\n";
    response.headers.emplace_back("allow", "POST");
    return;
  }
  WAYSTONE_LOG(debug, admin, "%s %s", request.method, request.path);
  it->second.cb(request, response);
}

}  // namespace waystone::server::admin
