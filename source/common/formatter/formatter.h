#pragma once

#include <memory>
#include <string>

#include "source/common/formatter/formatter_provider.h"

namespace waystone::formatter {

// A parsed substitution format (Envoy's Formatter): a text format string (TextFormatter) or a
// JSON dictionary (JsonFormatter). Built once when config loads, immutable afterwards, and
// evaluated many times, from any worker, against a Context and a StreamInfo.
class Formatter {
 public:
  virtual ~Formatter() = default;

  // Appends the formatted output to `out` (lets callers reuse one buffer).
  virtual void formatTo(const Context& context, const stream_info::StreamInfo& info,
                        std::string& out) const = 0;

  std::string format(const Context& context, const stream_info::StreamInfo& info) const {
    std::string out;
    formatTo(context, info, out);
    return out;
  }
};

using FormatterPtr = std::unique_ptr<const Formatter>;
using FormatterConstSharedPtr = std::shared_ptr<const Formatter>;

}  // namespace waystone::formatter
