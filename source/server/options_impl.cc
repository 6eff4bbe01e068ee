#include "source/server/options_impl.h"

#include <sched.h>

#include <limits>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace waystone::server {
namespace {

using ApplyFn = absl::Status (*)(absl::string_view value, Options& options);

// One accepted flag. Switches (takes_value false) are applied with an empty value.
struct Flag {
  absl::string_view name;  // without the leading "--"
  char short_name;         // 0 if none
  absl::string_view value_name;
  absl::string_view help;
  bool takes_value;
  bool ignored;  // accepted for Envoy compatibility, without effect
  bool repeatable;
  ApplyFn apply;
};

absl::Status invalid(absl::string_view expected, absl::string_view value) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", expected, ", got '", value, "'"));
}

// Digits only: no sign, spaces or base prefixes, as a command line value should be.
bool parseUnsigned(absl::string_view value, uint64_t max, uint64_t& out, int base = 10) {
  if (value.empty() || value.size() > 20) {
    return false;
  }
  uint64_t result = 0;
  for (char c : value) {
    const int digit = absl::ascii_isdigit(static_cast<unsigned char>(c)) ? c - '0' : base;
    if (digit >= base || result > (max - digit) / base) {
      return false;
    }
    result = result * base + digit;
  }
  out = result;
  return true;
}

template <class T>
absl::Status setUnsigned(absl::string_view value, T& field, absl::string_view expected) {
  uint64_t parsed;
  if (!parseUnsigned(value, std::numeric_limits<T>::max(), parsed)) {
    return invalid(expected, value);
  }
  field = static_cast<T>(parsed);
  return absl::OkStatus();
}

// Envoy's component names (source/common/common/logger.h), for --component-log-level entries
// that are valid for Envoy but name nothing in Waystone: those are accepted and ignored.
constexpr absl::string_view kEnvoyComponents =
    "admin alternate_protocols_cache aws assert backtrace basic_auth cache_filter client "
    "config connection conn_handler decompression dns dubbo envoy_bug ext_authz ext_proc "
    "rocketmq file filter forward_proxy geolocation grpc happy_eyeballs hc "
    "health_checker http http2 http3 hystrix init io jwt kafka key_value_store lua main "
    "matcher misc mongo multi_connection oauth2 quic quic_stream pool rate_limit_quota "
    "rbac rds redis router runtime stats secret tap testing thrift tracing upstream udp "
    "wasm websocket golang";

bool isEnvoyComponent(absl::string_view name) {
  for (absl::string_view component : absl::StrSplit(kEnvoyComponents, ' ')) {
    if (component == name) {
      return true;
    }
  }
  return false;
}

absl::Status setComponentLogLevel(absl::string_view value, Options& options) {
  std::vector<std::string> kept;
  for (absl::string_view entry : absl::StrSplit(value, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      continue;
    }
    std::vector<absl::string_view> parts = absl::StrSplit(entry, absl::MaxSplits(':', 1));
    if (parts.size() != 2) {
      return invalid("<component>:<level>[,<component>:<level>...]", entry);
    }
    const absl::string_view component = absl::StripAsciiWhitespace(parts[0]);
    const absl::string_view level_text = absl::StripAsciiWhitespace(parts[1]);
    logger::Level level;
    absl::Status status = logger::Registry::parseLevel(level_text, level);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("component '", component, "': ", status.message()));
    }
    logger::Id id;
    if (logger::Registry::findId(component, id)) {
      kept.push_back(absl::StrCat(component, ":", logger::Registry::levelName(level)));
    } else if (isEnvoyComponent(component)) {
      options.ignored_flags.push_back(
          absl::StrCat("--component-log-level ", component, ":", level_text));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown component '", component, "'"));
    }
  }
  options.component_log_level = absl::StrJoin(kept, ",");
  return absl::OkStatus();
}

absl::Status setConcurrency(absl::string_view value, Options& options) {
  absl::Status status = setUnsigned(value, options.concurrency, "a positive integer");
  // Envoy runs one worker for --concurrency 0.
  options.concurrency = std::max<uint32_t>(options.concurrency, 1);
  return status;
}

absl::Status setSocketMode(absl::string_view value, Options& options) {
  uint64_t mode;
  if (!parseUnsigned(value, 07777, mode, 8)) {
    return invalid("an octal file mode such as 600", value);
  }
  options.socket_mode = static_cast<uint32_t>(mode);
  return absl::OkStatus();
}

