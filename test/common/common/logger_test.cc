#include "source/common/common/logger.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include <sys/stat.h>
#include <sys/syscall.h>

namespace waystone::logger {
namespace {

using testing::HasSubstr;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<std::string> readLines(const std::string& path) {
  return absl::StrSplit(readFile(path), '\n', absl::SkipEmpty());
}

// Every test starts from the process defaults and puts them back, since the registry is global.
class LoggerTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = ::getenv("TEST_TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/logger_test_XXXXXX");
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    Registry::setAllLevels(Level::Info);
    Registry::setFormat(Registry::kDefaultFormat);
  }
  void TearDown() override {
    Registry::useStderr();
    Registry::setAllLevels(Level::Info);
    Registry::setFormat(Registry::kDefaultFormat);
  }
  std::string path(absl::string_view name) const { return absl::StrCat(dir_, "/", name); }

  std::string dir_;
};

TEST_F(LoggerTest, ParseLevelAcceptsEnvoyNamesAndWarnAlias) {
  const std::vector<std::pair<std::string, Level>> cases = {
      {"trace", Level::Trace},       {"debug", Level::Debug}, {"info", Level::Info},
      {"warning", Level::Warn},      {"warn", Level::Warn},   {"error", Level::Error},
      {"critical", Level::Critical}, {"off", Level::Off}};
  for (const auto& [text, expected] : cases) {
    Level level = Level::Off;
    if (expected == Level::Off) {
      level = Level::Trace;
    }
    ASSERT_TRUE(Registry::parseLevel(text, level).ok()) << text;
    EXPECT_EQ(level, expected) << text;
  }
  EXPECT_EQ(Registry::levelName(Level::Warn), "warning");
}

TEST_F(LoggerTest, ParseLevelRejectsUnknownAndNamesIt) {
  Level level = Level::Info;
  const absl::Status status = Registry::parseLevel("verbose", level);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'verbose'"));
  EXPECT_EQ(level, Level::Info);
  EXPECT_FALSE(Registry::parseLevel("INFO", level).ok());
  EXPECT_FALSE(Registry::parseLevel("", level).ok());
}

TEST_F(LoggerTest, DefaultLevelIsInfoForEveryComponent) {
  for (const auto& [name, level] : Registry::allLevels()) {
    EXPECT_EQ(level, Level::Info) << name;
  }
  EXPECT_TRUE(Registry::enabled(Id::main, Level::Info));
  EXPECT_FALSE(Registry::enabled(Id::main, Level::Debug));
  EXPECT_EQ(Registry::allLevels().size(), static_cast<size_t>(Id::Count));
}

TEST_F(LoggerTest, ComponentNamesRoundTrip) {
  Id id;
  ASSERT_TRUE(Registry::findId("upstream", id));
  EXPECT_EQ(id, Id::upstream);
  EXPECT_EQ(Registry::name(Id::connection), "connection");
  EXPECT_EQ(Registry::name(Id::misc), "misc");
  EXPECT_FALSE(Registry::findId("nope", id));
}

TEST_F(LoggerTest, ComponentSpecSetsEachNamedComponent) {
  ASSERT_TRUE(Registry::setComponentLevels("upstream:debug,connection:trace").ok());
  EXPECT_EQ(Registry::level(Id::upstream), Level::Debug);
  EXPECT_EQ(Registry::level(Id::connection), Level::Trace);
  EXPECT_EQ(Registry::level(Id::main), Level::Info);

  // Istio's pilot-agent default, with spaces and a trailing comma tolerated.
  ASSERT_TRUE(Registry::setComponentLevels(" misc:error , ").ok());
  EXPECT_EQ(Registry::level(Id::misc), Level::Error);
  EXPECT_TRUE(Registry::setComponentLevels("").ok());
}

TEST_F(LoggerTest, ComponentSpecErrorsNameTheCulpritAndChangeNothing) {
  absl::Status status = Registry::setComponentLevels("upstream:debug,bogus:trace");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'bogus'"));
  // All or nothing: the valid first entry was not applied.
  EXPECT_EQ(Registry::level(Id::upstream), Level::Info);

  status = Registry::setComponentLevels("upstream:loud");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("'loud'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("upstream"));

  status = Registry::setComponentLevels("upstream");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("'upstream'"));
  EXPECT_EQ(Registry::level(Id::upstream), Level::Info);
}

TEST_F(LoggerTest, SetLevelByNameAndAll) {
  EXPECT_TRUE(Registry::setLevel("http", Level::Trace));
  EXPECT_EQ(Registry::level(Id::http), Level::Trace);
  EXPECT_FALSE(Registry::setLevel("not_a_component", Level::Trace));
  Registry::setAllLevels(Level::Error);
  EXPECT_EQ(Registry::level(Id::http), Level::Error);
  EXPECT_FALSE(Registry::enabled(Id::http, Level::Warn));
  EXPECT_TRUE(Registry::enabled(Id::http, Level::Critical));
}

TEST_F(LoggerTest, DefaultFormatMatchesEnvoyLineShape) {
  const std::string file = path("default.log");
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  WAYSTONE_LOG(info, main, "hello %s %d", "world", 42);
  WAYSTONE_LOG(warn, upstream, "careful");
  const std::vector<std::string> lines = readLines(file);
  ASSERT_EQ(lines.size(), 2u);
  const std::string tid = absl::StrCat(static_cast<int64_t>(::syscall(SYS_gettid)));
  EXPECT_TRUE(RE2::FullMatch(lines[0], R"(\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\]\[)" + tid +
                                           R"(\]\[info\]\[main\] hello world 42)"))
      << lines[0];
  EXPECT_TRUE(RE2::FullMatch(lines[1], R"(\[.*\]\[\d+\]\[warning\]\[upstream\] careful)"))
      << lines[1];
}

