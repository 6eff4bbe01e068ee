#pragma once

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

#include "source/upstream/load_balancer/consistent_hash_table.h"

namespace waystone::upstream::lb {

// Lets the workers of one cluster share its ring or Maglev tables: the first worker to see a
// (priority set, health version) builds them, the others reuse them. Holds only the newest
// tables. The mutex is taken only when a worker's view changes (membership or health changed),
// never on an ordinary pick.
class ConsistentHashTableCache {
 public:
  // The tables for (`set_id`, `version`): cached ones, or `build()`'s result, cached when it is
  // newer than what the cache holds.
  ConsistentHashTablesConstSharedPtr getOrBuild(
      uint64_t set_id, uint64_t version,
      absl::FunctionRef<ConsistentHashTablesConstSharedPtr()> build);

  // How many times build() ran (tests check that workers share).
  uint64_t buildCount() const;

 private:
  mutable absl::Mutex mutex_;
  uint64_t set_id_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t version_ ABSL_GUARDED_BY(mutex_) = 0;
  ConsistentHashTablesConstSharedPtr tables_ ABSL_GUARDED_BY(mutex_);
  uint64_t build_count_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace waystone::upstream::lb
