#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "test/test_common/child_process.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"

// C++ side of the Go HBONE peers (test/interop/ztunnel_{dest,source}): start them, run them,
// and read what they report. A test using them lists the binaries as data:
//   data = ["//test/interop:ztunnel_dest", "//test/interop:ztunnel_source"]
namespace waystone::test {

// Runfiles paths of the two programs.
std::string ztunnelDestPath();
std::string ztunnelSourcePath();

// One line of ztunnel_dest's --log: one CONNECT request as the destination saw it.
struct DestTunnelRecord {
  std::string authority;                       // :authority of the CONNECT
  std::string peer_uri_san;                    // the client certificate's SPIFFE ID
  std::map<std::string, std::string> headers;  // lower-case names; repeated values joined by ", "
  int64_t bytes_up = 0;                        // client -> backend
  int64_t bytes_down = 0;                      // backend -> client
  int status = 0;                              // 200 accepted, 400 bad request, 503 dial failure
  std::string method;
  std::string backend;    // address dialed (the authority, or --forward-to)
  std::string peer_addr;  // address of the TLS client
  uint64_t conn_id = 0;   // TLS connection, numbered from 1 in accept order
  std::string error;      // why the tunnel failed or ended abnormally; empty when it did not
};

absl::StatusOr<DestTunnelRecord> parseDestTunnelRecord(absl::string_view json_line);

// The one-line JSON summary ztunnel_source prints in the http1, h2c and echo modes.
struct SourceSummary {
  int ok = 0;                         // 2xx responses, or exact echoes
  std::map<std::string, int> status;  // responses by status code ("200" -> n)
  std::vector<std::string> errors;    // distinct failures
  int requests = 0;
  int tunnels_opened = 0;  // CONNECTs answered 200
  int max_concurrent_tunnels = 0;
  int connections = 0;  // TLS connections the source dialed
};

absl::StatusOr<SourceSummary> parseSourceSummary(absl::string_view json);

struct ZtunnelDestOptions {
  IssuedCertificate::Files certs;  // the destination's certificate, key and trust bundle
  std::string listen = "127.0.0.1:0";
  // --expect-peer-prefix; unset keeps the program's default "spiffe://" (any one SPIFFE ID).
  std::optional<std::string> expect_peer_prefix;
  // --forward-to: connect every tunnel here instead of to its authority.
  std::string forward_to;
  std::vector<std::string> extra_args;
  std::chrono::milliseconds startup_timeout{10000};
};

// A running ztunnel_dest. Its --log lives in the object's scratch directory; records() reads it.
// A record is written before the tunnel's stream ends, so once a client has seen the end of a
// tunnel, its record is there. Output is printed on destruction if the test has failed.
class ZtunnelDest {
 public:
  static absl::StatusOr<std::unique_ptr<ZtunnelDest>> start(ZtunnelDestOptions options);
  ~ZtunnelDest();

  // "127.0.0.1:<port>" as printed by the program.
  const std::string& address() const { return address_; }
  uint16_t port() const { return port_; }

  absl::StatusOr<std::vector<DestTunnelRecord>> records() const;
  // Waits until at least `count` records are logged and returns them all.
  absl::StatusOr<std::vector<DestTunnelRecord>> waitForRecords(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // SIGTERM; returns the exit status (0 when clean), nullopt if it had to be killed.
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string logs() const;
  ChildProcess& process() { return *process_; }

 private:
  ZtunnelDest() = default;

  TempDir temp_dir_;
  std::unique_ptr<ChildProcess> process_;
  std::string log_path_;
  std::string address_;
  uint16_t port_ = 0;
};

struct ZtunnelSourceOptions {
  IssuedCertificate::Files certs;  // the source workload's certificate, key and trust bundle
  std::string waypoint;            // host:port of the HBONE server
  std::string authority;           // CONNECT :authority
  // --expect-server-prefix; unset keeps the program's default "spiffe://".
  std::optional<std::string> expect_server_prefix;
  // Everything else, e.g. {"--mode", "http1", "--requests", "10"}.
  std::vector<std::string> args;
};

// The full command line for ztunnel_source.
std::vector<std::string> ztunnelSourceArgv(const ZtunnelSourceOptions& options);

// Exit statuses of ztunnel_source (see test/interop/README.md).
inline constexpr int kSourceExitFailure = 1;
inline constexpr int kSourceExitUsage = 2;
inline constexpr int kSourceExitTls = 3;
inline constexpr int kSourceExitRefused = 4;

struct SourceRun {
  int exit_status = 0;  // exit code, or -N when killed by signal N
  std::string out;
  std::string err;
  // "exit N" and both outputs, for failure messages.
  std::string describe() const;
};

// Runs ztunnel_source to completion (modes tcp, http1, h2c, echo). DeadlineExceeded (with the
// output so far) if it is still running at `timeout`; it is then killed.
absl::StatusOr<SourceRun> runZtunnelSource(
    const ZtunnelSourceOptions& options,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// ztunnel_source --mode listen: a local TCP port where every accepted connection gets its own
// tunnel to `authority` (point curl, h2load or raw sockets at it).
class ZtunnelSourceListener {
 public:
  // Adds "--mode listen --listen 127.0.0.1:0" to options.args; returns once it listens.
  static absl::StatusOr<std::unique_ptr<ZtunnelSourceListener>> start(
      ZtunnelSourceOptions options,
      std::chrono::milliseconds startup_timeout = std::chrono::seconds(10));
  ~ZtunnelSourceListener();

  const std::string& address() const { return address_; }
  uint16_t port() const { return port_; }

  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string logs() const;
  ChildProcess& process() { return *process_; }

 private:
  ZtunnelSourceListener() = default;

  std::unique_ptr<ChildProcess> process_;
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace waystone::test