absl::Status setStatsTag(absl::string_view value, Options& options) {
  const size_t colon = value.find(':');
  if (colon == 0 || colon == absl::string_view::npos || colon + 1 == value.size()) {
    return invalid("<name>:<value>", value);
  }
  options.stats_tags.emplace_back(value);
  return absl::OkStatus();
}

// clang-format off
const Flag kFlags[] = {
    {"config-path", 'c', "path", "Path to the bootstrap file (.yaml, .yml, .json, .pb_text, .pb)",
     true, false, false,
     [](absl::string_view v, Options& o) { o.config_path = std::string(v); return absl::OkStatus(); }},
    {"config-yaml", 0, "yaml", "Bootstrap YAML merged over the file's bootstrap", true, false, false,
     [](absl::string_view v, Options& o) { o.config_yaml = std::string(v); return absl::OkStatus(); }},
    {"mode", 0, "serve|validate|init_only", "Serve traffic (default), or validate or initialise and exit",
     true, false, false,
     [](absl::string_view v, Options& o) {
       if (v == "serve") { o.mode = Options::Mode::Serve; }
       else if (v == "validate") { o.mode = Options::Mode::Validate; }
       else if (v == "init_only") { o.mode = Options::Mode::InitOnly; }
       else { return invalid("serve, validate or init_only", v); }
       return absl::OkStatus();
     }},
    {"allow-unknown-static-fields", 0, "", "Ignore unknown fields in the bootstrap", false, false, false,
     [](absl::string_view, Options& o) { o.allow_unknown_static_fields = true; return absl::OkStatus(); }},
    {"allow-unknown-fields", 0, "", "Deprecated alias of --allow-unknown-static-fields", false, false, false,
     [](absl::string_view, Options& o) { o.allow_unknown_static_fields = true; return absl::OkStatus(); }},
    {"reject-unknown-dynamic-fields", 0, "", "Reject unknown fields in xDS resources", false, false, false,
     [](absl::string_view, Options& o) { o.reject_unknown_dynamic_fields = true; return absl::OkStatus(); }},
    {"ignore-unknown-dynamic-fields", 0, "", "Ignore unknown fields in xDS resources silently", false, false, false,
     [](absl::string_view, Options& o) { o.ignore_unknown_dynamic_fields = true; return absl::OkStatus(); }},
    {"concurrency", 0, "N", "Number of worker threads (default: hardware threads)", true, false, false,
     setConcurrency},
    {"cpuset-threads", 0, "", "Default --concurrency to the CPUs of the process's cpuset", false, false, false,
     [](absl::string_view, Options& o) { o.cpuset_threads = true; return absl::OkStatus(); }},
    {"log-level", 'l', "level", "trace, debug, info (default), warning, error, critical or off",
     true, false, false,
     [](absl::string_view v, Options& o) { return logger::Registry::parseLevel(v, o.log_level); }},
    {"component-log-level", 0, "c:l,...", "Per-component levels, e.g. upstream:debug,http:trace",
     true, false, false, setComponentLogLevel},
    {"log-format", 0, "format", "Log line format (spdlog-style flags)", true, false, false,
     [](absl::string_view v, Options& o) { o.log_format = std::string(v); return absl::OkStatus(); }},
    {"log-format-escaped", 0, "", "Escape C-style sequences in log messages", false, true, false,
     [](absl::string_view, Options& o) { o.log_format_escaped = true; return absl::OkStatus(); }},
    {"log-path", 0, "path", "Write the log to this file instead of stderr", true, false, false,
     [](absl::string_view v, Options& o) { o.log_path = std::string(v); return absl::OkStatus(); }},
    {"enable-fine-grain-logging", 0, "", "Envoy's per-file loggers", false, true, false,
     [](absl::string_view, Options& o) { o.enable_fine_grain_logging = true; return absl::OkStatus(); }},
    {"skip-deprecated-logs", 0, "", "Do not log use of deprecated fields", false, true, false,
     [](absl::string_view, Options& o) { o.skip_deprecated_logs = true; return absl::OkStatus(); }},
    {"drain-time-s", 0, "seconds", "Drain time for listeners being removed (default 600)", true, false, false,
     [](absl::string_view v, Options& o) { return setUnsigned(v, o.drain_time_s, "a number of seconds"); }},
    {"drain-strategy", 0, "gradual|immediate", "How connections are asked to close while draining",
     true, false, false,
     [](absl::string_view v, Options& o) {
       if (v == "gradual") { o.drain_strategy = Options::DrainStrategy::Gradual; }
       else if (v == "immediate") { o.drain_strategy = Options::DrainStrategy::Immediate; }
       else { return invalid("gradual or immediate", v); }
       return absl::OkStatus();
     }},
    {"parent-shutdown-time-s", 0, "seconds", "Hot restart parent shutdown time (default 900)",
     true, true, false,
     [](absl::string_view v, Options& o) { return setUnsigned(v, o.parent_shutdown_time_s, "a number of seconds"); }},
    {"local-address-ip-version", 0, "v4|v6", "IP version of the local address (default v4)", true, false, false,
     [](absl::string_view v, Options& o) {
       if (v == "v4") { o.local_address_ip_version = Options::IpVersion::V4; }
       else if (v == "v6") { o.local_address_ip_version = Options::IpVersion::V6; }
       else { return invalid("v4 or v6", v); }
       return absl::OkStatus();
     }},
    {"service-node", 0, "name", "Node id, if the bootstrap sets none", true, false, false,
     [](absl::string_view v, Options& o) { o.service_node = std::string(v); return absl::OkStatus(); }},
    {"service-cluster", 0, "name", "Node cluster, if the bootstrap sets none", true, false, false,
     [](absl::string_view v, Options& o) { o.service_cluster = std::string(v); return absl::OkStatus(); }},
    {"service-zone", 0, "name", "Node zone, if the bootstrap sets none", true, false, false,
     [](absl::string_view v, Options& o) { o.service_zone = std::string(v); return absl::OkStatus(); }},
    {"admin-address-path", 0, "path", "Write the bound admin address to this file", true, false, false,
     [](absl::string_view v, Options& o) { o.admin_address_path = std::string(v); return absl::OkStatus(); }},
    {"disable-extensions", 0, "names", "Comma-separated extension names to disable", true, false, false,
     [](absl::string_view v, Options& o) {
       for (absl::string_view name : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
         o.disabled_extensions.emplace_back(absl::StripAsciiWhitespace(name));
       }
       return absl::OkStatus();
     }},
    {"stats-tag", 0, "name:value", "Tag added to every stat (repeatable)", true, false, true, setStatsTag},
    {"disable-hot-restart", 0, "", "Disable hot restart (Waystone never hot restarts)", false, false, false,
     [](absl::string_view, Options& o) { o.disable_hot_restart = true; return absl::OkStatus(); }},
    {"base-id", 0, "N", "Hot restart base id", true, true, false,
     [](absl::string_view v, Options& o) { return setUnsigned(v, o.base_id, "a non-negative integer"); }},
    {"use-dynamic-base-id", 0, "", "Pick an unused hot restart base id", false, true, false,
     [](absl::string_view, Options& o) { o.use_dynamic_base_id = true; return absl::OkStatus(); }},
    {"base-id-path", 0, "path", "File the hot restart base id is written to", true, true, false,
     [](absl::string_view v, Options& o) { o.base_id_path = std::string(v); return absl::OkStatus(); }},
    {"restart-epoch", 0, "N", "Hot restart epoch", true, true, false,
     [](absl::string_view v, Options& o) { return setUnsigned(v, o.restart_epoch, "a non-negative integer"); }},
    {"skip-hot-restart-on-no-parent", 0, "", "Hot restart option", false, true, false,
     [](absl::string_view, Options&) { return absl::OkStatus(); }},
    {"skip-hot-restart-parent-stats", 0, "", "Hot restart option", false, true, false,
     [](absl::string_view, Options&) { return absl::OkStatus(); }},
    {"socket-path", 0, "path", "Hot restart domain socket path", true, true, false,
     [](absl::string_view v, Options& o) { o.socket_path = std::string(v); return absl::OkStatus(); }},
    {"socket-mode", 0, "mode", "Hot restart domain socket file mode (octal, default 600)", true, true, false,
     setSocketMode},
    {"file-flush-interval-msec", 0, "ms", "Access log flush interval", true, true, false,
     [](absl::string_view v, Options& o) { return setUnsigned(v, o.file_flush_interval_msec, "a number of milliseconds"); }},
    {"file-flush-min-size-kb", 0, "kb", "Access log flush size", true, true, false,
     [](absl::string_view v, Options& o) { return setUnsigned(v, o.file_flush_min_size_kb, "a number of kilobytes"); }},
    {"enable-core-dump", 0, "", "Enable core dumps", false, true, false,
     [](absl::string_view, Options& o) { o.enable_core_dump = true; return absl::OkStatus(); }},
    {"enable-mutex-tracing", 0, "", "Mutex contention tracing", false, true, false,
     [](absl::string_view, Options& o) { o.enable_mutex_tracing = true; return absl::OkStatus(); }},
    {"hot-restart-version", 0, "", "Print the hot restart compatibility version and exit", false, false, false,
     [](absl::string_view, Options& o) { o.action = Options::Action::HotRestartVersion; return absl::OkStatus(); }},
    {"version", 0, "", "Print the version and exit", false, false, false,
     [](absl::string_view, Options& o) { o.action = Options::Action::Version; return absl::OkStatus(); }},
    {"help", 'h', "", "Print this help and exit", false, false, false,
     [](absl::string_view, Options& o) { o.action = Options::Action::Help; return absl::OkStatus(); }},
};
// clang-format on

