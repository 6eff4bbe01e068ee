#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/common/set_filter_state/v3/value.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

#include "source/common/formatter/formatter.h"
#include "source/common/stream_info/filter_state.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::extensions::common_filters::set_filter_state {

// The immutable config shared by the network and HTTP set_filter_state filters: a list of
// envoy.extensions.filters.common.set_filter_state.v3.FilterStateValue, each a filter state
// key, the object factory that builds its value from text, and a format string.
class SetFilterStateConfig {
 public:
  // `field_path` names the repeated field, e.g. "<typed_config>.on_new_connection"; errors name
  // the entry: "<field_path>[1].factory_key: ...". Refused: an unknown object factory (when
  // factory_key is empty the object key must itself name one), json_format, formatter
  // extensions, a missing format_string.
  static absl::StatusOr<std::shared_ptr<const SetFilterStateConfig>> create(
      const google::protobuf::RepeatedPtrField<
          envoy::extensions::filters::common::set_filter_state::v3::FilterStateValue>& values,
      const std::string& field_path);

  // Formats every value in order and stores it in `info.filter_state`, as Envoy does: a value
  // that is empty with skip_if_empty, that the factory rejects (e.g. not an IP:port for an
  // address key), or whose key is already set read-only, is skipped with a debug log.
  // `filter_name` prefixes the logs.
  void updateFilterState(const formatter::Context& context, stream_info::StreamInfo& info,
                         absl::string_view filter_name) const;

  size_t size() const { return values_.size(); }

 private:
  struct Value {
    std::string key;
    std::string factory_key;  // the object key when the config leaves it empty
    stream_info::FilterState::StateType state_type;
    stream_info::FilterState::StreamSharing sharing;
    bool skip_if_empty;
    formatter::FormatterPtr formatter;
  };

  explicit SetFilterStateConfig(std::vector<Value> values) : values_(std::move(values)) {}

  const std::vector<Value> values_;
};

using SetFilterStateConfigConstSharedPtr = std::shared_ptr<const SetFilterStateConfig>;

}  // namespace waystone::extensions::common_filters::set_filter_state
