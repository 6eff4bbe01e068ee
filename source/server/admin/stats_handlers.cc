#include "absl/strings/str_cat.h"

#include "source/common/stats/json_stats_formatter.h"
#include "source/common/stats/prometheus_stats_formatter.h"
#include "source/common/stats/text_stats_formatter.h"
#include "source/server/admin/admin_handlers.h"
#include "source/server/server.h"

namespace waystone::server::admin {
namespace {

// Reads Envoy's /stats query parameters: usedonly, filter=<RE2>, type=<Counters|Gauges|...>.
// Returns false (with a 400 filled in) for a bad type.
bool renderOptions(const AdminRequest& request, stats::StatsRenderOptions& options,
                   AdminResponse& response) {
  options.used_only = request.has("usedonly");
  if (request.has("filter")) {
    options.filter = request.get("filter");
  }
  const std::string type = request.get("type");
  if (type.empty() || type == "All") {
    options.type = stats::StatsRenderOptions::Type::All;
  } else if (type == "Counters") {
    options.type = stats::StatsRenderOptions::Type::Counters;
  } else if (type == "Gauges") {
    options.type = stats::StatsRenderOptions::Type::Gauges;
  } else if (type == "Histograms") {
    options.type = stats::StatsRenderOptions::Type::Histograms;
  } else if (type == "TextReadouts") {
    options.type = stats::StatsRenderOptions::Type::TextReadouts;
  } else {
    response.status = 400;
    response.body = absl::StrCat("invalid type '", type,
                                 "' (expected All, Counters, Gauges, Histograms, TextReadouts)\n");
    return false;
  }
  return true;
}

void respond(absl::StatusOr<std::string> rendered, absl::string_view content_type,
             AdminResponse& response) {
  if (!rendered.ok()) {
    // An invalid filter regex: say which and why.
    response.status = 400;
    response.body = absl::StrCat(rendered.status().message(), "\n");
    return;
  }
  response.content_type = std::string(content_type);
  response.body = std::move(*rendered);
}

}  // namespace

void registerStatsHandlers(AdminHandlerRegistry& registry, Server& server) {
  registry.addHandler(
      "/stats",
      "print server stats (params: usedonly, filter=<re2>, format=json|prometheus, type=...)",
      [&server](const AdminRequest& request, AdminResponse& response) {
        stats::StatsRenderOptions options;
        if (!renderOptions(request, options, response)) {
          return;
        }
        const std::string format = request.get("format");
        if (format == "json") {
          respond(stats::JsonStatsFormatter::render(server.stats(), options), "application/json",
                  response);
        } else if (format == "prometheus") {
          respond(stats::PrometheusStatsFormatter::render(server.stats(), options),
                  "text/plain; charset=UTF-8", response);
        } else if (format.empty() || format == "text") {
          respond(stats::TextStatsFormatter::render(server.stats(), options),
                  "text/plain; charset=UTF-8", response);
        } else {
          response.status = 400;
          response.body =
              absl::StrCat("invalid format '", format, "' (expected json, prometheus, text)\n");
        }
      },
      false);

  registry.addHandler(
      "/stats/prometheus", "print server stats in prometheus format (params: usedonly, filter)",
      [&server](const AdminRequest& request, AdminResponse& response) {
        stats::StatsRenderOptions options;
        if (!renderOptions(request, options, response)) {
          return;
        }
        respond(stats::PrometheusStatsFormatter::render(server.stats(), options),
                "text/plain; version=0.0.4; charset=UTF-8", response);
      },
      false);
}

}  // namespace waystone::server::admin
