#include "source/common/stream_info/filter_state.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace waystone::stream_info {

const FilterState::Entry* FilterState::find(absl::string_view name) const {
  for (const FilterState* level = this; level != nullptr; level = level->parent_.get()) {
    auto it = level->entries_.find(name);
    if (it != level->entries_.end()) {
      return &it->second;
    }
  }
  return nullptr;
}

absl::Status FilterState::setData(absl::string_view name, ObjectSharedPtr object,
                                  StateType state_type, StreamSharing sharing) {
  if (object == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("filter state \"", name, "\": no value"));
  }
  const Entry* existing = find(name);
  if (existing != nullptr && existing->state_type == StateType::ReadOnly) {
    return absl::FailedPreconditionError(
        absl::StrCat("filter state \"", name, "\" is read-only and already set"));
  }
  entries_[name] = Entry{std::string(name), std::move(object), state_type, sharing};
  return absl::OkStatus();
}

const FilterState::Object* FilterState::getData(absl::string_view name) const {
  const Entry* entry = find(name);
  return entry == nullptr ? nullptr : entry->object.get();
}

std::vector<FilterState::Entry> FilterState::objectsSharedWithUpstreamConnection() const {
  std::vector<Entry> shared;
  absl::flat_hash_set<std::string> seen;  // a nearer level hides a parent's entry of that name
  for (const FilterState* level = this; level != nullptr; level = level->parent_.get()) {
    for (const auto& [name, entry] : level->entries_) {
      if (!seen.insert(name).second || entry.sharing == StreamSharing::None) {
        continue;
      }
      Entry copy = entry;
      if (copy.sharing == StreamSharing::SharedWithUpstreamConnectionOnce) {
        copy.sharing = StreamSharing::None;
      }
      shared.push_back(std::move(copy));
    }
  }
  return shared;
}

void FilterState::addSharedFromDownstream(const std::vector<Entry>& entries) {
  for (const auto& entry : entries) {
    entries_[entry.name] = entry;
  }
}

}  // namespace waystone::stream_info
