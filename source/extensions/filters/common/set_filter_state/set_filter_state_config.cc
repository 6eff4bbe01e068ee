#include "source/extensions/filters/common/set_filter_state/set_filter_state_config.h"

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/formatter/substitution_format_string.h"
#include "source/common/stream_info/filter_state_objects.h"

namespace waystone::extensions::common_filters::set_filter_state {

using envoy::extensions::filters::common::set_filter_state::v3::FilterStateValue;
using stream_info::FilterState;

absl::StatusOr<SetFilterStateConfigConstSharedPtr> SetFilterStateConfig::create(
    const google::protobuf::RepeatedPtrField<FilterStateValue>& values,
    const std::string& field_path) {
  std::vector<Value> parsed;
  parsed.reserve(values.size());
  for (int i = 0; i < values.size(); ++i) {
    const FilterStateValue& proto = values[i];
    const std::string item = absl::StrCat(field_path, "[", i, "]");
    Value value;
    value.key = proto.object_key();
    if (value.key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(item, ".object_key: must not be empty"));
    }
    if (proto.factory_key().empty()) {
      value.factory_key = value.key;
      if (!stream_info::hasFilterStateObjectFactory(value.factory_key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            item, ".object_key: \"", value.key,
            "\" does not have an object factory; set factory_key (e.g. envoy.string)"));
      }
    } else {
      value.factory_key = proto.factory_key();
      if (!stream_info::hasFilterStateObjectFactory(value.factory_key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            item, ".factory_key: unknown filter state object factory \"", value.factory_key, "\""));
      }
    }
    value.state_type =
        proto.read_only() ? FilterState::StateType::ReadOnly : FilterState::StateType::Mutable;
    switch (proto.shared_with_upstream()) {
      case FilterStateValue::ONCE:
        value.sharing = FilterState::StreamSharing::SharedWithUpstreamConnectionOnce;
        break;
      case FilterStateValue::TRANSITIVE:
        value.sharing = FilterState::StreamSharing::SharedWithUpstreamConnection;
        break;
      default:
        value.sharing = FilterState::StreamSharing::None;
        break;
    }
    value.skip_if_empty = proto.skip_if_empty();
    if (!proto.has_format_string()) {
      return absl::InvalidArgumentError(absl::StrCat(item, ".format_string: required"));
    }
    absl::StatusOr<formatter::FormatterPtr> formatter =
        formatter::SubstitutionFormatStringUtils::textFromProto(
            proto.format_string(), absl::StrCat(item, ".format_string"));
    if (!formatter.ok()) {
      return formatter.status();
    }
    value.formatter = std::move(*formatter);
    parsed.push_back(std::move(value));
  }
  return SetFilterStateConfigConstSharedPtr(new SetFilterStateConfig(std::move(parsed)));
}

void SetFilterStateConfig::updateFilterState(const formatter::Context& context,
                                             stream_info::StreamInfo& info,
                                             absl::string_view filter_name) const {
  if (info.filter_state == nullptr) {
    info.filter_state = std::make_shared<FilterState>();
  }
  for (const Value& value : values_) {
    const std::string text = value.formatter->format(context, info);
    if (text.empty() && value.skip_if_empty) {
      WAYSTONE_LOG(debug, filter, "%s: skip empty value for an object '%s'", filter_name,
                   value.key);
      continue;
    }
    absl::StatusOr<FilterState::ObjectSharedPtr> object =
        stream_info::createFilterStateObject(value.factory_key, text);
    if (!object.ok()) {
      WAYSTONE_LOG(debug, filter, "%s: failed to create an object '%s' from value '%s': %s",
                   filter_name, value.key, text, object.status().message());
      continue;
    }
    absl::Status status =
        info.filter_state->setData(value.key, std::move(*object), value.state_type, value.sharing);
    if (!status.ok()) {
      WAYSTONE_LOG(debug, filter, "%s: not setting '%s': %s", filter_name, value.key,
                   status.message());
      continue;
    }
    WAYSTONE_LOG(debug, filter, "%s: created the filter state '%s' from value '%s'", filter_name,
                 value.key, text);
  }
}

}  // namespace waystone::extensions::common_filters::set_filter_state
