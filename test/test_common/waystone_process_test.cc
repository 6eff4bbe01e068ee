#include "test/test_common/waystone_process.h"

#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/test_common/file_util.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_http_server.h"

namespace waystone::test {
namespace {

constexpr std::chrono::seconds kTimeout(30);

// Stands in for the real binary until it exists: prints its arguments, writes the admin address
// of a TestHttpServer (port from $FAKE_ADMIN_PORT) the way waystone does, then runs until SIGTERM,
// which it answers with exit code 0. $FAKE_EXIT_EARLY makes it fail at once instead.
constexpr char kFakeWaystone[] = R"(#!/bin/sh
echo "args: $*"
if [ -n "$FAKE_EXIT_EARLY" ]; then
  echo "error: bad bootstrap" >&2
  exit "$FAKE_EXIT_EARLY"
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --admin-address-path) addr="$2"; shift ;;
  esac
  shift
done
echo "fake waystone starting" >&2
# Like the real binary: handle SIGTERM before announcing the admin address.
trap 'echo "got SIGTERM" >&2; kill $sleeper 2>/dev/null; exit 0' TERM
if [ -n "$FAKE_ADMIN_PORT" ]; then
  printf '127.0.0.1:%s\n' "$FAKE_ADMIN_PORT" > "$addr.tmp" && mv "$addr.tmp" "$addr"
fi
sleep 30 &
sleeper=$!
wait $sleeper
exit 7
)";

class WaystoneProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_binary_ = dir_.file("fake_waystone");
    ASSERT_TRUE(writeFile(fake_binary_, kFakeWaystone, 0755).ok());
    absl::StatusOr<std::unique_ptr<TestHttpServer>> admin = TestHttpServer::start();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
  }

  WaystoneOptions options() {
    WaystoneOptions options;
    options.bootstrap_yaml = "static_resources:\n  listeners: []\n";
    options.binary_path = fake_binary_;
    options.env = {{"FAKE_ADMIN_PORT", std::to_string(admin_->port())}};
    options.startup_timeout = kTimeout;
    return options;
  }

  TempDir dir_;
  std::string fake_binary_;
  std::unique_ptr<TestHttpServer> admin_;
};

TEST_F(WaystoneProcessTest, StartsReportsAdminAddressAndStops) {
  WaystoneOptions opts = options();
  opts.extra_args = {"--log-level", "debug"};
  absl::StatusOr<std::unique_ptr<WaystoneProcess>> waystone = WaystoneProcess::start(opts);
  ASSERT_TRUE(waystone.ok()) << waystone.status();
  WaystoneProcess& process = **waystone;

  EXPECT_EQ(process.adminHost(), "127.0.0.1");
  EXPECT_EQ(process.adminPort(), admin_->port());
  EXPECT_EQ(readFile(process.configPath()).value_or(""), opts.bootstrap_yaml);
  EXPECT_TRUE(process.waitReady(kTimeout));
  EXPECT_EQ(admin_->lastRequest().value_or(TestHttpRequest()).path, "/ready");

  absl::StatusOr<HttpResponse> stats = process.admin("GET", "/stats");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->body, "hello from backend: GET /stats");

  const std::string expected_args =
      absl::StrCat("args: -c ", process.configPath(), " --admin-address-path ",
                   process.tempDir().file("admin_address"),
                   " --concurrency 2 --drain-time-s 0 --log-level debug\n");
  EXPECT_EQ(process.process().stdoutContents(), expected_args);

  EXPECT_EQ(process.stop(kTimeout), std::optional<int>(0));
  EXPECT_EQ(process.stop(kTimeout), std::optional<int>(0));  // already stopped: same status
  const std::string logs = process.logs();
  EXPECT_TRUE(absl::StrContains(logs, "fake waystone starting")) << logs;
  EXPECT_TRUE(absl::StrContains(logs, "got SIGTERM")) << logs;
  EXPECT_TRUE(absl::StrContains(logs, expected_args)) << logs;
}

TEST_F(WaystoneProcessTest, NotReadyUntilAdminSays200) {
  admin_->setResponse(503, "initializing");
  absl::StatusOr<std::unique_ptr<WaystoneProcess>> waystone = WaystoneProcess::start(options());
  ASSERT_TRUE(waystone.ok()) << waystone.status();
  EXPECT_FALSE((*waystone)->waitReady(std::chrono::milliseconds(100)));
  EXPECT_GE(admin_->requestCount(), 1u);
  admin_->setResponse(200, "LIVE");
  EXPECT_TRUE((*waystone)->waitReady(kTimeout));
}

TEST_F(WaystoneProcessTest, EarlyExitIsReportedWithLogs) {
  WaystoneOptions opts = options();
  opts.env.emplace_back("FAKE_EXIT_EARLY", "5");
  absl::StatusOr<std::unique_ptr<WaystoneProcess>> waystone = WaystoneProcess::start(opts);
  ASSERT_FALSE(waystone.ok());
  const std::string message(waystone.status().message());
  EXPECT_TRUE(absl::StrContains(message, "exited with status 5")) << message;
  EXPECT_TRUE(absl::StrContains(message, "error: bad bootstrap")) << message;
}

TEST_F(WaystoneProcessTest, MissingAdminAddressTimesOut) {
  WaystoneOptions opts = options();
  opts.env = {};  // no FAKE_ADMIN_PORT: the fake never writes the address
  opts.startup_timeout = std::chrono::milliseconds(200);
  absl::StatusOr<std::unique_ptr<WaystoneProcess>> waystone = WaystoneProcess::start(opts);
  ASSERT_FALSE(waystone.ok());
  EXPECT_TRUE(absl::StrContains(waystone.status().message(), "no admin address"))
      << waystone.status();
}

TEST_F(WaystoneProcessTest, MissingBinaryIsAnError) {
  WaystoneOptions opts = options();
  opts.binary_path = dir_.file("does_not_exist");
  EXPECT_FALSE(WaystoneProcess::start(opts).ok());
}

TEST_F(WaystoneProcessTest, StopReportsCrash) {
  absl::StatusOr<std::unique_ptr<WaystoneProcess>> waystone = WaystoneProcess::start(options());
  ASSERT_TRUE(waystone.ok()) << waystone.status();
  ASSERT_TRUE((*waystone)->process().signal(SIGKILL).ok());
  EXPECT_EQ((*waystone)->stop(kTimeout), std::optional<int>(-SIGKILL));
  EXPECT_FALSE((*waystone)->waitReady(std::chrono::milliseconds(50)));
}

}  // namespace
}  // namespace waystone::test
