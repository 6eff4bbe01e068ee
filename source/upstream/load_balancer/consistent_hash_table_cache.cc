#include "source/upstream/load_balancer/consistent_hash_table_cache.h"

namespace waystone::upstream::lb {

ConsistentHashTablesConstSharedPtr ConsistentHashTableCache::getOrBuild(
    uint64_t set_id, uint64_t version,
    absl::FunctionRef<ConsistentHashTablesConstSharedPtr()> build) {
  absl::MutexLock lock(&mutex_);
  if (tables_ != nullptr && set_id_ == set_id && version_ == version) {
    return tables_;
  }
  // Built under the lock so that the other workers wait for this build instead of repeating it.
  ConsistentHashTablesConstSharedPtr tables = build();
  ++build_count_;
  // A worker still on an older set or version gets its own tables without evicting newer ones.
  // Set ids grow with construction, so a larger id is a newer set.
  if (tables_ == nullptr || set_id > set_id_ || (set_id == set_id_ && version > version_)) {
    set_id_ = set_id;
    version_ = version;
    tables_ = tables;
  }
  return tables;
}

uint64_t ConsistentHashTableCache::buildCount() const {
  absl::MutexLock lock(&mutex_);
  return build_count_;
}

}  // namespace waystone::upstream::lb
