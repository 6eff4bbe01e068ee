#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace waystone::logger {

// Log levels, in Envoy's order and with Envoy's names (trace, debug, info, warning, error,
// critical, off). "warn" is accepted as an alias of "warning" when parsing.
enum class Level : int { Trace = 0, Debug, Info, Warn, Error, Critical, Off };

// Logging components, with Envoy's names so that `--component-log-level` and the admin
// `/logging` endpoint accept what pilot-agent and operators pass to Envoy (Envoy rejects an
// unknown component, and so do we). hbone and xds are ours. Each has its own level,
// changeable at run time.
// The list is kept one per line; clang-format does not settle on a layout for it.
// clang-format off
#define WAYSTONE_LOGGER_COMPONENTS(X) \
  X(admin) \
  X(alternate_protocols_cache) \
  X(aws) \
  X(assert) \
  X(backtrace) \
  X(client) \
  X(config) \
  X(connection) \
  X(conn_handler) \
  X(compression) \
  X(decompression) \
  X(dns) \
  X(envoy_bug) \
  X(ext_authz) \
  X(ext_proc) \
  X(file) \
  X(filter) \
  X(forward_proxy) \
  X(grpc) \
  X(happy_eyeballs) \
  X(hbone) \
  X(hc) \
  X(health_checker) \
  X(http) \
  X(http2) \
  X(http3) \
  X(init) \
  X(io) \
  X(jwt) \
  X(lua) \
  X(main) \
  X(matcher) \
  X(misc) \
  X(multi_connection) \
  X(pool) \
  X(quic) \
  X(quic_stream) \
  X(rbac) \
  X(rds) \
  X(router) \
  X(runtime) \
  X(secret) \
  X(stats) \
  X(tap) \
  X(testing) \
  X(tls) \
  X(tracing) \
  X(udp) \
  X(upstream) \
  X(wasm) \
  X(websocket) \
  X(xds)
// clang-format on

enum class Id : int {
#define WAYSTONE_LOGGER_ENUM(name) name,
  WAYSTONE_LOGGER_COMPONENTS(WAYSTONE_LOGGER_ENUM)
#undef WAYSTONE_LOGGER_ENUM
      Count
};

// The process-wide registry of component levels, the line format and the sink.
//
// Level checks are one relaxed atomic load, so disabled log statements cost next to nothing on
// the hot path. Every enabled line is formatted into one buffer and written with one write(2),
// so lines from different threads never interleave. log() takes no lock (the descriptor and
// the compiled format are atomic loads); a mutex is held only while switching the sink or the
// format.
class Registry {
 public:
  // Envoy's default line format: "[2026-11-25 07:40:01.123][12345][info][main] message".
  static constexpr absl::string_view kDefaultFormat = "[%Y-%m-%d %T.%e][%t][%l][%n] %v";

  static bool enabled(Id id, Level level) {
    return static_cast<int>(level) >= levels_[static_cast<int>(id)].load(std::memory_order_relaxed);
  }
  // Formats one line in the configured format and writes it to the sink (stderr or a file).
  static void log(Id id, Level level, absl::string_view message);

  static void setAllLevels(Level level);
  // Returns false if `component` is not a known component name.
  static bool setLevel(absl::string_view component, Level level);
  static Level level(Id id) {
    return static_cast<Level>(levels_[static_cast<int>(id)].load(std::memory_order_relaxed));
  }
  static absl::string_view name(Id id);
  // Looks a component up by its name; returns false if there is none.
  static bool findId(absl::string_view component, Id& id);
  static std::vector<std::pair<std::string, Level>> allLevels();

  // Parses Envoy's --component-log-level value, e.g. "upstream:debug,connection:trace", and
  // applies it only if every entry is valid; the error names the bad component or level.
  static absl::Status setComponentLevels(absl::string_view spec);

  // Parses "trace".."off" (and "warn"); names the bad value in the error.
  static absl::Status parseLevel(absl::string_view text, Level& level);
  static absl::string_view levelName(Level level);

  // Compiles a spdlog-style pattern (Envoy's --log-format) once; later lines use it.
  // Supported flags: %Y %m %d %H %M %S %T %e (ms) %f (us) %F (ns) %t (thread id) %P (pid)
  // %l (level) %L (short level) %n (component) %v (message) %_ (message, newlines escaped)
  // %j (message, JSON-escaped) %%. Any other flag is kept literally, as spdlog does.
  static void setFormat(absl::string_view pattern);

  // Appends to `path` from now on (creating it if needed). The error names the path.
  static absl::Status setLogPath(absl::string_view path);
  // Reopens the current log file by its path (log rotation on SIGUSR1). A no-op on stderr.
  static absl::Status reopenLogFile();
  // Goes back to stderr (and forgets the log path).
  static void useStderr();

 private:
  static std::atomic<int> levels_[static_cast<int>(Id::Count)];
};

}  // namespace waystone::logger

// WAYSTONE_LOG(info, main, "listening on %s", address);  Format is absl::StrFormat's.
#define WAYSTONE_LOG_LEVEL_trace ::waystone::logger::Level::Trace
#define WAYSTONE_LOG_LEVEL_debug ::waystone::logger::Level::Debug
#define WAYSTONE_LOG_LEVEL_info ::waystone::logger::Level::Info
#define WAYSTONE_LOG_LEVEL_warn ::waystone::logger::Level::Warn
#define WAYSTONE_LOG_LEVEL_error ::waystone::logger::Level::Error
#define WAYSTONE_LOG_LEVEL_critical ::waystone::logger::Level::Critical

#define WAYSTONE_LOG(level, component, ...)                                                        \
  do {                                                                                             \
    if (::waystone::logger::Registry::enabled(::waystone::logger::Id::component,                   \
                                              WAYSTONE_LOG_LEVEL_##level)) {                       \
      ::waystone::logger::Registry::log(::waystone::logger::Id::component,                         \
                                        WAYSTONE_LOG_LEVEL_##level, absl::StrFormat(__VA_ARGS__)); \
    }                                                                                              \
  } while (false)
