#include <malloc.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "envoy/admin/v3/memory.pb.h"
#include "envoy/admin/v3/server_info.pb.h"
#include "google/protobuf/util/time_util.h"

#include "source/common/common/logger.h"
#include "source/server/admin/admin_handlers.h"
#include "source/server/options_impl.h"
#include "source/server/server.h"
#include "source/server/version.h"

namespace waystone::server::admin {
namespace {

using google::protobuf::util::TimeUtil;

envoy::admin::v3::ServerInfo::State toProtoState(ServerState state) {
  switch (state) {
    case ServerState::Live:
      return envoy::admin::v3::ServerInfo::LIVE;
    case ServerState::Draining:
      return envoy::admin::v3::ServerInfo::DRAINING;
    case ServerState::PreInitializing:
      return envoy::admin::v3::ServerInfo::PRE_INITIALIZING;
    case ServerState::Initializing:
      return envoy::admin::v3::ServerInfo::INITIALIZING;
  }
  return envoy::admin::v3::ServerInfo::INITIALIZING;
}

std::string loggingLevels() {
  std::string out = "active loggers:\n";
  for (const auto& [name, level] : logger::Registry::allLevels()) {
    absl::StrAppend(&out, "  ", name, ": ", logger::Registry::levelName(level), "\n");
  }
  return out;
}

uint64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

void registerServerHandlers(AdminHandlerRegistry& registry, Server& server) {
  registry.addHandler(
      "/ready", "print server state, return 200 if LIVE, otherwise return 503",
      [&server](const AdminRequest&, AdminResponse& response) {
        response.body = absl::StrCat(serverStateName(server.state()), "\n");
        response.status = server.state() == ServerState::Live ? 200 : 503;
      },
      false);

  registry.addHandler(
      "/server_info", "print server version/status information",
      [&server](const AdminRequest&, AdminResponse& response) {
        envoy::admin::v3::ServerInfo info;
        info.set_version(absl::StrCat("waystone/", kVersion));
        info.set_state(toProtoState(server.state()));
        *info.mutable_uptime_current_epoch() = TimeUtil::SecondsToDuration(server.uptime().count());
        *info.mutable_uptime_all_epochs() = TimeUtil::SecondsToDuration(server.uptime().count());
        info.set_hot_restart_version("disabled");
        *info.mutable_command_line_options() = toCommandLineOptions(server.options());
        *info.mutable_node() = server.bootstrap().node();
        response.content_type = "application/json";
        response.body = protoToJson(info, true);
      },
      false);

  registry.addHandler(
      "/healthcheck/fail", "cause the server to fail health checks",
      [&server](const AdminRequest&, AdminResponse& response) {
        server.setHealthCheckFailed(true);
        response.body = "OK\n";
      },
      true);
  registry.addHandler(
      "/healthcheck/ok", "cause the server to pass health checks",
      [&server](const AdminRequest&, AdminResponse& response) {
        server.setHealthCheckFailed(false);
        response.body = "OK\n";
      },
      true);

  registry.addHandler(
      "/drain_listeners",
      "drain listeners (params: graceful = drain for --drain-time-s first, inboundonly, "
      "skip_exit = keep listening after the graceful drain)",
      [&server](const AdminRequest& request, AdminResponse& response) {
        // Every listener Waystone serves is inbound (it is a waypoint), so inboundonly drains
        // them all.
        server.drainListeners(request.has("graceful"), request.has("skip_exit"));
        response.body = "OK\n";
      },
      true);

  registry.addHandler(
      "/quitquitquit", "exit the server",
      [&server](const AdminRequest&, AdminResponse& response) {
        response.body = "OK\n";
        // Let the response go out first: exit on the next loop turn.
        server.dispatcher().post([&server] { server.shutdown(); });
      },
      true);

  registry.addHandler(
      "/logging",
      "query/change logging levels (POST ?level=<level> for all, ?<component>=<level> for one)",
      [](const AdminRequest& request, AdminResponse& response) {
        if (!request.query.empty() && request.method != "POST") {
          response.status = 405;
          response.body = "changing log levels requires POST\n";
          return;
        }
        for (const auto& [name, value] : request.query) {
          absl::Status status;
          logger::Level level;
          if (name == "paths") {
            status = logger::Registry::setComponentLevels(value);
          } else if (status = logger::Registry::parseLevel(value, level); status.ok()) {
            if (name == "level") {
              logger::Registry::setAllLevels(level);
            } else if (!logger::Registry::setLevel(name, level)) {
              status = absl::InvalidArgumentError(absl::StrCat("unknown component '", name, "'"));
            }
          }
          if (!status.ok()) {
            response.status = 400;
            response.body = absl::StrCat(status.message(),
                                         "\nusage: POST /logging?level=<level> or "
                                         "/logging?<component>=<level>\n",
                                         loggingLevels());
            return;
          }
        }
        response.body = loggingLevels();
      },
      false);

  registry.addHandler(
      "/memory", "print current allocation/heap usage",
      [](const AdminRequest&, AdminResponse& response) {
        const struct mallinfo2 info = mallinfo2();
        envoy::admin::v3::Memory memory;
        memory.set_allocated(info.uordblks + info.hblkhd);
        memory.set_heap_size(info.arena + info.hblkhd);
        memory.set_pageheap_free(info.fordblks);
        memory.set_total_physical_bytes(residentBytes());
        response.content_type = "application/json";
        response.body = protoToJson(memory, true);
      },
      false);

  registry.addHandler(
      "/certs", "print certs on machine",
      [](const AdminRequest&, AdminResponse& response) {
        response.content_type = "application/json";
        response.body = "{\n \"certificates\": []\n}\n";
      },
      false);
}

}  // namespace waystone::server::admin
