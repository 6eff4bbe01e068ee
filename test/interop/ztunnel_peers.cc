#include "test/interop/ztunnel_peers.h"

#include <signal.h>

#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

#include "test/test_common/file_util.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::StatusOr<Struct> parseJsonObject(absl::string_view json) {
  Struct object;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(
      std::string(absl::StripAsciiWhitespace(json)), &object, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object (", status.ToString(), "): ", json));
  }
  return object;
}

std::string stringField(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it != object.fields().end() && it->second.has_string_value() ? it->second.string_value()
                                                                      : "";
}

double numberField(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it != object.fields().end() && it->second.has_number_value() ? it->second.number_value()
                                                                      : 0;
}

// Both programs print "listening <addr>" on stdout once they accept connections.
absl::StatusOr<HostPort> waitForListening(ChildProcess& process, absl::string_view program,
                                          std::chrono::milliseconds timeout) {
  std::optional<HostPort> address;
  waitFor(
      [&] {
        const std::string out = process.stdoutContents();
        for (absl::string_view line : absl::StrSplit(out, '\n')) {
          if (absl::ConsumePrefix(&line, "listening ")) {
            absl::StatusOr<HostPort> parsed = parseHostPort(line);
            if (parsed.ok()) {
              address = *std::move(parsed);
              return true;
            }
          }
        }
        return !process.running();
      },
      timeout);
  if (address.has_value()) {
    return *address;
  }
  return absl::UnavailableError(
      absl::StrCat(program,
                   (process.running() ? " printed no \"listening <addr>\" line in time"
                                      : " exited before listening"),
                   "\n---- stdout ----\n", process.stdoutContents(), "---- stderr ----\n",
                   process.stderrContents()));
}

std::optional<int> stopProcess(ChildProcess& process, std::chrono::milliseconds timeout) {
  if (std::optional<int> status = process.exitStatus(); status.has_value()) {
    return status;
  }
  if (!process.signal(SIGTERM).ok()) {
    return process.waitForExit(timeout);
  }
  if (std::optional<int> status = process.waitForExit(timeout); status.has_value()) {
    return status;
  }
  process.signal(SIGKILL).IgnoreError();
  process.waitForExit(timeout);
  return std::nullopt;
}

std::string processLogs(const ChildProcess& process, absl::string_view name) {
  return absl::StrCat("---- ", name, " (pid ", process.pid(), ") stdout ----\n",
                      process.stdoutContents(), "---- ", name, " stderr ----\n",
                      process.stderrContents(), "---- end of ", name, " output ----");
}

}  // namespace

std::string ztunnelDestPath() { return runfilesPath("test/interop/bin/ztunnel_dest"); }
std::string ztunnelSourcePath() { return runfilesPath("test/interop/bin/ztunnel_source"); }

absl::StatusOr<DestTunnelRecord> parseDestTunnelRecord(absl::string_view json_line) {
  absl::StatusOr<Struct> object = parseJsonObject(json_line);
  if (!object.ok()) {
    return object.status();
  }
  DestTunnelRecord record;
  record.authority = stringField(*object, "authority");
  record.peer_uri_san = stringField(*object, "peer_uri_san");
  record.bytes_up = static_cast<int64_t>(numberField(*object, "bytes_up"));
  record.bytes_down = static_cast<int64_t>(numberField(*object, "bytes_down"));
  record.status = static_cast<int>(numberField(*object, "status"));
  record.method = stringField(*object, "method");
  record.backend = stringField(*object, "backend");
  record.peer_addr = stringField(*object, "peer_addr");
  record.conn_id = static_cast<uint64_t>(numberField(*object, "conn_id"));
  record.error = stringField(*object, "error");
  if (auto it = object->fields().find("headers");
      it != object->fields().end() && it->second.has_struct_value()) {
    for (const auto& [name, value] : it->second.struct_value().fields()) {
      record.headers[name] = value.string_value();
    }
  }
  return record;
}

