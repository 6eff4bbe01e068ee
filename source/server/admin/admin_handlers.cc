#include "source/server/admin/admin_handlers.h"

#include "google/protobuf/util/json_util.h"

namespace waystone::server::admin {

void registerHandlers(AdminHandlerRegistry& registry, Server& server) {
  registerServerHandlers(registry, server);
  registerStatsHandlers(registry, server);
  registerConfigHandlers(registry, server);
}

std::string protoToJson(const google::protobuf::Message& message,
                        bool always_print_primitive_fields) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = always_print_primitive_fields;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return std::string("{\"error\": \"cannot render as JSON\"}\n");
  }
  return out;
}

}  // namespace waystone::server::admin
