#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace waystone::stream_info {

// Envoy's FilterState: named, typed objects that filters attach to a connection or a request so
// that later filters, the formatter (%FILTER_STATE(key)%), RBAC and the next hop can read them.
// Owned by one worker; not thread-safe.
//
// Lookups fall back to the parent: a request's filter state has its connection's as parent, so
// an HTTP filter sees what a listener filter or a network filter set on the connection.
class FilterState {
 public:
  // The value of one entry. Implementations are immutable once stored unless the entry is
  // Mutable, and then only the owner that set it replaces it (setData again), never edits it.
  class Object {
   public:
    virtual ~Object() = default;
    // The value as text: %FILTER_STATE(key:PLAIN)%, RBAC string matches, tunnel headers.
    // nullopt when the object has no text form.
    virtual std::optional<std::string> serializeAsString() const { return std::nullopt; }
    // Objects that can be hashed may partition upstream connection pools (Envoy's
    // HashableObject). nullopt when not hashable.
    virtual std::optional<uint64_t> hash() const { return std::nullopt; }
  };
  using ObjectSharedPtr = std::shared_ptr<const Object>;

  enum class StateType { ReadOnly, Mutable };

  // Whether an entry travels to the upstream connection that a request or connection opens
  // (Envoy's StreamSharingMayImpactPooling). Internal listeners receive the shared entries as
  // their downstream connection's filter state.
  enum class StreamSharing {
    None,
    // TRANSITIVE: copied to the upstream connection and on from there.
    SharedWithUpstreamConnection,
    // ONCE: copied to the upstream connection, where it is no longer shared.
    SharedWithUpstreamConnectionOnce,
  };

  struct Entry {
    std::string name;
    ObjectSharedPtr object;
    StateType state_type = StateType::ReadOnly;
    StreamSharing sharing = StreamSharing::None;
  };

  FilterState() = default;
  explicit FilterState(std::shared_ptr<FilterState> parent) : parent_(std::move(parent)) {}

  // Stores `object` under `name` in this filter state. Refused (FailedPrecondition naming the key)
  // when `name` exists here or in a parent as ReadOnly, as Envoy refuses to overwrite read-only
  // state. A Mutable entry is replaced.
  absl::Status setData(absl::string_view name, ObjectSharedPtr object, StateType state_type,
                       StreamSharing sharing = StreamSharing::None);

  // The object under `name`, here or in a parent; nullptr when absent.
  const Object* getData(absl::string_view name) const;
  template <class T>
  const T* getDataReadOnly(absl::string_view name) const {
    return dynamic_cast<const T*>(getData(name));
  }
  bool hasData(absl::string_view name) const { return getData(name) != nullptr; }

  // Entries (here and in parents, nearest first) that travel upstream, already adjusted for the
  // next hop: ONCE entries come back with sharing None.
  std::vector<Entry> objectsSharedWithUpstreamConnection() const;

  // Stores entries received from the previous hop (an internal connection's downstream side).
  void addSharedFromDownstream(const std::vector<Entry>& entries);

  const std::shared_ptr<FilterState>& parent() const { return parent_; }
  // Every entry stored in this level (not the parents), for admin/debug output.
  const absl::flat_hash_map<std::string, Entry>& entries() const { return entries_; }

 private:
  const Entry* find(absl::string_view name) const;

  std::shared_ptr<FilterState> parent_;
  absl::flat_hash_map<std::string, Entry> entries_;
};

using FilterStateSharedPtr = std::shared_ptr<FilterState>;

}  // namespace waystone::stream_info