const Flag* findLong(absl::string_view name) {
  for (const Flag& flag : kFlags) {
    if (flag.name == name) {
      return &flag;
    }
  }
  return nullptr;
}

const Flag* findShort(char name) {
  for (const Flag& flag : kFlags) {
    if (flag.short_name != 0 && flag.short_name == name) {
      return &flag;
    }
  }
  return nullptr;
}

// The flag an argument names ("--mode", "--mode=x", "-c", "-c=x"), or null; `inline_value` is
// set for the "=value" forms.
const Flag* lookup(absl::string_view arg, absl::string_view& inline_value, bool& has_inline) {
  has_inline = false;
  absl::string_view name = arg;
  const size_t equals = name.find('=');
  if (equals != absl::string_view::npos) {
    inline_value = name.substr(equals + 1);
    has_inline = true;
    name = name.substr(0, equals);
  }
  if (absl::ConsumePrefix(&name, "--")) {
    return findLong(name);
  }
  if (name.size() == 2 && name[0] == '-') {
    return findShort(name[1]);
  }
  return nullptr;
}

uint32_t defaultConcurrency(bool cpuset_threads) {
  if (cpuset_threads) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
      return static_cast<uint32_t>(CPU_COUNT(&set));
    }
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

absl::StatusOr<Options> parseOptions(int argc, const char* const* argv) {
  Options options;
  for (int i = 0; i < argc; ++i) {
    options.argv.emplace_back(argv[i] != nullptr ? argv[i] : "");
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 1; i < options.argv.size(); ++i) {
    const std::string& arg = options.argv[i];
    absl::string_view value;
    bool has_inline = false;
    const Flag* flag = lookup(arg, value, has_inline);
    if (flag == nullptr) {
      if (absl::StartsWith(arg, "-") && arg.size() > 1) {
        const std::string name = arg.substr(0, arg.find('='));
        return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name, "; see --help"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "'; see --help"));
    }
    const std::string flag_name = absl::StrCat("--", flag->name);
    if (!flag->repeatable && !seen.insert(flag->name).second) {
      return absl::InvalidArgumentError(absl::StrCat(flag_name, ": given more than once"));
    }
    if (!flag->takes_value && has_inline) {
      return absl::InvalidArgumentError(absl::StrCat(flag_name, ": takes no value"));
    }
    if (flag->takes_value && !has_inline) {
      // The next argument is the value, unless there is none or it is itself a flag.
      absl::string_view ignored_value;
      bool ignored_inline;
      if (i + 1 >= options.argv.size() ||
          lookup(options.argv[i + 1], ignored_value, ignored_inline) != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(flag_name, ": missing value"));
      }
      value = options.argv[++i];
    }
    absl::Status status = flag->apply(value, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(flag_name, ": ", status.message()));
    }
    if (options.action != Options::Action::Run) {
      return options;  // --help, --version: nothing else matters.
    }
    if (flag->ignored) {
      options.ignored_flags.push_back(flag_name);
    }
  }
  if (!seen.contains("concurrency")) {
    options.concurrency = defaultConcurrency(options.cpuset_threads);
  }
  return options;
}

