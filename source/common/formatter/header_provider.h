#pragma once

#include <optional>
#include <string>

#include "source/common/formatter/formatter_provider.h"

namespace waystone::formatter {

// %REQ(X?Y):Z%, %RESP(X?Y):Z%, %TRAILER(X?Y):Z%: the first value of header X, or of Y when X is
// absent, cut to Z bytes. Missing when neither header is present or the map itself is missing
// (a TCP context). A header present with an empty value gives "" (not "-"), as in Envoy.
class HeaderProvider : public FormatterProvider {
 public:
  enum class Source { RequestHeaders, ResponseHeaders, ResponseTrailers };

  // Names are lower-cased here; `alternative` may be empty.
  HeaderProvider(Source source, absl::string_view main, absl::string_view alternative,
                 std::optional<size_t> max_length);

  bool append(const Context& context, const stream_info::StreamInfo& info,
              std::string& out) const override;
  google::protobuf::Value value(const Context& context,
                                const stream_info::StreamInfo& info) const override;

 private:
  const http::HeaderEntry* find(const Context& context) const;

  const Source source_;
  const std::string main_;
  const std::string alternative_;
  const std::optional<size_t> max_length_;
};

}  // namespace waystone::formatter