TEST_F(LoggerTest, DisabledLevelsAreNotWrittenAndChangeAtRunTime) {
  const std::string file = path("levels.log");
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%n:%v");
  WAYSTONE_LOG(debug, router, "hidden");
  ASSERT_TRUE(Registry::setComponentLevels("router:debug").ok());
  WAYSTONE_LOG(debug, router, "shown");
  WAYSTONE_LOG(debug, pool, "hidden too");
  EXPECT_THAT(readLines(file), testing::ElementsAre("router:shown"));
}

TEST_F(LoggerTest, PatternFlags) {
  const std::string file = path("pattern.log");
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%Y|%m|%d|%H|%M|%S|%T|%e|%f|%F|%P|%l|%L|%n|%%|%v");
  WAYSTONE_LOG(error, config, "msg");
  const std::vector<std::string> lines = readLines(file);
  ASSERT_EQ(lines.size(), 1u);
  const std::string pid = absl::StrCat(static_cast<int64_t>(::getpid()));
  EXPECT_TRUE(RE2::FullMatch(lines[0], R"(\d{4}\|\d{2}\|\d{2}\|\d{2}\|\d{2}\|\d{2}\|)"
                                       R"(\d{2}:\d{2}:\d{2}\|\d{3}\|\d{6}\|\d{9}\|)" +
                                           pid + R"(\|error\|E\|config\|%\|msg)"))
      << lines[0];
}

TEST_F(LoggerTest, UnknownFlagsAreKeptLiterallyAndEscapingFlagsWork) {
  const std::string file = path("escape.log");
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%Q %_|%j|%");
  WAYSTONE_LOG(info, misc, "a\nb \"c\"\\");
  EXPECT_EQ(readFile(file), "%Q a\\nb \"c\"\\|a\\nb \\\"c\\\"\\\\|%\n");
}

TEST_F(LoggerTest, SetLogPathErrorNamesThePath) {
  const std::string bad = path("missing_dir/x.log");
  const absl::Status status = Registry::setLogPath(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr(bad));
}

TEST_F(LoggerTest, SetLogPathAppends) {
  const std::string file = path("append.log");
  {
    std::ofstream out(file);
    out << "existing\n";
  }
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%v");
  WAYSTONE_LOG(info, main, "new");
  EXPECT_EQ(readFile(file), "existing\nnew\n");
}

TEST_F(LoggerTest, ReopenAfterRenameWritesToTheNewFile) {
  const std::string file = path("rotate.log");
  const std::string rotated = path("rotate.log.1");
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%v");
  WAYSTONE_LOG(info, main, "before");
  ASSERT_EQ(std::rename(file.c_str(), rotated.c_str()), 0);
  WAYSTONE_LOG(info, main, "still old");
  ASSERT_TRUE(Registry::reopenLogFile().ok());
  WAYSTONE_LOG(info, main, "after");
  EXPECT_EQ(readFile(rotated), "before\nstill old\n");
  EXPECT_EQ(readFile(file), "after\n");
}

TEST_F(LoggerTest, SwitchingFilesAndBackToStderr) {
  const std::string first = path("first.log");
  const std::string second = path("second.log");
  Registry::setFormat("%v");
  ASSERT_TRUE(Registry::setLogPath(first).ok());
  WAYSTONE_LOG(info, main, "one");
  ASSERT_TRUE(Registry::setLogPath(second).ok());
  WAYSTONE_LOG(info, main, "two");
  Registry::useStderr();
  WAYSTONE_LOG(info, main, "three");
  ASSERT_TRUE(Registry::reopenLogFile().ok());
  WAYSTONE_LOG(info, main, "four");
  EXPECT_EQ(readFile(first), "one\n");
  EXPECT_EQ(readFile(second), "two\n");
}

TEST_F(LoggerTest, FailedReopenKeepsTheOldFile) {
  const std::string sub = path("sub");
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  const std::string file = sub + "/x.log";
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%v");
  const std::string moved = path("moved");
  ASSERT_EQ(std::rename(sub.c_str(), moved.c_str()), 0);
  const absl::Status status = Registry::reopenLogFile();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(file));
  WAYSTONE_LOG(info, main, "kept");
  EXPECT_EQ(readFile(moved + "/x.log"), "kept\n");
}

TEST_F(LoggerTest, ReopenOnStderrIsANoOp) { EXPECT_TRUE(Registry::reopenLogFile().ok()); }

TEST_F(LoggerTest, ConcurrentWritersProduceWholeLines) {
  const std::string file = path("threads.log");
  ASSERT_TRUE(Registry::setLogPath(file).ok());
  Registry::setFormat("%v");
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  const std::string payload(200, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &payload] {
      for (int i = 0; i < kLines; ++i) {
        WAYSTONE_LOG(info, main, "%d:%s:%d", t, payload, i);
      }
    });
  }
  // Rotate while the writers run: no line may be lost or torn across the two files.
  const std::string rotated = path("threads.log.1");
  ASSERT_EQ(std::rename(file.c_str(), rotated.c_str()), 0);
  ASSERT_TRUE(Registry::reopenLogFile().ok());
  for (auto& thread : threads) {
    thread.join();
  }
  std::vector<std::string> lines = readLines(rotated);
  const std::vector<std::string> second = readLines(file);
  lines.insert(lines.end(), second.begin(), second.end());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  for (const std::string& line : lines) {
    ASSERT_TRUE(RE2::FullMatch(line, R"(\d:x{200}:\d+)")) << line;
  }
}

}  // namespace
}  // namespace waystone::logger
