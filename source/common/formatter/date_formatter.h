#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace waystone::formatter {

// Formats a system time in UTC as %START_TIME(...)% does: strftime-style specifiers (through
// absl::FormatTime, so absl's %E3S, %Ez, ... work too), plus Envoy's %s (seconds since the epoch)
// and %f / %1f .. %9f (fractional seconds, 9 digits by default, truncated). An empty format is
// Envoy's default, "%Y-%m-%dT%H:%M:%E3SZ" (e.g. "2016-04-15T20:17:00.310Z"). The format is split
// once, when config loads.
class DateFormatter {
 public:
  // Refuses a format with a newline specifier (%n): the result may go into a header.
  static absl::StatusOr<DateFormatter> create(absl::string_view format);

  void appendTo(std::chrono::system_clock::time_point time, std::string& out) const;
  std::string format(std::chrono::system_clock::time_point time) const {
    std::string out;
    appendTo(time, out);
    return out;
  }

 private:
  // A run of absl::FormatTime text, or (fraction_digits > 0) a fractional-seconds specifier.
  struct Piece {
    std::string time_format;
    int fraction_digits = 0;
  };

  DateFormatter() = default;

  std::vector<Piece> pieces_;
};

}  // namespace waystone::formatter
