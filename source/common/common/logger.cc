#include "source/common/common/logger.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include <sys/syscall.h>

#include "source/common/common/json_escape.h"

namespace waystone::logger {

// Constant-initialised (no constructor runs), so components logged from other static
// initialisers already see the default level, info.
std::atomic<int> Registry::levels_[static_cast<int>(Id::Count)] = {
#define WAYSTONE_LOGGER_INIT(name) static_cast<int>(Level::Info),
    WAYSTONE_LOGGER_COMPONENTS(WAYSTONE_LOGGER_INIT)
#undef WAYSTONE_LOGGER_INIT
};

namespace {

constexpr absl::string_view kNames[] = {
#define WAYSTONE_LOGGER_NAME(name) #name,
    WAYSTONE_LOGGER_COMPONENTS(WAYSTONE_LOGGER_NAME)
#undef WAYSTONE_LOGGER_NAME
};
constexpr absl::string_view kLevelNames[] = {"trace", "debug",    "info", "warning",
                                             "error", "critical", "off"};
// spdlog's one-letter level names, used by %L.
constexpr absl::string_view kShortLevelNames[] = {"T", "D", "I", "W", "E", "C", "O"};

// strerror_r is the GNU variant (returns char*) or the XSI one (returns int) depending on
// feature macros; these overloads accept either.
[[maybe_unused]] const char* strerrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "unknown error";
}
[[maybe_unused]] const char* strerrorResult(const char* result, const char*) { return result; }

std::string errnoString(int err) {
  char buf[256];
  buf[0] = '\0';
  return strerrorResult(strerror_r(err, buf, sizeof(buf)), buf);
}

// Writes one line with one write(2), which keeps lines whole (O_APPEND files, and pipes up
// to PIPE_BUF). A failed write is dropped: there is nowhere left to report it.
void writeLine(int fd, absl::string_view line) {
  while (!line.empty()) {
    const ssize_t rc = ::write(fd, line.data(), line.size());
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    line.remove_prefix(static_cast<size_t>(rc));
  }
}

// A compiled log pattern: a list of fields, each a literal or a flag.
class Pattern {
 public:
  enum class Field {
    Literal,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Time,
    Millis,
    Micros,
    Nanos,
    ThreadId,
    ProcessId,
    LevelName,
    LevelShort,
    Component,
    Message,
    MessageEscapedNewlines,
    MessageJson,
  };

  explicit Pattern(absl::string_view pattern) {
    std::string literal;
    for (size_t i = 0; i < pattern.size(); ++i) {
      const char c = pattern[i];
      if (c != '%' || i + 1 == pattern.size()) {
        literal.push_back(c);
        continue;
      }
      const char flag = pattern[++i];
      Field field;
      if (!flagField(flag, field)) {
        // Unknown flags (and "%%") stay as text, as spdlog keeps unknown flags.
        if (flag == '%') {
          literal.push_back('%');
        } else {
          literal.push_back('%');
          literal.push_back(flag);
        }
        continue;
      }
      if (!literal.empty()) {
        parts_.push_back({Field::Literal, std::move(literal)});
        literal.clear();
      }
      parts_.push_back({field, {}});
      needs_time_ = needs_time_ || (field >= Field::Year && field <= Field::Nanos);
    }
    if (!literal.empty()) {
      parts_.push_back({Field::Literal, std::move(literal)});
    }
  }

