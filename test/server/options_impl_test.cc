#include "source/server/options_impl.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace waystone::server {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

absl::StatusOr<Options> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "waystone");
  std::vector<const char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(arg.c_str());
  }
  return parseOptions(static_cast<int>(argv.size()), argv.data());
}

Options parseOk(std::vector<std::string> args) {
  auto options = parse(std::move(args));
  EXPECT_TRUE(options.ok()) << options.status();
  return options.ok() ? *options : Options();
}

std::string parseError(std::vector<std::string> args) {
  auto options = parse(std::move(args));
  EXPECT_FALSE(options.ok());
  return options.ok() ? "" : std::string(options.status().message());
}

TEST(OptionsTest, Defaults) {
  const Options options = parseOk({});
  EXPECT_EQ(options.action, Options::Action::Run);
  EXPECT_EQ(options.mode, Options::Mode::Serve);
  EXPECT_EQ(options.concurrency, std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(options.log_level, logger::Level::Info);
  EXPECT_EQ(options.drain_time_s, 600u);
  EXPECT_EQ(options.drain_strategy, Options::DrainStrategy::Gradual);
  EXPECT_EQ(options.parent_shutdown_time_s, 900u);
  EXPECT_EQ(options.local_address_ip_version, Options::IpVersion::V4);
  EXPECT_EQ(options.file_flush_interval_msec, 10000u);
  EXPECT_EQ(options.socket_mode, 0600u);
  EXPECT_FALSE(options.allow_unknown_static_fields);
  EXPECT_TRUE(options.ignored_flags.empty());
  EXPECT_THAT(options.argv, ElementsAre("waystone"));
}

TEST(OptionsTest, ConfigFlagsBothSyntaxes) {
  Options options = parseOk({"-c", "/etc/envoy.yaml", "--config-yaml", "admin: {}"});
  EXPECT_EQ(options.config_path, "/etc/envoy.yaml");
  EXPECT_EQ(options.config_yaml, "admin: {}");
  options = parseOk({"--config-path=/a.json", "--config-yaml=node: {id: x}"});
  EXPECT_EQ(options.config_path, "/a.json");
  EXPECT_EQ(options.config_yaml, "node: {id: x}");
  options = parseOk({"-c=/b.yaml"});
  EXPECT_EQ(options.config_path, "/b.yaml");
  options = parseOk({"--config-path", "/c.yaml"});
  EXPECT_EQ(options.config_path, "/c.yaml");
}

TEST(OptionsTest, Mode) {
  EXPECT_EQ(parseOk({"--mode", "validate"}).mode, Options::Mode::Validate);
  EXPECT_EQ(parseOk({"--mode=init_only"}).mode, Options::Mode::InitOnly);
  EXPECT_EQ(parseOk({"--mode", "serve"}).mode, Options::Mode::Serve);
  EXPECT_EQ(parseError({"--mode", "check"}),
            "--mode: expected serve, validate or init_only, got 'check'");
}

TEST(OptionsTest, Concurrency) {
  EXPECT_EQ(parseOk({"--concurrency", "4"}).concurrency, 4u);
  EXPECT_EQ(parseOk({"--concurrency=2"}).concurrency, 2u);
  // Envoy runs one worker for 0.
  EXPECT_EQ(parseOk({"--concurrency", "0"}).concurrency, 1u);
  EXPECT_EQ(parseError({"--concurrency", "abc"}),
            "--concurrency: expected a positive integer, got 'abc'");
  EXPECT_EQ(parseError({"--concurrency", "-1"}),
            "--concurrency: expected a positive integer, got '-1'");
  EXPECT_EQ(parseError({"--concurrency", "4294967296"}),
            "--concurrency: expected a positive integer, got '4294967296'");
  EXPECT_EQ(parseError({"--concurrency", " 4"}),
            "--concurrency: expected a positive integer, got ' 4'");
}

TEST(OptionsTest, CpusetThreadsGivesAtLeastOneWorker) {
  const Options options = parseOk({"--cpuset-threads"});
  EXPECT_TRUE(options.cpuset_threads);
  EXPECT_GE(options.concurrency, 1u);
  EXPECT_LE(options.concurrency, std::max(1u, std::thread::hardware_concurrency()));
  // An explicit --concurrency wins.
  EXPECT_EQ(parseOk({"--cpuset-threads", "--concurrency", "7"}).concurrency, 7u);
}

TEST(OptionsTest, LogLevel) {
  EXPECT_EQ(parseOk({"-l", "debug"}).log_level, logger::Level::Debug);
  EXPECT_EQ(parseOk({"--log-level", "warning"}).log_level, logger::Level::Warn);
  EXPECT_EQ(parseOk({"--log-level=warn"}).log_level, logger::Level::Warn);
  EXPECT_EQ(parseOk({"-l=off"}).log_level, logger::Level::Off);
  EXPECT_THAT(parseError({"-l", "loud"}),
              testing::StartsWith("--log-level: invalid log level 'loud'"));
}

TEST(OptionsTest, ComponentLogLevel) {
  Options options = parseOk({"--component-log-level", "upstream:debug, http:warn,,misc:error"});
  EXPECT_EQ(options.component_log_level, "upstream:debug,http:warning,misc:error");
  EXPECT_TRUE(options.ignored_flags.empty());
  // An Envoy component Waystone does not have is accepted and reported as ignored.
  options = parseOk({"--component-log-level=kafka:debug,router:trace"});
  EXPECT_EQ(options.component_log_level, "router:trace");
  EXPECT_THAT(options.ignored_flags, ElementsAre("--component-log-level kafka:debug"));
  EXPECT_EQ(parseError({"--component-log-level", "nosuch:debug"}),
            "--component-log-level: unknown component 'nosuch'");
  EXPECT_THAT(parseError({"--component-log-level", "http:loud"}),
              testing::StartsWith("--component-log-level: component 'http': invalid log level"));
  EXPECT_EQ(parseError({"--component-log-level", "http"}),
            "--component-log-level: expected <component>:<level>[,<component>:<level>...], got "
            "'http'");
}

TEST(OptionsTest, LogFormatAndPath) {
  const std::string format = "%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t";
  const Options options =
      parseOk({"--log-format", format, "--log-path", "/tmp/w.log", "--log-format-escaped"});
  EXPECT_EQ(options.log_format, format);
  EXPECT_EQ(options.log_path, "/tmp/w.log");
  EXPECT_TRUE(options.log_format_escaped);
  EXPECT_THAT(options.ignored_flags, ElementsAre("--log-format-escaped"));
}

TEST(OptionsTest, DrainFlags) {
  const Options options = parseOk(
      {"--drain-time-s", "45", "--drain-strategy", "immediate", "--parent-shutdown-time-s=60"});
  EXPECT_EQ(options.drain_time_s, 45u);
  EXPECT_EQ(options.drain_strategy, Options::DrainStrategy::Immediate);
  EXPECT_EQ(options.parent_shutdown_time_s, 60u);
  EXPECT_EQ(parseOk({"--drain-strategy=gradual"}).drain_strategy, Options::DrainStrategy::Gradual);
  EXPECT_EQ(parseError({"--drain-strategy", "slow"}),
            "--drain-strategy: expected gradual or immediate, got 'slow'");
  EXPECT_EQ(parseError({"--drain-time-s", "1.5"}),
            "--drain-time-s: expected a number of seconds, got '1.5'");
}

TEST(OptionsTest, IdentityAndAddressFlags) {
  const Options options =
      parseOk({"--service-node", "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local",
               "--service-cluster=waypoint", "--service-zone", "zone-a",
               "--local-address-ip-version", "v6", "--admin-address-path", "/tmp/admin"});
  EXPECT_EQ(options.service_node, "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local");
  EXPECT_EQ(options.service_cluster, "waypoint");
  EXPECT_EQ(options.service_zone, "zone-a");
  EXPECT_EQ(options.local_address_ip_version, Options::IpVersion::V6);
  EXPECT_EQ(options.admin_address_path, "/tmp/admin");
  EXPECT_EQ(parseError({"--local-address-ip-version", "v5"}),
            "--local-address-ip-version: expected v4 or v6, got 'v5'");
}

TEST(OptionsTest, UnknownFieldFlags) {
  Options options = parseOk({"--allow-unknown-static-fields", "--reject-unknown-dynamic-fields",
                             "--ignore-unknown-dynamic-fields"});
  EXPECT_TRUE(options.allow_unknown_static_fields);
  EXPECT_TRUE(options.reject_unknown_dynamic_fields);
  EXPECT_TRUE(options.ignore_unknown_dynamic_fields);
  EXPECT_TRUE(parseOk({"--allow-unknown-fields"}).allow_unknown_static_fields);
}

TEST(OptionsTest, ExtensionsAndStatsTags) {
  const Options options = parseOk(
      {"--disable-extensions", "a.b, c.d", "--stats-tag", "mesh:m1", "--stats-tag=region:eu"});
  EXPECT_THAT(options.disabled_extensions, ElementsAre("a.b", "c.d"));
  EXPECT_THAT(options.stats_tags, ElementsAre("mesh:m1", "region:eu"));
  EXPECT_EQ(parseError({"--stats-tag", "novalue"}),
            "--stats-tag: expected <name>:<value>, got 'novalue'");
}

TEST(OptionsTest, HotRestartAndOtherIgnoredFlags) {
  const Options options =
      parseOk({"--disable-hot-restart", "--base-id", "3", "--use-dynamic-base-id", "--base-id-path",
               "/tmp/b", "--restart-epoch", "2", "--file-flush-interval-msec", "1000",
               "--file-flush-min-size-kb=8", "--enable-core-dump", "--skip-deprecated-logs",
               "--enable-fine-grain-logging", "--socket-path", "/tmp/s", "--socket-mode", "644",
               "--enable-mutex-tracing"});
  EXPECT_TRUE(options.disable_hot_restart);
  EXPECT_EQ(options.base_id, 3u);
  EXPECT_TRUE(options.use_dynamic_base_id);
  EXPECT_EQ(options.base_id_path, "/tmp/b");
  EXPECT_EQ(options.restart_epoch, 2u);
  EXPECT_EQ(options.file_flush_interval_msec, 1000u);
  EXPECT_EQ(options.file_flush_min_size_kb, 8u);
  EXPECT_TRUE(options.enable_core_dump);
  EXPECT_EQ(options.socket_path, "/tmp/s");
  EXPECT_EQ(options.socket_mode, 0644u);
  // --disable-hot-restart is honoured by construction (there is no hot restart), so only the
  // others are reported, once each, in command line order.
  EXPECT_THAT(
      options.ignored_flags,
      ElementsAre("--base-id", "--use-dynamic-base-id", "--base-id-path", "--restart-epoch",
                  "--file-flush-interval-msec", "--file-flush-min-size-kb", "--enable-core-dump",
                  "--skip-deprecated-logs", "--enable-fine-grain-logging", "--socket-path",
                  "--socket-mode", "--enable-mutex-tracing"));
  EXPECT_EQ(parseError({"--socket-mode", "9"}),
            "--socket-mode: expected an octal file mode such as 600, got '9'");
  EXPECT_EQ(parseError({"--base-id", "x"}), "--base-id: expected a non-negative integer, got 'x'");
}

TEST(OptionsTest, IstioPilotAgentCommandLine) {
  // The arguments pilot-agent passes to the proxy binary.
  const Options options = parseOk({"-c",
                                   "etc/istio/proxy/envoy-rev.json",
                                   "--drain-time-s",
                                   "45",
                                   "--drain-strategy",
                                   "immediate",
                                   "--local-address-ip-version",
                                   "v4",
                                   "--file-flush-interval-msec",
                                   "1000",
                                   "--disable-hot-restart",
                                   "--allow-unknown-static-fields",
                                   "--log-format",
                                   "%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t",
                                   "-l",
                                   "warning",
                                   "--component-log-level",
                                   "misc:error",
                                   "--concurrency",
                                   "2"});
  EXPECT_EQ(options.config_path, "etc/istio/proxy/envoy-rev.json");
  EXPECT_EQ(options.log_level, logger::Level::Warn);
  EXPECT_EQ(options.component_log_level, "misc:error");
  EXPECT_EQ(options.concurrency, 2u);
  EXPECT_TRUE(options.allow_unknown_static_fields);
  EXPECT_THAT(options.ignored_flags, ElementsAre("--file-flush-interval-msec"));
  EXPECT_EQ(options.argv.size(), 21u);
  EXPECT_EQ(options.argv[1], "-c");
}

TEST(OptionsTest, HelpAndVersion) {
  EXPECT_EQ(parseOk({"--help"}).action, Options::Action::Help);
  EXPECT_EQ(parseOk({"-h"}).action, Options::Action::Help);
  EXPECT_EQ(parseOk({"--version"}).action, Options::Action::Version);
  EXPECT_EQ(parseOk({"--hot-restart-version"}).action, Options::Action::HotRestartVersion);
  // Parsing stops at --help, as in Envoy.
  EXPECT_EQ(parseOk({"--mode", "validate", "--help", "--bogus"}).action, Options::Action::Help);
  const std::string text = usage();
  EXPECT_THAT(text, HasSubstr("-c, --config-path <path>"));
  EXPECT_THAT(text, HasSubstr("-l, --log-level <level>"));
  EXPECT_THAT(text, HasSubstr("--concurrency <N>"));
  EXPECT_THAT(text, HasSubstr("Accepted for Envoy compatibility, without effect:"));
  EXPECT_THAT(text, HasSubstr("--base-id <N>"));
}

TEST(OptionsTest, Errors) {
  EXPECT_EQ(parseError({"--foo"}), "unknown flag --foo; see --help");
  EXPECT_EQ(parseError({"--foo=1"}), "unknown flag --foo; see --help");
  EXPECT_EQ(parseError({"-x"}), "unknown flag -x; see --help");
  EXPECT_EQ(parseError({"stray"}), "unexpected argument 'stray'; see --help");
  EXPECT_EQ(parseError({"--concurrency"}), "--concurrency: missing value");
  EXPECT_EQ(parseError({"-c", "--mode", "validate"}), "--config-path: missing value");
  EXPECT_EQ(parseError({"--disable-hot-restart=true"}), "--disable-hot-restart: takes no value");
  EXPECT_EQ(parseError({"--concurrency", "1", "--concurrency=2"}),
            "--concurrency: given more than once");
  EXPECT_EQ(parseError({"-c", "a.yaml", "--config-path", "b.yaml"}),
            "--config-path: given more than once");
}

TEST(OptionsTest, EmptyValueWithEquals) {
  EXPECT_EQ(parseOk({"--config-yaml="}).config_yaml, "");
  EXPECT_EQ(parseOk({"--log-path", ""}).log_path, "");
}

TEST(OptionsTest, CommandLineOptionsProto) {
  const Options options =
      parseOk({"-c", "/e.yaml", "--concurrency", "3", "--mode", "validate", "--drain-time-s", "5",
               "--file-flush-interval-msec", "1500", "--drain-strategy", "immediate", "--stats-tag",
               "a:b", "--local-address-ip-version", "v6", "-l", "debug"});
  const auto proto = toCommandLineOptions(options);
  EXPECT_EQ(proto.config_path(), "/e.yaml");
  EXPECT_EQ(proto.concurrency(), 3u);
  EXPECT_EQ(proto.mode(), envoy::admin::v3::CommandLineOptions::Validate);
  EXPECT_EQ(proto.drain_time().seconds(), 5);
  EXPECT_EQ(proto.file_flush_interval().seconds(), 1);
  EXPECT_EQ(proto.file_flush_interval().nanos(), 500000000);
  EXPECT_EQ(proto.drain_strategy(), envoy::admin::v3::CommandLineOptions::Immediate);
  EXPECT_EQ(proto.local_address_ip_version(), envoy::admin::v3::CommandLineOptions::v6);
  EXPECT_EQ(proto.log_level(), "debug");
  EXPECT_EQ(proto.parent_shutdown_time().seconds(), 900);
  ASSERT_EQ(proto.stats_tag_size(), 1);
  EXPECT_EQ(proto.stats_tag(0), "a:b");
}

}  // namespace
}  // namespace waystone::server
