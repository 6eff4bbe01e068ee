#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/admin/v3/server_info.pb.h"

#include "source/server/options.h"

namespace waystone::server {

// Parses Envoy's command line. Flags take their value as `--flag value` or `--flag=value`;
// -c and -l are the short forms of --config-path and --log-level; switches take no value.
// --help (-h), --version and --hot-restart-version stop parsing and set Options::action.
// Errors name the flag and the bad value:
//   "--concurrency: expected a positive integer, got 'abc'"
//   "unknown flag --foo; see --help"
//   "--mode: missing value"
// A flag given twice is an error (as in Envoy), except the repeatable --stats-tag.
absl::StatusOr<Options> parseOptions(int argc, const char* const* argv);

// The --help text: every accepted flag, its value and default.
std::string usage();

// The options as Envoy reports them in /server_info ("command_line_options").
envoy::admin::v3::CommandLineOptions toCommandLineOptions(const Options& options);

}  // namespace waystone::server
