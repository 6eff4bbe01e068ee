#pragma once

#include <optional>
#include <string>

namespace waystone::stats {

// What an admin stats request asks for (/stats, /stats?format=json, /stats/prometheus).
struct StatsRenderOptions {
  enum class Type { All, Counters, Gauges, Histograms, TextReadouts };

  // Only stats that were ever written (Envoy's "usedonly").
  bool used_only = false;
  // RE2 pattern; a stat is shown if the pattern matches anywhere in its full name, like
  // Envoy's std::regex_search. An invalid pattern makes rendering fail with InvalidArgument.
  std::optional<std::string> filter;
  Type type = Type::All;
};

}  // namespace waystone::stats
