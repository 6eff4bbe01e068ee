#include "source/common/stats/render_filter.h"

#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace waystone::stats {

RenderFilter::RenderFilter() = default;
RenderFilter::~RenderFilter() = default;
RenderFilter::RenderFilter(RenderFilter&&) noexcept = default;
RenderFilter& RenderFilter::operator=(RenderFilter&&) noexcept = default;

absl::StatusOr<RenderFilter> RenderFilter::create(const StatsRenderOptions& options) {
  RenderFilter filter;
  filter.used_only_ = options.used_only;
  filter.type_ = options.type;
  if (options.filter.has_value() && !options.filter->empty()) {
    RE2::Options re2_options;
    re2_options.set_log_errors(false);
    auto regex = std::make_unique<RE2>(*options.filter, re2_options);
    if (!regex->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid re2 regex '", *options.filter, "': ", regex->error()));
    }
    filter.regex_ = std::move(regex);
  }
  return filter;
}

bool RenderFilter::shows(absl::string_view name, bool used) const {
  if (used_only_ && !used) {
    return false;
  }
  return regex_ == nullptr ||
         RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *regex_);
}

}  // namespace waystone::stats
