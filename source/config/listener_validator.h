#pragma once

#include <string>

#include "absl/status/status.h"
#include "envoy/config/listener/v3/listener.pb.h"

namespace waystone::config {

// Semantic checks on one listener beyond its PGV rules (run validate() first): it has a bind
// address unless it is an internal listener (or an API listener), and every address it binds
// (address and additional_addresses) is a valid listen address. `path` names the listener, e.g.
// "static_resources.listeners[2]"; errors start with the offending field's full path.
// Usable for static and LDS listeners alike.
absl::Status validateListener(const envoy::config::listener::v3::Listener& listener,
                              const std::string& path);

}  // namespace waystone::config
