#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "source/upstream/host.h"

namespace waystone::upstream::lb {

// A host and its share of a priority level's traffic; the shares of one level sum to 1.
using NormalizedHostWeights = std::vector<std::pair<HostConstSharedPtr, double>>;

// An immutable hash -> host table for one priority level (a ring or a Maglev table), shared by
// every worker's load balancer through shared_ptr<const>.
class ConsistentHashTable {
 public:
  virtual ~ConsistentHashTable() = default;

  // The host for `hash`. attempt > 0 (a retry after shouldSelectAnotherHost) moves to another
  // place in the table, deterministically, which usually means another host. nullptr only for
  // an empty table.
  virtual HostConstSharedPtr chooseHost(uint64_t hash, uint32_t attempt) const = 0;
};

using ConsistentHashTableConstSharedPtr = std::shared_ptr<const ConsistentHashTable>;
// One table per priority level; nullptr for a level with no host to serve.
using ConsistentHashTables = std::vector<ConsistentHashTableConstSharedPtr>;
using ConsistentHashTablesConstSharedPtr = std::shared_ptr<const ConsistentHashTables>;

}  // namespace waystone::upstream::lb