absl::StatusOr<SourceSummary> parseSourceSummary(absl::string_view json) {
  absl::StatusOr<Struct> object = parseJsonObject(json);
  if (!object.ok()) {
    return object.status();
  }
  SourceSummary summary;
  summary.ok = static_cast<int>(numberField(*object, "ok"));
  summary.requests = static_cast<int>(numberField(*object, "requests"));
  summary.tunnels_opened = static_cast<int>(numberField(*object, "tunnels_opened"));
  summary.max_concurrent_tunnels = static_cast<int>(numberField(*object, "max_concurrent_tunnels"));
  summary.connections = static_cast<int>(numberField(*object, "connections"));
  if (auto it = object->fields().find("status");
      it != object->fields().end() && it->second.has_struct_value()) {
    for (const auto& [code, count] : it->second.struct_value().fields()) {
      summary.status[code] = static_cast<int>(count.number_value());
    }
  }
  if (auto it = object->fields().find("errors");
      it != object->fields().end() && it->second.has_list_value()) {
    for (const Value& error : it->second.list_value().values()) {
      summary.errors.push_back(error.string_value());
    }
  }
  return summary;
}

absl::StatusOr<std::unique_ptr<ZtunnelDest>> ZtunnelDest::start(ZtunnelDestOptions options) {
  std::unique_ptr<ZtunnelDest> dest(new ZtunnelDest());
  dest->log_path_ = dest->temp_dir_.file("tunnels.jsonl");
  std::vector<std::string> argv = {ztunnelDestPath(),
                                   "--listen",
                                   options.listen,
                                   "--cert",
                                   options.certs.cert_chain_path,
                                   "--key",
                                   options.certs.key_path,
                                   "--ca",
                                   options.certs.ca_bundle_path,
                                   "--log",
                                   dest->log_path_};
  if (options.expect_peer_prefix.has_value()) {
    argv.insert(argv.end(), {"--expect-peer-prefix", *options.expect_peer_prefix});
  }
  if (!options.forward_to.empty()) {
    argv.insert(argv.end(), {"--forward-to", options.forward_to});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::start(std::move(argv));
  if (!process.ok()) {
    return process.status();
  }
  dest->process_ = std::move(*process);
  absl::StatusOr<HostPort> address =
      waitForListening(*dest->process_, "ztunnel_dest", options.startup_timeout);
  if (!address.ok()) {
    return address.status();
  }
  dest->address_ = formatHostPort(address->host, address->port);
  dest->port_ = address->port;
  return dest;
}

ZtunnelDest::~ZtunnelDest() {
  if (::testing::Test::HasFailure() && process_ != nullptr) {
    ::fprintf(stderr, "%s\n", logs().c_str());
  }
}

absl::StatusOr<std::vector<DestTunnelRecord>> ZtunnelDest::records() const {
  std::vector<DestTunnelRecord> records;
  if (!fileExists(log_path_)) {
    return records;  // created on the first record
  }
  absl::StatusOr<std::string> contents = readFile(log_path_);
  if (!contents.ok()) {
    return contents.status();
  }
  // Only complete lines: a record being appended right now is read next time.
  absl::string_view complete(*contents);
  complete = complete.substr(0, complete.rfind('\n') + 1);
  for (absl::string_view line : absl::StrSplit(complete, '\n', absl::SkipWhitespace())) {
    absl::StatusOr<DestTunnelRecord> record = parseDestTunnelRecord(line);
    if (!record.ok()) {
      return record.status();
    }
    records.push_back(*std::move(record));
  }
  return records;
}

absl::StatusOr<std::vector<DestTunnelRecord>> ZtunnelDest::waitForRecords(
    size_t count, std::chrono::milliseconds timeout) const {
  absl::StatusOr<std::vector<DestTunnelRecord>> result;
  waitFor(
      [&] {
        result = records();
        return !result.ok() || result->size() >= count;
      },
      timeout);
  if (result.ok() && result->size() < count) {
    return absl::DeadlineExceededError(absl::StrCat("ztunnel_dest logged ", result->size(),
                                                    " tunnels, want ", count, "\n", logs()));
  }
  return result;
}

std::optional<int> ZtunnelDest::stop(std::chrono::milliseconds timeout) {
  return stopProcess(*process_, timeout);
}

std::string ZtunnelDest::logs() const {
  std::string logs = processLogs(*process_, "ztunnel_dest");
  // The tunnels that failed, from --log (all of them would drown the output of a load test).
  absl::StatusOr<std::string> contents = readFile(log_path_);
  if (contents.ok()) {
    std::vector<absl::string_view> failed;
    for (absl::string_view line : absl::StrSplit(*contents, '\n', absl::SkipWhitespace())) {
      if (absl::StrContains(line, "\"error\":")) {
        failed.push_back(line);
      }
    }
    absl::StrAppend(&logs, "\n---- ztunnel_dest: ", failed.size(), " failed tunnels in --log",
                    failed.size() > 20 ? " (first 20)" : "", " ----\n");
    for (size_t i = 0; i < failed.size() && i < 20; ++i) {
      absl::StrAppend(&logs, failed[i], "\n");
    }
  }
  return logs;
}

std::vector<std::string> ztunnelSourceArgv(const ZtunnelSourceOptions& options) {
  std::vector<std::string> argv = {ztunnelSourcePath(),
                                   "--cert",
                                   options.certs.cert_chain_path,
                                   "--key",
                                   options.certs.key_path,
                                   "--ca",
                                   options.certs.ca_bundle_path,
                                   "--waypoint",
                                   options.waypoint,
                                   "--authority",
                                   options.authority};
  if (options.expect_server_prefix.has_value()) {
    argv.insert(argv.end(), {"--expect-server-prefix", *options.expect_server_prefix});
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  return argv;
}

std::string SourceRun::describe() const {
  return absl::StrCat("ztunnel_source exit ", exit_status, "\n---- stdout ----\n", out,
                      "---- stderr ----\n", err, "---- end ----");
}

absl::StatusOr<SourceRun> runZtunnelSource(const ZtunnelSourceOptions& options,
                                           std::chrono::milliseconds timeout) {
  const std::vector<std::string> argv = ztunnelSourceArgv(options);
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::start(argv);
  if (!child.ok()) {
    return child.status();
  }
  const std::optional<int> status = (*child)->waitForExit(timeout);
  SourceRun run;
  run.out = (*child)->stdoutContents();
  run.err = (*child)->stderrContents();
  if (!status.has_value()) {
    // The ChildProcess destructor kills it.
    return absl::DeadlineExceededError(absl::StrCat("'", absl::StrJoin(argv, " "),
                                                    "' still running after ", timeout.count(),
                                                    " ms\n", run.describe()));
  }
  run.exit_status = *status;
  return run;
}

absl::StatusOr<std::unique_ptr<ZtunnelSourceListener>> ZtunnelSourceListener::start(
    ZtunnelSourceOptions options, std::chrono::milliseconds startup_timeout) {
  options.args.insert(options.args.begin(), {"--mode", "listen", "--listen", "127.0.0.1:0"});
  std::unique_ptr<ZtunnelSourceListener> source(new ZtunnelSourceListener());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::start(ztunnelSourceArgv(options));
  if (!process.ok()) {
    return process.status();
  }
  source->process_ = std::move(*process);
  absl::StatusOr<HostPort> address =
      waitForListening(*source->process_, "ztunnel_source", startup_timeout);
  if (!address.ok()) {
    return address.status();
  }
  source->address_ = formatHostPort(address->host, address->port);
  source->port_ = address->port;
  return source;
}

ZtunnelSourceListener::~ZtunnelSourceListener() {
  if (::testing::Test::HasFailure() && process_ != nullptr) {
    ::fprintf(stderr, "%s\n", logs().c_str());
  }
}

std::optional<int> ZtunnelSourceListener::stop(std::chrono::milliseconds timeout) {
  return stopProcess(*process_, timeout);
}

std::string ZtunnelSourceListener::logs() const { return processLogs(*process_, "ztunnel_source"); }

}  // namespace waystone::test
