// waystone: the process entry point. Parses Envoy's command line, loads and validates the
// bootstrap, then runs the server. Nothing reusable lives here.

#include <csignal>
#include <cstdio>

#include "source/common/common/logger.h"
#include "source/config/bootstrap.h"
#include "source/server/admin/admin_handlers.h"
#include "source/server/options_impl.h"
#include "source/server/server.h"
#include "source/server/version.h"

namespace {

using waystone::logger::Registry;

// Applies the logging flags; returns false (after printing why) if one is invalid.
bool configureLogging(const waystone::server::Options& options) {
  Registry::setAllLevels(options.log_level);
  absl::Status status;
  if (!options.component_log_level.empty()) {
    status = Registry::setComponentLevels(options.component_log_level);
  }
  if (status.ok() && !options.log_format.empty()) {
    Registry::setFormat(options.log_format);
  }
  if (status.ok() && !options.log_path.empty()) {
    status = Registry::setLogPath(options.log_path);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "waystone: %s\n", std::string(status.message()).c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that resets a connection must never kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  auto options = waystone::server::parseOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "waystone: %s\n", std::string(options.status().message()).c_str());
    return 1;
  }
  if (options->action == waystone::server::Options::Action::Help) {
    std::fputs(waystone::server::usage().c_str(), stdout);
    return 0;
  }
  if (options->action == waystone::server::Options::Action::HotRestartVersion) {
    std::printf("disabled\n");  // hot restart is not supported
    return 0;
  }
  if (options->action == waystone::server::Options::Action::Version) {
    std::printf("waystone version: %s\n", waystone::server::kVersion);
    return 0;
  }
  if (!configureLogging(*options)) {
    return 1;
  }
  for (const auto& flag : options->ignored_flags) {
    WAYSTONE_LOG(info, main, "flag %s is accepted for Envoy compatibility and ignored", flag);
  }

  const std::string source =
      options->config_path.empty() ? std::string("--config-yaml") : options->config_path;
  auto bootstrap = waystone::config::loadBootstrap(waystone::config::BootstrapSource{
      options->config_path, options->config_yaml, options->allow_unknown_static_fields});
  // loadBootstrap() also validates: PGV rules and the bootstrap's semantic checks.
  absl::Status status = bootstrap.status();
  if (status.ok()) {
    // As in Envoy, the identity flags override the bootstrap's node.
    auto& node = *bootstrap->mutable_node();
    if (!options->service_node.empty()) {
      node.set_id(options->service_node);
    }
    if (!options->service_cluster.empty()) {
      node.set_cluster(options->service_cluster);
    }
    if (!options->service_zone.empty()) {
      node.mutable_locality()->set_zone(options->service_zone);
    }
  }
  std::unique_ptr<waystone::server::Server> server;
  if (status.ok()) {
    server = std::make_unique<waystone::server::Server>(*options, *bootstrap,
                                                        waystone::server::admin::registerHandlers);
    status = server->initialize(options->mode == waystone::server::Options::Mode::Validate);
  }
  if (!status.ok()) {
    // The same one-line message for --mode validate and for a failed start, naming the field.
    std::fprintf(stderr, "error initializing configuration '%s': %s\n", source.c_str(),
                 std::string(status.message()).c_str());
    return 1;
  }
  if (options->mode == waystone::server::Options::Mode::Validate) {
    std::printf("configuration '%s' OK\n", source.c_str());
    return 0;
  }
  if (options->mode == waystone::server::Options::Mode::InitOnly) {
    WAYSTONE_LOG(info, main, "--mode init_only: configuration loaded, exiting");
    return 0;
  }
  return server->run();
}