  std::string format(Id id, Level level, absl::string_view message) const {
    std::string line;
    line.reserve(message.size() + 64);
    struct timespec now {};
    struct tm local {};
    if (needs_time_) {
      ::clock_gettime(CLOCK_REALTIME, &now);
      ::localtime_r(&now.tv_sec, &local);
    }
    for (const Part& part : parts_) {
      switch (part.field) {
        case Field::Literal:
          line.append(part.literal);
          break;
        case Field::Year:
          absl::StrAppendFormat(&line, "%04d", local.tm_year + 1900);
          break;
        case Field::Month:
          absl::StrAppendFormat(&line, "%02d", local.tm_mon + 1);
          break;
        case Field::Day:
          absl::StrAppendFormat(&line, "%02d", local.tm_mday);
          break;
        case Field::Hour:
          absl::StrAppendFormat(&line, "%02d", local.tm_hour);
          break;
        case Field::Minute:
          absl::StrAppendFormat(&line, "%02d", local.tm_min);
          break;
        case Field::Second:
          absl::StrAppendFormat(&line, "%02d", local.tm_sec);
          break;
        case Field::Time:
          absl::StrAppendFormat(&line, "%02d:%02d:%02d", local.tm_hour, local.tm_min, local.tm_sec);
          break;
        case Field::Millis:
          absl::StrAppendFormat(&line, "%03d", static_cast<int>(now.tv_nsec / 1000000));
          break;
        case Field::Micros:
          absl::StrAppendFormat(&line, "%06d", static_cast<int>(now.tv_nsec / 1000));
          break;
        case Field::Nanos:
          absl::StrAppendFormat(&line, "%09d", static_cast<int>(now.tv_nsec));
          break;
        case Field::ThreadId:
          absl::StrAppend(&line, threadId());
          break;
        case Field::ProcessId:
          absl::StrAppend(&line, static_cast<int64_t>(::getpid()));
          break;
        case Field::LevelName:
          line.append(Registry::levelName(level).data(), Registry::levelName(level).size());
          break;
        case Field::LevelShort: {
          const absl::string_view s = kShortLevelNames[static_cast<int>(level)];
          line.append(s.data(), s.size());
          break;
        }
        case Field::Component: {
          const absl::string_view s = Registry::name(id);
          line.append(s.data(), s.size());
          break;
        }
        case Field::Message:
          line.append(message.data(), message.size());
          break;
        case Field::MessageEscapedNewlines:
          appendEscapedNewlines(line, message);
          break;
        case Field::MessageJson:
          appendJsonEscaped(line, message);
          break;
      }
    }
    line.push_back('\n');
    return line;
  }

 private:
  struct Part {
    Field field;
    std::string literal;
  };

  static bool flagField(char flag, Field& field) {
    switch (flag) {
      case 'Y':
        field = Field::Year;
        return true;
      case 'm':
        field = Field::Month;
        return true;
      case 'd':
        field = Field::Day;
        return true;
      case 'H':
        field = Field::Hour;
        return true;
      case 'M':
        field = Field::Minute;
        return true;
      case 'S':
        field = Field::Second;
        return true;
      case 'T':
        field = Field::Time;
        return true;
      case 'e':
        field = Field::Millis;
        return true;
      case 'f':
        field = Field::Micros;
        return true;
      case 'F':
        field = Field::Nanos;
        return true;
      case 't':
        field = Field::ThreadId;
        return true;
      case 'P':
        field = Field::ProcessId;
        return true;
      case 'l':
        field = Field::LevelName;
        return true;
      case 'L':
        field = Field::LevelShort;
        return true;
      case 'n':
        field = Field::Component;
        return true;
      case 'v':
        field = Field::Message;
        return true;
      case '_':
        field = Field::MessageEscapedNewlines;
        return true;
      case 'j':
        field = Field::MessageJson;
        return true;
      default:
        return false;
    }
  }

  // The kernel's thread id (what top -H and /proc show), as Envoy logs it; cached because
  // gettid is a system call.
  static int64_t threadId() {
    thread_local const int64_t tid = static_cast<int64_t>(::syscall(SYS_gettid));
    return tid;
  }

  static void appendEscapedNewlines(std::string& out, absl::string_view message) {
    for (const char c : message) {
      if (c == '\n') {
        out.append("\\n");
      } else {
        out.push_back(c);
      }
    }
  }

  std::vector<Part> parts_;
  bool needs_time_ = false;
};

// The sink and the pattern. log() takes no lock: it loads the descriptor and the pattern
// with atomic loads.
// - The sink is stderr until a log file is set. The file then always has the same descriptor
//   number (file_fd): a new or reopened file is put in its place with dup3(), which the kernel
//   does atomically, so a concurrent writer writes either to the old file or to the new one,
//   never to a closed descriptor.
// - Patterns are immutable and kept until exit (setFormat is called once or twice per
//   process), so a writer may keep using the pattern it loaded.
// Intentionally never destroyed: threads may still log while static destructors run at exit.
struct State {
  State() {
    patterns.push_back(std::make_unique<const Pattern>(Registry::kDefaultFormat));
    pattern.store(patterns.back().get(), std::memory_order_release);
  }

  std::atomic<int> fd{STDERR_FILENO};
  std::atomic<const Pattern*> pattern{nullptr};

  absl::Mutex mutex;  // Serialises sink and pattern switches.
  int file_fd ABSL_GUARDED_BY(mutex) = -1;
  std::string path ABSL_GUARDED_BY(mutex);
  std::vector<std::unique_ptr<const Pattern>> patterns ABSL_GUARDED_BY(mutex);
};

State& state() {
  static State& state = *new State();
  return state;
}

absl::StatusOr<int> openLogFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open log file '", path, "': ", errnoString(errno)));
  }
  return fd;
}

