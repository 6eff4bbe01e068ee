// The binary's command line: --mode validate on good and bad configs, --config-yaml, unknown
// fields and flags, --version and --help. Each case runs the real binary and checks its exit
// status and message.

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "test/integration/integration_util.h"
#include "test/test_common/child_process.h"
#include "test/test_common/file_util.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/temp_dir.h"

namespace waystone::test {
namespace {

using ::testing::HasSubstr;
constexpr auto kTimeout = std::chrono::seconds(20);

struct RunResult {
  int status = -1000;
  std::string out;
  std::string err;
};

RunResult run(std::vector<std::string> args) {
  args.insert(args.begin(), runfilesPath("source/exe/waystone"));
  RunResult result;
  auto process = ChildProcess::start(std::move(args));
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) {
    return result;
  }
  auto status = (*process)->waitForExit(kTimeout);
  EXPECT_TRUE(status.has_value()) << "did not exit";
  result.status = status.value_or(-1000);
  result.out = (*process)->stdoutContents();
  result.err = (*process)->stderrContents();
  return result;
}

class CommandLineTest : public ::testing::Test {
 protected:
  std::string writeConfig(absl::string_view yaml, absl::string_view name = "bootstrap.yaml") {
    const std::string path = dir_.file(std::string(name));
    EXPECT_TRUE(writeFile(path, yaml).ok());
    return path;
  }

  TempDir dir_;
};

TEST_F(CommandLineTest, ValidateGoodConfig) {
  const std::string path = writeConfig(tcpProxyBootstrap(8080));
  RunResult r = run({"--mode", "validate", "-c", path});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("configuration '", path, "' OK\n"));
}

TEST_F(CommandLineTest, ValidateNamesTheBadField) {
  std::string yaml = tcpProxyBootstrap(8080);
  yaml.replace(yaml.find("port_value: 8080"), 16, "port_value: 70000");
  RunResult r = run({"--mode", "validate", "-c", writeConfig(yaml)});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("static_resources.clusters[0].load_assignment.endpoints[0]"
                               ".lb_endpoints[0].endpoint.address.socket_address.port_value"));
  EXPECT_THAT(r.err, HasSubstr("70000"));
}

TEST_F(CommandLineTest, ValidateRejectsUnknownClusterInTcpProxy) {
  std::string yaml = tcpProxyBootstrap(8080);
  yaml.replace(yaml.find("cluster: backend"), 16, "cluster: nowhere");
  RunResult r = run({"--mode", "validate", "-c", writeConfig(yaml)});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("static_resources.listeners[0].filter_chains[0].filters[0]"
                               ".typed_config.cluster: unknown cluster \"nowhere\""));
}

TEST_F(CommandLineTest, ValidateRejectsDuplicateListenerNames) {
  std::string yaml = tcpProxyBootstrap(8080);
  const size_t start = yaml.find("  - name: proxy");
  const size_t end = yaml.find("  clusters:");
  const std::string listener = yaml.substr(start, end - start);
  yaml.insert(end, listener);
  RunResult r = run({"--mode", "validate", "-c", writeConfig(yaml)});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("static_resources.listeners[1].name"));
  EXPECT_THAT(r.err, HasSubstr("duplicate"));
}

TEST_F(CommandLineTest, UnknownFieldsRejectedUnlessAllowed) {
  std::string yaml = tcpProxyBootstrap(8080);
  yaml.replace(yaml.find("    connect_timeout: 1s"), 23,
               "    connect_timeout: 1s\n    colour: blue");
  const std::string path = writeConfig(yaml);
  RunResult r = run({"--mode", "validate", "-c", path});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("static_resources.clusters[0].colour"));
  r = run({"--mode", "validate", "-c", path, "--allow-unknown-static-fields"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(CommandLineTest, YamlSyntaxErrorNamesTheLine) {
  RunResult r = run({"--mode", "validate", "-c", writeConfig("admin:\n  address: [unclosed\n")});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("line"));
}

TEST_F(CommandLineTest, ConfigYamlIsMergedOverTheFile) {
  const std::string path = writeConfig(tcpProxyBootstrap(8080));
  // The merged-in listener duplicates a name: proves --config-yaml was read and merged.
  RunResult r = run({"--mode", "validate", "-c", path, "--config-yaml",
                     "static_resources: {listeners: [{name: proxy, address: {socket_address: "
                     "{address: 127.0.0.1, port_value: 1}}}]}"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("static_resources.listeners[1].name"));
  // --config-yaml alone is a complete configuration.
  r = run({"--mode", "validate", "--config-yaml", "node: {id: x}"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(CommandLineTest, MissingConfigFileIsNamed) {
  RunResult r = run({"--mode", "validate", "-c", "/nonexistent/waystone.yaml"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/waystone.yaml"));
}

TEST_F(CommandLineTest, NoConfigAtAll) {
  RunResult r = run({"--mode", "validate"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("--config-path"));
}

TEST_F(CommandLineTest, UnknownFlagIsAnError) {
  RunResult r = run({"--frobnicate"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("--frobnicate"));
}

TEST_F(CommandLineTest, BadFlagValueIsNamed) {
  RunResult r = run({"--concurrency", "lots", "--mode", "validate", "--config-yaml", "{}"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("--concurrency"));
  EXPECT_THAT(r.err, HasSubstr("lots"));
}

TEST_F(CommandLineTest, PilotAgentCommandLineIsAccepted) {
  // The exact flags pilot-agent passes to the proxy (istio pkg/envoy/proxy.go).
  const std::string path = writeConfig(tcpProxyBootstrap(8080));
  RunResult r = run({"-c",
                     path,
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
                     "-l",
                     "warning",
                     "--component-log-level",
                     "misc:error",
                     "--concurrency",
                     "2",
                     "--mode",
                     "validate"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(CommandLineTest, IgnoredFlagsAreLoggedOnce) {
  const std::string path = writeConfig(tcpProxyBootstrap(8080));
  RunResult r =
      run({"-c", path, "--mode", "validate", "--base-id", "7", "--file-flush-interval-msec", "10"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("flag --base-id is accepted for Envoy compatibility and ignored"));
  EXPECT_THAT(r.err, HasSubstr("flag --file-flush-interval-msec"));
}

TEST_F(CommandLineTest, VersionAndHelp) {
  RunResult r = run({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("waystone version: "));
  r = run({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--config-path"));
  EXPECT_THAT(r.out, HasSubstr("--drain-time-s"));
}

}  // namespace
}  // namespace waystone::test