std::string usage() {
  std::string text =
      "Usage: waystone [options]\n"
      "Waystone accepts Envoy's command line. Values go as --flag value or --flag=value.\n\n";
  std::vector<const Flag*> ignored;
  for (const Flag& flag : kFlags) {
    if (flag.ignored) {
      ignored.push_back(&flag);
      continue;
    }
    std::string names = flag.short_name != 0
                            ? absl::StrFormat("-%c, --%s", flag.short_name, flag.name)
                            : absl::StrCat("    --", flag.name);
    if (flag.takes_value) {
      absl::StrAppend(&names, " <", flag.value_name, ">");
    }
    absl::StrAppendFormat(&text, "  %-44s %s\n", names, flag.help);
  }
  text += "\nAccepted for Envoy compatibility, without effect:\n";
  for (const Flag* flag : ignored) {
    std::string names = absl::StrCat("    --", flag->name);
    if (flag->takes_value) {
      absl::StrAppend(&names, " <", flag->value_name, ">");
    }
    absl::StrAppendFormat(&text, "  %-44s %s\n", names, flag->help);
  }
  return text;
}

envoy::admin::v3::CommandLineOptions toCommandLineOptions(const Options& options) {
  using Proto = envoy::admin::v3::CommandLineOptions;
  Proto proto;
  proto.set_base_id(options.base_id);
  proto.set_use_dynamic_base_id(options.use_dynamic_base_id);
  proto.set_base_id_path(options.base_id_path);
  proto.set_concurrency(options.concurrency);
  proto.set_config_path(options.config_path);
  proto.set_config_yaml(options.config_yaml);
  proto.set_allow_unknown_static_fields(options.allow_unknown_static_fields);
  proto.set_reject_unknown_dynamic_fields(options.reject_unknown_dynamic_fields);
  proto.set_ignore_unknown_dynamic_fields(options.ignore_unknown_dynamic_fields);
  proto.set_admin_address_path(options.admin_address_path);
  proto.set_local_address_ip_version(
      options.local_address_ip_version == Options::IpVersion::V6 ? Proto::v6 : Proto::v4);
  proto.set_log_level(std::string(logger::Registry::levelName(options.log_level)));
  proto.set_component_log_level(options.component_log_level);
  proto.set_log_format(options.log_format);
  proto.set_log_format_escaped(options.log_format_escaped);
  proto.set_log_path(options.log_path);
  proto.set_service_cluster(options.service_cluster);
  proto.set_service_node(options.service_node);
  proto.set_service_zone(options.service_zone);
  proto.mutable_file_flush_interval()->set_seconds(options.file_flush_interval_msec / 1000);
  proto.mutable_file_flush_interval()->set_nanos((options.file_flush_interval_msec % 1000) *
                                                 1000000);
  proto.mutable_drain_time()->set_seconds(options.drain_time_s);
  proto.set_drain_strategy(options.drain_strategy == Options::DrainStrategy::Immediate
                               ? Proto::Immediate
                               : Proto::Gradual);
  proto.mutable_parent_shutdown_time()->set_seconds(options.parent_shutdown_time_s);
  switch (options.mode) {
    case Options::Mode::Serve:
      proto.set_mode(Proto::Serve);
      break;
    case Options::Mode::Validate:
      proto.set_mode(Proto::Validate);
      break;
    case Options::Mode::InitOnly:
      proto.set_mode(Proto::InitOnly);
      break;
  }
  proto.set_disable_hot_restart(options.disable_hot_restart);
  proto.set_enable_mutex_tracing(options.enable_mutex_tracing);
  proto.set_restart_epoch(options.restart_epoch);
  proto.set_cpuset_threads(options.cpuset_threads);
  for (const std::string& extension : options.disabled_extensions) {
    proto.add_disabled_extensions(extension);
  }
  proto.set_enable_fine_grain_logging(options.enable_fine_grain_logging);
  proto.set_socket_path(options.socket_path);
  proto.set_socket_mode(options.socket_mode);
  proto.set_enable_core_dump(options.enable_core_dump);
  for (const std::string& tag : options.stats_tags) {
    proto.add_stats_tag(tag);
  }
  return proto;
}

}  // namespace waystone::server
