#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "source/common/common/logger.h"

namespace waystone::server {

// The parsed command line. Waystone takes Envoy's command line, because Istio's pilot-agent
// starts the proxy with it; flags Waystone has no use for are accepted and listed in
// `ignored_flags`. Defaults are Envoy's. See parseOptions() in options_impl.h.
struct Options {
  // What the process should do: run, or print something and exit.
  enum class Action { Run, Help, Version, HotRestartVersion };
  // --mode: serve traffic, validate the configuration and exit, or initialise and exit.
  enum class Mode { Serve, Validate, InitOnly };
  enum class IpVersion { V4, V6 };
  enum class DrainStrategy { Gradual, Immediate };

  Action action = Action::Run;

  // Configuration.
  std::string config_path;  // -c/--config-path
  std::string config_yaml;  // --config-yaml, merged over the file
  Mode mode = Mode::Serve;
  bool allow_unknown_static_fields = false;  // also --allow-unknown-fields (deprecated)
  bool reject_unknown_dynamic_fields = false;
  bool ignore_unknown_dynamic_fields = false;

  // Worker threads: --concurrency, default the number of hardware threads (or of CPUs in the
  // process's cpuset with --cpuset-threads); never less than 1.
  uint32_t concurrency = 1;
  bool cpuset_threads = false;

  // Logging.
  logger::Level log_level = logger::Level::Info;  // -l/--log-level
  // --component-log-level, validated and normalised ("upstream:debug,http:trace"); holds only
  // Waystone's components (Envoy-only ones are listed in ignored_flags). Empty if not given.
  std::string component_log_level;
  std::string log_format;  // --log-format; empty means the logger's default
  std::string log_path;    // --log-path; empty means stderr
  bool log_format_escaped = false;
  bool enable_fine_grain_logging = false;
  bool skip_deprecated_logs = false;

  // Draining and shutdown.
  uint32_t drain_time_s = 600;
  DrainStrategy drain_strategy = DrainStrategy::Gradual;
  uint32_t parent_shutdown_time_s = 900;

  // Identity, used to fill the bootstrap's node when given.
  std::string service_node;
  std::string service_cluster;
  std::string service_zone;
  IpVersion local_address_ip_version = IpVersion::V4;
  // File the admin address is written to once bound.
  std::string admin_address_path;

  // Extensions named by --disable-extensions (comma-separated), and --stats-tag name:value
  // (repeatable), in the order given.
  std::vector<std::string> disabled_extensions;
  std::vector<std::string> stats_tags;

  // Hot restart, file flushing, core dumps: accepted for compatibility, without effect.
  uint64_t base_id = 0;
  bool use_dynamic_base_id = false;
  std::string base_id_path;
  uint32_t restart_epoch = 0;
  bool disable_hot_restart = false;
  uint32_t file_flush_interval_msec = 10000;
  uint32_t file_flush_min_size_kb = 64;
  bool enable_core_dump = false;
  bool enable_mutex_tracing = false;
  std::string socket_path = "@envoy_domain_socket";
  uint32_t socket_mode = 0600;

  // Each flag given on the command line that Waystone accepts but ignores, as given
  // ("--base-id", "--component-log-level kafka:debug"), once, in order: the server logs them.
  std::vector<std::string> ignored_flags;

  // The original command line, program name first (for /server_info and logs).
  std::vector<std::string> argv;
};

}  // namespace waystone::server
