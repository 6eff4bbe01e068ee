#pragma once

#include <list>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

#include "source/common/event/dispatcher.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener.h"
#include "source/common/stats/store.h"
#include "source/server/admin/admin.h"

namespace waystone::server::admin {

class AdminConnection;

// The admin HTTP/1.1 server: a listener on the main thread, a small request parser with hard
// limits (it faces local tools, but a bad client must still not hurt the process) and a table of
// endpoints. The full HTTP stack arrives with the L7 core; admin keeps this lean path.
class AdminServer final : public AdminHandlerRegistry, public network::ListenerCallbacks {
 public:
  struct Endpoint {
    std::string help;
    AdminHandlerCb cb;
    bool mutates_state;
  };

  AdminServer(event::Dispatcher& dispatcher, stats::Store& store);
  ~AdminServer() override;

  // Binds `address` and starts serving.
  absl::Status start(const network::address::InstanceConstSharedPtr& address);
  // The bound address (real port for port 0).
  const network::address::InstanceConstSharedPtr& boundAddress() const;

  // AdminHandlerRegistry
  void addHandler(std::string prefix, std::string help, AdminHandlerCb cb,
                  bool mutates_state) override;

  // network::ListenerCallbacks
  void onAccept(network::ConnectionPtr&& connection) override;

  // Runs the request through the endpoint table (used by connections and by tests).
  void handle(const AdminRequest& request, AdminResponse& response) const;
  const std::map<std::string, Endpoint>& endpoints() const { return endpoints_; }

  void removeConnection(AdminConnection& connection);

 private:
  event::Dispatcher& dispatcher_;
  std::map<std::string, Endpoint> endpoints_;
  network::ListenSocketPtr socket_;
  network::ListenerPtr listener_;
  std::list<std::unique_ptr<AdminConnection>> connections_;
  stats::Counter& downstream_cx_total_;
  stats::Gauge& downstream_cx_active_;
  stats::Counter& downstream_rq_total_;
};

}  // namespace waystone::server::admin
