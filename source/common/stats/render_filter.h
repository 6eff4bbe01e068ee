#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/stats/stats_render_options.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace waystone::stats {

// StatsRenderOptions compiled once per request: which stats a rendering shows.
class RenderFilter {
 public:
  // Shows everything.
  RenderFilter();
  ~RenderFilter();
  RenderFilter(RenderFilter&&) noexcept;
  RenderFilter& operator=(RenderFilter&&) noexcept;

  // InvalidArgument naming the pattern and RE2's complaint if the filter does not compile.
  static absl::StatusOr<RenderFilter> create(const StatsRenderOptions& options);

  bool showsType(StatsRenderOptions::Type type) const {
    return type_ == StatsRenderOptions::Type::All || type_ == type;
  }
  bool shows(absl::string_view name, bool used) const;

 private:
  bool used_only_ = false;
  StatsRenderOptions::Type type_ = StatsRenderOptions::Type::All;
  std::unique_ptr<re2::RE2> regex_;
};

}  // namespace waystone::stats
