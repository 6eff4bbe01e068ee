#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

#include "test/test_common/waystone_process.h"

namespace waystone::test {

// A bootstrap with the admin API on 127.0.0.1:0 and one tcp_proxy listener on 127.0.0.1:0 that
// forwards to `backend_port` on 127.0.0.1. Listener and cluster are named "proxy" and "backend".
std::string tcpProxyBootstrap(uint16_t backend_port, absl::string_view extra_listener_yaml = "");

// Reads the port a listener actually bound from GET /listeners?format=json.
absl::StatusOr<uint16_t> listenerPort(WaystoneProcess& process, absl::string_view listener_name);

// Value of `name` in GET /stats text output ("name: value"), or nullopt when absent.
std::optional<uint64_t> statValue(WaystoneProcess& process, absl::string_view name);

}  // namespace waystone::test
