#pragma once

#include "google/protobuf/message.h"

#include "source/server/admin/admin.h"

namespace waystone::server {
class Server;
}

namespace waystone::server::admin {

// Registers every admin endpoint (Envoy's paths and output shapes). Split by topic:
// server_handlers.cc, stats_handlers.cc, config_handlers.cc.
void registerHandlers(AdminHandlerRegistry& registry, Server& server);

void registerServerHandlers(AdminHandlerRegistry& registry, Server& server);
void registerStatsHandlers(AdminHandlerRegistry& registry, Server& server);
void registerConfigHandlers(AdminHandlerRegistry& registry, Server& server);

// JSON of a proto with Envoy's conventions (snake_case names, pretty-printed). Envoy prints
// default values for some endpoints (/server_info shows "state": "LIVE", the zero enum).
std::string protoToJson(const google::protobuf::Message& message,
                        bool always_print_primitive_fields = false);

}  // namespace waystone::server::admin