// Opens `path` and makes state.file_fd refer to it, then sends lines there.
absl::Status switchToFile(State& s, const std::string& path)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mutex) {
  absl::StatusOr<int> fd = openLogFile(path);
  if (!fd.ok()) {
    return fd.status();
  }
  if (s.file_fd < 0) {
    s.file_fd = *fd;
  } else {
    const int rc = ::dup3(*fd, s.file_fd, O_CLOEXEC);
    const int saved_errno = errno;
    ::close(*fd);
    if (rc < 0) {
      return absl::InternalError(
          absl::StrCat("cannot switch to log file '", path, "': ", errnoString(saved_errno)));
    }
  }
  s.path = path;
  s.fd.store(s.file_fd, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace

void Registry::log(Id id, Level level, absl::string_view message) {
  State& s = state();
  const Pattern* pattern = s.pattern.load(std::memory_order_acquire);
  writeLine(s.fd.load(std::memory_order_acquire), pattern->format(id, level, message));
}

void Registry::setAllLevels(Level level) {
  for (auto& l : levels_) {
    l.store(static_cast<int>(level), std::memory_order_relaxed);
  }
}

bool Registry::setLevel(absl::string_view component, Level level) {
  Id id;
  if (!findId(component, id)) {
    return false;
  }
  levels_[static_cast<int>(id)].store(static_cast<int>(level), std::memory_order_relaxed);
  return true;
}

absl::string_view Registry::name(Id id) { return kNames[static_cast<int>(id)]; }

bool Registry::findId(absl::string_view component, Id& id) {
  for (int i = 0; i < static_cast<int>(Id::Count); ++i) {
    if (kNames[i] == component) {
      id = static_cast<Id>(i);
      return true;
    }
  }
  return false;
}

std::vector<std::pair<std::string, Level>> Registry::allLevels() {
  std::vector<std::pair<std::string, Level>> out;
  out.reserve(static_cast<size_t>(Id::Count));
  for (int i = 0; i < static_cast<int>(Id::Count); ++i) {
    out.emplace_back(std::string(kNames[i]), level(static_cast<Id>(i)));
  }
  return out;
}

absl::Status Registry::setComponentLevels(absl::string_view spec) {
  // Validate everything before changing anything, so a bad flag leaves the levels as they were.
  std::vector<std::pair<Id, Level>> changes;
  for (absl::string_view entry : absl::StrSplit(spec, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      continue;
    }
    const std::vector<absl::string_view> parts = absl::StrSplit(entry, absl::MaxSplits(':', 1));
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("invalid component log level entry '", entry,
                                                     "' (expected <component>:<level>)"));
    }
    const absl::string_view component = absl::StripAsciiWhitespace(parts[0]);
    Id id;
    if (!findId(component, id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid component specified '", component, "'"));
    }
    Level level;
    absl::Status status = parseLevel(absl::StripAsciiWhitespace(parts[1]), level);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("component '", component, "': ", status.message()));
    }
    changes.emplace_back(id, level);
  }
  for (const auto& [id, level] : changes) {
    levels_[static_cast<int>(id)].store(static_cast<int>(level), std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

absl::Status Registry::parseLevel(absl::string_view text, Level& level) {
  for (int i = 0; i <= static_cast<int>(Level::Off); ++i) {
    if (kLevelNames[i] == text) {
      level = static_cast<Level>(i);
      return absl::OkStatus();
    }
  }
  if (text == "warn") {
    level = Level::Warn;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid log level '", text,
                   "' (expected trace, debug, info, warning, error, critical, off)"));
}

absl::string_view Registry::levelName(Level level) { return kLevelNames[static_cast<int>(level)]; }

void Registry::setFormat(absl::string_view pattern) {
  State& s = state();
  absl::MutexLock lock(&s.mutex);
  s.patterns.push_back(std::make_unique<const Pattern>(pattern));
  s.pattern.store(s.patterns.back().get(), std::memory_order_release);
}

absl::Status Registry::setLogPath(absl::string_view path) {
  State& s = state();
  absl::MutexLock lock(&s.mutex);
  return switchToFile(s, std::string(path));
}

absl::Status Registry::reopenLogFile() {
  State& s = state();
  absl::MutexLock lock(&s.mutex);
  if (s.path.empty()) {
    return absl::OkStatus();
  }
  // The new file is opened before it replaces the old one, so a failure keeps logging to the
  // old file.
  return switchToFile(s, s.path);
}

void Registry::useStderr() {
  State& s = state();
  absl::MutexLock lock(&s.mutex);
  // file_fd stays open (and is reused by the next setLogPath): a writer may still hold it.
  s.path.clear();
  s.fd.store(STDERR_FILENO, std::memory_order_release);
}

}  // namespace waystone::logger
